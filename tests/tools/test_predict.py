"""Predicting new files with a saved Pipeline: probabilities, unseen values, clear errors, one folder."""

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

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


def _sign_model(path: Path, labels: tuple = (0, 1)) -> Path:
    """A saved Pipeline that predicts labels[1] for x > 0, fitted on 60 rows."""
    x = pd.DataFrame({"x": np.linspace(-3, 3, 60)})
    y = np.where(x["x"] > 0, labels[1], labels[0])
    joblib.dump(make_pipeline(SimpleImputer(), LogisticRegression()).fit(x, y), path)
    return path


def _as_text(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_predictions_repeat_the_input_cells_as_written(tmp_path):
    lines = ["code,x,note,extra", "007,1,?,", '008,-2.50,,"a, b"', '009,3,"q, r",7']
    lines += [f"{i:03d},{(-1) ** i * i},n,{i}" for i in range(10, 20)]
    data = tmp_path / "new.csv"
    data.write_text("\n".join(lines) + "\n")
    info = predict(_sign_model(tmp_path / "m.joblib"), data, tmp_path / "workspace")
    written = _as_text(info["path"])
    assert list(written.columns) == ["code", "x", "note", "extra", "prediction", "proba_0", "proba_1"]
    assert written.iloc[0, :4].tolist() == ["007", "1", "?", ""]
    assert written.iloc[1, :4].tolist() == ["008", "-2.50", "", "a, b"]
    assert written.iloc[2, :4].tolist() == ["009", "3", "q, r", "7"]
    assert written["prediction"].tolist()[:3] == ["1", "0", "1"]


def test_skipped_lines_leave_cells_and_predictions_in_line(tmp_path):
    rows = [f"r{i},{(-1) ** i * (i % 7 + 1)}" for i in range(150)]
    rows[40] += ",one too many"
    rows.insert(90, ",")  # a row without any value
    data = tmp_path / "new.csv"
    data.write_text("id,x\n" + "\n".join(rows) + "\n")
    info = predict(_sign_model(tmp_path / "m.joblib"), data, tmp_path / "workspace")
    written = _as_text(info["path"])
    assert info["rows"] == len(written) == 149 and "r40" not in set(written["id"])
    assert "skipped 1 line with more than 2 fields (line 42)" in info["notes"]
    expected = (written["x"].astype(float) > 0).astype(int).astype(str)
    assert written["prediction"].tolist() == expected.tolist()  # each prediction sits on its own row


def test_whole_number_class_labels_are_written_without_a_decimal_point(tmp_path):
    model = _sign_model(tmp_path / "m.joblib", labels=(0.0, 1.0))  # e.g. a model fitted on a float target
    data = tmp_path / "new.csv"
    data.write_text("x\n" + "\n".join(str(v) for v in (-2, -1, 1, 2)) + "\n")
    written = _as_text(predict(model, data, tmp_path / "workspace")["path"])
    assert written["prediction"].tolist() == ["0", "0", "1", "1"]
    assert list(written.columns) == ["x", "prediction", "proba_0", "proba_1"]
