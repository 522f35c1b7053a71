"""Predicting new files with a saved Pipeline: probabilities, unseen values, clear errors, one folder."""

from pathlib import Path

import pandas as pd
import pytest

from tools.errors import ArtifactError, DataError
from tools.loading import load_dataset
from tools.predict import predict
from tools.training import train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def titanic_model(tmp_path_factory) -> str:
    frame = load_dataset(SAMPLES / "titanic.csv").frame
    out = tmp_path_factory.mktemp("model")
    return train(frame, "survived", "hist_gradient_boosting", out_dir=out, record_id="hgb")["artifact"]


@pytest.fixture
def new_passengers(tmp_path) -> Path:
    rows = pd.read_csv(SAMPLES / "titanic.csv").head(20).drop(columns=["survived"])
    rows.loc[0, "embarked"] = "X"  # a port never seen in training
    rows.loc[1, "sex"] = "unknown"
    rows["extra"] = "ignored"
    path = tmp_path / "new.csv"
    rows.to_csv(path, index=False)
    return path


def test_predictions_csv_has_inputs_prediction_and_probabilities(titanic_model, new_passengers, tmp_path):
    out = tmp_path / "workspace"
    info = predict(titanic_model, new_passengers, out)
    assert info["path"] == str(out / "predictions.csv") and info["rows"] == 20
    written = pd.read_csv(info["path"])
    assert list(written.columns) == info["columns"]
    assert {"name", "extra", "prediction", "proba_0", "proba_1"} <= set(written.columns)
    assert set(written["prediction"]) <= {0, 1}
    assert ((written["proba_0"] + written["proba_1"]).round(4) == 1).all()
    assert sorted(p.name for p in out.iterdir()) == ["predictions.csv"]


def test_missing_feature_columns_are_named(titanic_model, new_passengers, tmp_path):
    frame = pd.read_csv(new_passengers).drop(columns=["sex", "age"])
    path = tmp_path / "partial.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="sex, age|age, sex"):
        predict(titanic_model, path, tmp_path / "workspace")
    assert not (tmp_path / "workspace" / "predictions.csv").exists()


def test_missing_model_is_an_artifact_error(new_passengers, tmp_path):
    with pytest.raises(ArtifactError, match="train a model"):
        predict(tmp_path / "nothing.joblib", new_passengers, tmp_path)


def test_a_single_new_row_is_enough_to_predict(titanic_model, new_passengers, tmp_path):
    one = tmp_path / "one.csv"
    pd.read_csv(new_passengers).head(1).to_csv(one, index=False)
    assert predict(titanic_model, one, tmp_path / "workspace")["rows"] == 1
