"""Training on the real sample files: honest test-split metrics, a fixed split, artifacts and plots."""

import math
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from tools import preprocess
from tools.errors import ColumnError, ModelError
from tools.experiments import best, ranked_by
from tools.keys import metrics_for
from tools.loading import load_dataset
from tools.metrics import is_better, score
from tools.training import CV_BELOW_ROWS, Trainer, fit_and_save, prepare, selection_cv, split, train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def titanic_record(titanic, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("titanic")
    return train(titanic, "survived", "logistic_regression", out_dir=out, record_id="lr")


def test_titanic_without_leaks_scores_in_the_honest_band(titanic_record):
    accuracy = titanic_record["metrics"]["accuracy"]
    assert accuracy < 0.95, "accuracy this high on titanic means boat/body leaked into the model"
    assert 0.75 <= accuracy <= 0.88
    assert set(titanic_record["metrics"]) == set(metrics_for("classification"))
    assert any("'boat'" in note and "'body'" in note for note in titanic_record["notes"])
    assert any(note.startswith("task: classification") for note in titanic_record["notes"])


def test_the_leak_guard_would_catch_boat_and_body(titanic, tmp_path):
    data = prepare(titanic, "survived")
    data.roles.update(boat="categorical", body="numeric")
    preprocessor, _ = preprocess.build_preprocessor(data.X_train, "survived", data.roles)
    leaky = fit_and_save(data, preprocessor, ("logistic_regression", None), out_dir=tmp_path,
                         record_id="leak")
    assert leaky["metrics"]["accuracy"] >= 0.95


def test_record_fields_artifact_and_plots(titanic_record):
    record = titanic_record
    assert {"model", "task", "params", "metrics", "cv", "seconds", "device", "artifact", "plots", "notes",
            "n_train", "n_test"} <= set(record)
    assert record["model"] == "logistic_regression" and record["device"] in ("cpu", "gpu")
    assert record["params"]["C"] == 1.0
    assert record["cv"]["folds"] == 5 and record["cv"]["metric"] == "accuracy"  # small data: CV too
    assert set(record["cv"]["means"]) == set(metrics_for("classification"))
    assert Path(record["artifact"]).name == "model-lr.joblib" and Path(record["artifact"]).is_file()
    assert set(record["plots"]) == {"confusion_matrix", "roc", "feature_importance"}
    assert all(Path(png).is_file() and Path(png).parent.name == "plots" for png in record["plots"].values())


def test_metrics_are_measured_on_the_fixed_test_rows_only(titanic, titanic_record):
    train_idx, test_idx = split(titanic, "survived", "classification")
    again = split(titanic, "survived", "classification")
    assert np.array_equal(train_idx, again[0]) and np.array_equal(test_idx, again[1])
    assert not set(train_idx) & set(test_idx)
    assert titanic_record["n_test"] == len(test_idx) == math.ceil(0.2 * len(titanic))
    assert titanic_record["n_train"] == len(train_idx)
    pipeline = joblib.load(titanic_record["artifact"])
    test_rows = titanic.iloc[test_idx]
    accuracy = accuracy_score(test_rows["survived"].astype(int), pipeline.predict(test_rows))
    assert accuracy == pytest.approx(titanic_record["metrics"]["accuracy"], abs=1e-6)


def test_every_model_sees_the_same_split_and_cv_runs_on_training_rows(titanic, titanic_record, tmp_path):
    linear = train(titanic, "survived", "linear_svc", cv_folds=3, out_dir=tmp_path, record_id="svc")
    assert (linear["n_train"], linear["n_test"]) == (titanic_record["n_train"], titanic_record["n_test"])
    assert linear["cv"]["folds"] == 3 and linear["cv"]["metric"] == "accuracy"
    assert 0.7 < linear["cv"]["mean"] < 0.9


def test_row_cap_subsamples_training_rows_with_a_note(titanic, tmp_path):
    record = train(titanic, "survived", "svc", max_rows=300, out_dir=tmp_path, record_id="svc")
    assert record["n_train"] == 300 and record["n_test"] == math.ceil(0.2 * len(titanic))
    assert any("300 of the" in note for note in record["notes"])


def test_adult_roc_auc(tmp_path):
    frame = load_dataset(SAMPLES / "adult.csv.gz").frame
    record = train(frame, "income", "hist_gradient_boosting", out_dir=tmp_path, record_id="hgb")
    assert record["metrics"]["roc_auc"] >= 0.90


def test_ames_regression_r2(tmp_path):
    frame = load_dataset(SAMPLES / "ames_housing.csv.gz").frame
    record = train(frame, "SalePrice", "hist_gradient_boosting", out_dir=tmp_path, record_id="hgb")
    assert record["task"] == "regression" and record["metrics"]["r2"] >= 0.85
    assert set(record["metrics"]) == {"r2", "rmse", "mae"}
    assert set(record["plots"]) == {"pred_vs_actual", "residuals", "feature_importance"}


def test_penguins_multiclass(tmp_path):
    frame = load_dataset(SAMPLES / "penguins.csv").frame
    record = train(frame, "species", "logistic_regression", out_dir=tmp_path, record_id="lr")
    assert record["metrics"]["accuracy"] >= 0.95
    assert record["metrics"]["roc_auc"] >= 0.95 and record["metrics"]["log_loss"] < 0.3


def test_bad_requests_raise_typed_errors(titanic, tmp_path):
    with pytest.raises(ModelError, match="Models for classification"):
        train(titanic, "survived", "ridge", out_dir=tmp_path, record_id="x")
    with pytest.raises(ColumnError, match="not numeric"):
        train(titanic, "name", "ridge", task="regression", out_dir=tmp_path, record_id="x")
    with pytest.raises(ColumnError):
        train(titanic, "no_such_column", "ridge", out_dir=tmp_path, record_id="x")


def test_score_and_direction():
    y = np.array(["a", "b", "b", "a", "c", "c"])
    proba = np.array([[.8, .1, .1], [.1, .8, .1], [.2, .6, .2], [.5, .3, .2], [.1, .1, .8], [.3, .3, .4]])
    values = score("classification", y, np.array(["a", "b", "b", "a", "c", "c"]), proba, ["a", "b", "c"])
    assert values["accuracy"] == 1.0 and values["roc_auc"] == 1.0 and 0 < values["log_loss"] < 0.6
    without = score("classification", y, y, None, ["a", "b", "c"])
    assert "roc_auc" not in without and "log_loss" not in without
    regression = score("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert regression["rmse"] == pytest.approx(math.sqrt(1 / 3), abs=1e-6)
    assert regression["mae"] == pytest.approx(1 / 3, abs=1e-6)
    assert is_better("accuracy", 0.9, 0.8) and not is_better("accuracy", 0.8, 0.9)
    assert is_better("rmse", 1.0, 2.0) and is_better("log_loss", 0.2, 0.3) and not is_better("mae", 3.0, 2.0)


def test_split_and_row_cap_keep_each_class_share(titanic, tmp_path):
    y = titanic["survived"].astype(int).to_numpy()
    train_idx, test_idx = split(titanic, "survived", "classification")
    for part in (train_idx, test_idx):
        assert abs(y[part].mean() - y.mean()) < 0.005
    trainer = Trainer(titanic, "survived")
    record = trainer.train("logistic_regression", max_rows=400, out_dir=tmp_path, record_id="cap",
                           plots=False)
    assert record["n_train"] == 400 and record["plots"] == {}
    assert Trainer(titanic, "survived").draw_plots("cap") == ({}, None), "another step's trainer has none"
    plots, note = trainer.draw_plots("cap")
    assert set(plots) == {"confusion_matrix", "roc", "feature_importance"} and note.startswith("feature")
    assert all(Path(png).is_file() for png in plots.values())
    assert trainer.draw_plots("cap") == ({}, None), "drawn once, then forgotten"


def test_boosting_splits_on_native_categories_and_saves_a_pipeline_that_predicts(titanic, tmp_path):
    record = train(titanic, "survived", "hist_gradient_boosting", out_dir=tmp_path, record_id="hgb")
    pipeline = joblib.load(record["artifact"])
    model = pipeline.named_steps["model"]
    assert model.is_categorical_ is not None and model.is_categorical_.sum() >= 2  # sex, embarked, …
    assert 0.75 <= record["metrics"]["accuracy"] <= 0.9
    assert len(pipeline.predict(titanic.head(5))) == 5


@pytest.mark.parametrize("key", ["svc", "linear_svc"])
def test_margin_classifiers_give_calibrated_probabilities(titanic, tmp_path, key):
    record = train(titanic, "survived", key, out_dir=tmp_path, record_id=key, cv_folds=0)
    pipeline = joblib.load(record["artifact"])
    proba = pipeline.predict_proba(titanic.head(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1) and 0 < proba.min() < proba.max() < 1
    assert record["metrics"]["log_loss"] < 0.6 and record["metrics"]["accuracy"] > 0.75
    assert (pipeline.predict(titanic.head(50)) == pipeline.classes_[proba.argmax(axis=1)]).all()


def test_small_data_ranks_models_by_repeated_cross_validation(tmp_path):
    penguins = load_dataset(SAMPLES / "penguins.csv").frame  # 342 labelled rows: ×2 repeats
    trainer = Trainer(penguins, "body_mass_g")
    records = [trainer.train(key, out_dir=tmp_path, record_id=key, plots=False) | {"dataset": {"sha256": "p"}}
               for key in ("ridge", "hist_gradient_boosting", "svr")]
    assert selection_cv(len(trainer.data.y_train)) == (5, 2) and selection_cv(CV_BELOW_ROWS) is None
    assert all(r["cv"]["repeats"] == 2 and {"r2", "rmse", "mae"} == set(r["cv"]["means"]) for r in records)
    assert ranked_by(records, "r2") == "cv"
    assert best(records, "r2") is max(records, key=lambda r: r["cv"]["means"]["r2"])
    assert best(records, "rmse") is min(records, key=lambda r: r["cv"]["means"]["rmse"])
