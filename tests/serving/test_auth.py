"""API keys per project; without keys the gateway answers this machine (loopback) only."""

import httpx
import pytest

from serving.config import load_settings
from tests.serving import bodies
from tests.serving.conftest import Gateway, copy_home, outside_address
from tools.errors import DataError

KEY = "k-credit-0123"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, served_home):
    """A gateway whose config.toml gives project credit a key (census and penguins have none)."""
    home = copy_home(served_home, tmp_path_factory.mktemp("keyed") / "home")
    (home / "config.toml").write_text(f'[serving.api_keys]\ncredit = "{KEY}"\n')
    server = Gateway(home, host="0.0.0.0")
    yield server
    assert server.stop() == 0, server.log()


@pytest.fixture(scope="module")
def row(models) -> bytes:
    return bodies.split(models["numbers"][1].drop(columns="survived").iloc[:1])


def _post(url: str, path: str, body: bytes, key: str | None = None) -> httpx.Response:
    headers = bodies.JSON | ({"authorization": f"Bearer {key}"} if key else {})
    return httpx.post(f"{url}/v1/{path}/predict", content=body, headers=headers)


@pytest.mark.parametrize(("authorization", "words"), [
    (None, "needs an API key"), (f"Basic {KEY}", "needs an API key"),
    ("Bearer wrong", "not valid for project credit"), (f"Bearer {KEY}x", "not valid for project credit")])
def test_a_project_with_a_key_refuses_requests_without_it(keyed, row, authorization, words):
    headers = bodies.JSON | ({"authorization": authorization} if authorization else {})
    response = httpx.post(f"{keyed.url}/v1/credit/risk/predict", content=row, headers=headers)
    assert response.status_code == 401
    assert words in response.json()["error"] and response.headers["www-authenticate"] == "Bearer"


def test_the_right_key_is_served(keyed, row):
    response = _post(keyed.url, "credit/risk", row, KEY)
    assert response.status_code == 200 and response.json()["version"] in (1, 2)
    assert _post(keyed.url, "credit/risk/3", row, KEY).status_code == 200


def test_models_lists_only_the_projects_a_client_may_use(keyed):
    names = {m["name"] for m in httpx.get(f"{keyed.url}/v1/models").json()}  # loopback, no key
    assert names == {"census/income", "penguins/mass"}
    keyed_names = {m["name"] for m in httpx.get(f"{keyed.url}/v1/models",
                                                headers={"authorization": f"Bearer {KEY}"}).json()}
    assert {"credit/risk", "credit/switch", "census/income"} <= keyed_names


def test_from_another_machine_keys_are_needed(keyed, gateway, row):
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    outside = f"http://{address}:{keyed.port}"
    assert _post(outside, "credit/risk", row, KEY).status_code == 200
    refused = _post(outside, "census/income", row)
    assert refused.status_code == 401 and "loopback" in refused.json()["error"]
    assert httpx.get(f"{outside}/v1/models").status_code == 401
    listed = httpx.get(f"{outside}/v1/models", headers={"authorization": f"Bearer {KEY}"}).json()
    assert {m["name"].split("/")[0] for m in listed} == {"credit"}
    assert httpx.get(f"{outside}/metrics").status_code == 200  # keys configured: operations are open

    open_gateway = f"http://{address}:{gateway.port}"  # no keys at all: loopback only, except /health
    for method, path in (("POST", "/v1/census/income/predict"), ("GET", "/v1/models"), ("GET", "/metrics"),
                         ("GET", "/ready")):
        response = httpx.request(method, f"{open_gateway}{path}", content=row, headers=bodies.JSON)
        assert response.status_code == 401 and "configure keys" in response.json()["error"], path
    assert httpx.get(f"{open_gateway}/health").status_code == 200


def test_keys_come_from_config_or_the_environment(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('[serving]\nmax_rows = 500\napi_keys = {Credit = "k1"}\n')
    assert (load_settings(tmp_path).api_keys, load_settings(tmp_path).max_rows) == ({"credit": "k1"}, 500)
    monkeypatch.setenv("DSGRAPH_API_KEYS", "credit=k2, fraud=k3")
    monkeypatch.setenv("DSGRAPH_MAX_ROWS", "7")
    assert (load_settings(tmp_path).api_keys, load_settings(tmp_path).max_rows) == \
        ({"credit": "k2", "fraud": "k3"}, 7)
    for variable, value, words in (("DSGRAPH_API_KEYS", "credit", "project=key"),
                                   ("DSGRAPH_MAX_ROWS", "many", "whole number")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(DataError, match=words):
            load_settings(tmp_path)
        monkeypatch.setenv(variable, {"DSGRAPH_API_KEYS": "credit=k2", "DSGRAPH_MAX_ROWS": "7"}[variable])
