"""Every bad request gets its status and a JSON message that says what is wrong; never a 500."""

import orjson
import pytest

from tests.serving.conftest import register
from tools.request_log import RequestLog

ROW = {"pclass": 3, "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25}  # credit/risk: titanic's numbers
FULL = ROW | {"sex": "male", "embarked": "S", "cabin": None, "home.dest": "Oslo"}  # credit/switch: all
RAGGED = {"dataframe_split": {"columns": ["pclass", "age"], "data": [[3, 22], [1]]}}
CASES = [  # path, body, content type, status, words the message must contain
    ("credit/risk", b"{not json", "application/json", 400, "not valid JSON"),
    ("credit/risk", b'{"rows": []}', "application/json", 400, "exactly one of dataframe_records"),
    ("credit/risk", b'[{"pclass": 3}]', "application/json", 400, "exactly one of dataframe_records"),
    ("credit/risk", b'{"dataframe_records": [], "dataframe_split": {}}', "application/json", 400,
     "exactly one"),
    ("credit/risk", orjson.dumps(RAGGED), "application/json", 400, "a list of 2 values"),
    ("credit/risk", b'{"dataframe_records": {"pclass": 3}}', "application/json", 400, "list of {column"),
    ("credit/risk", b'{"dataframe_records": []}', "application/json", 400, "no rows"),
    ("credit/risk", b'{"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}', "application/json",
     400, "more than once"),
    ("credit/risk", b"", "text/csv", 400, "CSV body cannot be read"),
    ("credit/risk", b'pclass,sex\n3,male\n1,female,9,9\n', "text/csv", 400, "CSV body cannot be read"),
    ("credit/risk", b"pclass,sex\n", "text/csv", 400, "no rows"),
    ("credit/nope", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 404, "credit/risk"),
    ("credit/idle", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 404,
     "no live version"),
    ("credit/risk/9", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 404, "1, 2, 3"),
    ("credit/risk/latest", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 404, "1, 2, 3"),
    ("Credit!/risk", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 404, "PROJECT/MODEL"),
    ("credit/risk", orjson.dumps({"dataframe_split": {"columns": ["x"], "data": [[1]] * 20_001}}),
     "application/json", 413, "more than 20,000 rows"),
    ("credit/risk", b"x\n" + b"1\n" * 20_001, "text/csv", 413, "more than 20,000 rows"),
    ("credit/risk", orjson.dumps({"dataframe_records": [{"pclass": 3}]}), "application/json", 422, "`age`"),
    ("credit/risk", orjson.dumps({"dataframe_records": [ROW | {"age": "old"}]}), "application/json", 422,
     "`age` holds numbers, but 'old'"),
    ("credit/risk", orjson.dumps({"dataframe_records": [ROW | {"fare": [1, 2]}]}), "application/json", 422,
     "`fare` holds numbers"),
    ("credit/switch/1", orjson.dumps({"dataframe_records": [FULL | {"sex": {"is": "male"}}]}),
     "application/json", 422, "`sex` holds a list or an object"),
    ("credit/risk", b"pclass,sex,age,sibsp,parch,fare,embarked\n3,male,n/a,1,0,cheap,S\n", "text/csv", 422,
     "`fare` holds numbers, but 'cheap'"),
    ("credit/broken/1", orjson.dumps({"dataframe_records": [ROW]}), "application/json", 503,
     "could not be loaded"),
]


@pytest.fixture(scope="module", autouse=True)
def idle_and_broken(served_home, models):
    """credit/idle: registered, never deployed; credit/broken: registered, its model file damaged since."""
    register(served_home, "credit/idle", models["numbers"])
    register(served_home, "credit/broken", models["numbers"])
    (served_home / "registry" / "credit" / "broken" / "1" / "model.pkl").write_bytes(b"not a pickle")


@pytest.mark.parametrize(("path", "body", "content_type", "status", "words"), CASES,
                         ids=[f"{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_request_gets_its_status_and_a_message(client, path, body, content_type, status, words):
    response = client.post(f"/v1/{path}/predict", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"], response.json()


def test_wrong_routes_and_methods_answer_json(client):
    for method, path, status in (("GET", "/v1/credit/risk/predict", 405), ("POST", "/v2/anything", 404),
                                 ("GET", "/v1/credit/predict", 404)):
        response = client.request(method, path)
        assert response.status_code == status
        assert "/docs" in response.json()["error"]


def test_failed_requests_are_logged_with_their_status(client, served_home):
    before = {row["version"]: row["errors"] for row in RequestLog(served_home).summary("credit/risk")}
    client.post("/v1/credit/risk/predict", json={"dataframe_records": [{"pclass": 3}]})
    client.post("/v1/credit/risk/7/predict", json={"dataframe_records": [ROW]})
    entries = [e for e in RequestLog(served_home).recent("credit/risk", limit=20) if not e["mirrored"]][:2]
    assert [(e["status"], e["mirrored"]) for e in entries] == [(404, False), (422, False)]
    assert entries[1]["version"] in (1, 2) and entries[1]["inputs"] == [{"pclass": 3}]
    after = {row["version"]: row["errors"] for row in RequestLog(served_home).summary("credit/risk")}
    assert sum(after.values()) == sum(before.values()) + 2
