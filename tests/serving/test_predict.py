"""Predictions over HTTP are exactly the registered pipeline's own, in every body shape."""

import numpy as np
import pytest

from tests.serving import bodies
from tools.model_registry import ModelRegistry


def test_a_batch_of_10000_rows_equals_in_process_predict(client, served_home, models):
    frame = models["adult"][1].drop(columns="income").iloc[:10_000]
    pipeline = ModelRegistry(served_home).load("census/income", 1)
    response = client.post("/v1/census/income/predict", content=bodies.split(frame),
                           headers=bodies.JSON)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["predictions"] == pipeline.predict(frame).tolist()
    np.testing.assert_array_equal(np.array(answer["probabilities"]), pipeline.predict_proba(frame))
    assert answer["classes"] == pipeline.classes_.tolist()
    assert (answer["model"], answer["version"]) == ("census/income", 1)
    assert response.headers["x-model-version"] == "1"


@pytest.mark.parametrize("shape", ["records", "csv"])
def test_records_and_csv_bodies_give_the_same_answers(client, served_home, models, shape):
    frame = models["adult"][1].drop(columns="income").iloc[10_000:11_000]
    pipeline = ModelRegistry(served_home).load("census/income", 1)
    headers = bodies.CSV if shape == "csv" else bodies.JSON
    content = getattr(bodies, shape)(frame)
    response = client.post("/v1/census/income/predict", content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == pipeline.predict(frame).tolist()
    np.testing.assert_array_equal(np.array(response.json()["probabilities"]), pipeline.predict_proba(frame))


def test_a_regression_model_answers_numbers_without_probabilities(client, served_home, models):
    frame = models["penguins"][1].drop(columns="body_mass_g")
    pipeline = ModelRegistry(served_home).load("penguins/mass", 1)
    response = client.post("/v1/penguins/mass/predict", content=bodies.records(frame), headers=bodies.JSON)
    answer = response.json()
    np.testing.assert_array_equal(answer["predictions"], pipeline.predict(frame))
    assert "probabilities" not in answer and answer["version"] == 1


def test_a_pinned_version_answers_even_when_not_deployed(client, models):
    for path, version, trained in (("credit/switch/2", 2, "titanic"), ("credit/risk/3", 3, "numbers"),
                                   ("credit/risk/1", 1, "numbers")):
        frame = models[trained][1].drop(columns="survived").iloc[:5]
        response = client.post(f"/v1/{path}/predict", content=bodies.split(frame), headers=bodies.JSON)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == version and response.headers["x-model-version"] == str(version)


def test_cells_are_read_as_the_training_file_was(client, served_home):
    """Extra columns are ignored, numbers may come as text, spaces and missing-value markers are cleaned."""
    row = {"pclass": "3", "sex": " male ", "age": "?", "sibsp": 0, "parch": 0, "fare": 7.25,
           "embarked": "S", "name": "X", "ticket": "1", "cabin": None, "boat": None, "body": None,
           "home.dest": None, "extra": 1}
    clean = row | {"pclass": 3.0, "sex": "male", "age": None}
    answers = [client.post("/v1/credit/switch/1/predict", json={"dataframe_records": [cells]}).json()
               for cells in (row, clean)]
    assert answers[0]["probabilities"] == answers[1]["probabilities"]


def test_the_api_is_documented(client):
    schema = client.get("/openapi.json").json()
    predict = schema["paths"]["/v1/{project}/{model}/predict"]["post"]
    assert set(predict["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert {"200", "400", "401", "404", "413", "422"} <= set(predict["responses"])
    assert {"/v1/models", "/health", "/ready", "/metrics", "/v1/{project}/{model}/{version}/predict"} \
        <= set(schema["paths"])
    assert client.get("/docs").status_code == 200
