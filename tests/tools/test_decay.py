"""Model decay on labelled new data: stable on held-out rows, decayed on flipped labels, honest intervals."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLES
from tools.decay import BOOT_ROWS, evaluate
from tools.errors import ColumnError
from tools.loading import load_dataset
from tools.predict import load_model
from tools.training import train


def _trained(frame: pd.DataFrame, target: str, key: str, folder, share: float = 0.75):
    """A model trained on a seeded `share` of `frame`; its pipeline, training metrics and the other rows."""
    kept = np.random.default_rng(1).random(len(frame)) < share
    fields = train(frame[kept].reset_index(drop=True), target, key, out_dir=folder, record_id=key,
                   plots=False, cv_folds=0)
    return load_model(fields["artifact"]), fields["metrics"], frame[~kept].reset_index(drop=True)


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    frame = load_dataset(SAMPLES / "adult.csv.gz").frame
    return _trained(frame, "income", "hist_gradient_boosting", tmp_path_factory.mktemp("adult"))


def test_held_out_rows_of_the_training_table_are_stable(adult):
    pipeline, then, new = adult
    result = evaluate(pipeline, new, "income", "classification", then)
    assert (result["verdict"], result["metric"], result["rows"]) == ("stable", "accuracy", len(new))
    accuracy = result["changes"]["accuracy"]
    assert accuracy["ci_low"] <= then["accuracy"] <= accuracy["ci_high"] and not accuracy["beyond_noise"]
    assert accuracy["now"] == result["metrics"]["accuracy"]
    assert accuracy["change"] == pytest.approx(accuracy["now"] - accuracy["then"], abs=1e-6)
    assert set(result["changes"]) == set(then)  # roc_auc and log_loss too: the model has probabilities
    assert (result["unlabelled_rows"], result["notes"]) == (0, [])
    json.dumps(result, allow_nan=False)


def test_labels_flipped_on_30_percent_of_rows_are_decay_beyond_noise(adult):
    pipeline, then, new = adult
    flipped = np.random.default_rng(2).random(len(new)) < 0.3
    income = new["income"].where(~flipped, new["income"].map({">50K": "<=50K", "<=50K": ">50K"}))
    result = evaluate(pipeline, new.assign(income=income), "income", "classification", then)
    accuracy = result["changes"]["accuracy"]
    assert result["verdict"] == "decayed" and accuracy["beyond_noise"]
    assert accuracy["ci_high"] < then["accuracy"] - 0.1 and accuracy["change"] < -0.15


def test_rows_without_a_target_are_left_out_and_counted(adult):
    pipeline, then, new = adult
    income = new["income"].copy()
    income.iloc[:123] = np.nan
    result = evaluate(pipeline, new.assign(income=income), "income", "classification", then)
    assert (result["rows"], result["unlabelled_rows"]) == (len(new) - 123, 123)
    assert result["notes"] == ["left out 123 rows without a value of 'income'"]


def test_a_missing_target_or_input_column_is_named(adult):
    pipeline, then, new = adult
    with pytest.raises(ColumnError, match="no 'income' column"):
        evaluate(pipeline, new.drop(columns="income"), "income", "classification", then)
    with pytest.raises(ColumnError, match="input column.*age, education"):
        evaluate(pipeline, new.drop(columns=["age", "education"]), "income", "classification", then)


def test_the_bootstrap_is_seeded(adult):
    pipeline, then, new = adult
    rows = new.iloc[:2000]
    first, again = (evaluate(pipeline, rows, "income", "classification", then, n_boot=50, seed=3)
                    for _ in range(2))
    other = evaluate(pipeline, rows, "income", "classification", then, n_boot=50, seed=4)
    assert first == again and first["changes"] != other["changes"]


def _noisy_labels(rows: int, seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2)).astype(np.float32)
    label = (x[:, 0] + x[:, 1] > 0).astype(int)
    flipped = rng.random(rows) < noise
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": np.where(flipped, 1 - label, label)})


def test_cleaner_labels_are_an_improvement(tmp_path):
    fields = train(_noisy_labels(4000, 0, 0.2), "label", "logistic_regression", out_dir=tmp_path,
                   record_id="lr", plots=False, cv_folds=0)
    result = evaluate(load_model(fields["artifact"]), _noisy_labels(4000, 1, 0.0), "label",
                      "classification", fields["metrics"])
    assert result["verdict"] == "improved" and result["changes"]["accuracy"]["now"] > 0.95


def test_past_the_bootstrap_rows_the_interval_narrows_as_one_over_root_n(tmp_path):
    """Above BOOT_ROWS rows each resample draws BOOT_ROWS rows; the interval must still be the full data's."""
    fields = train(_noisy_labels(4000, 0, 0.2), "label", "logistic_regression", out_dir=tmp_path,
                   record_id="lr", plots=False, cv_folds=0)
    rows = 8 * BOOT_ROWS
    result = evaluate(load_model(fields["artifact"]), _noisy_labels(rows, 2, 0.2), "label", "classification",
                      fields["metrics"])
    accuracy = result["changes"]["accuracy"]
    binomial = 2 * 1.96 * np.sqrt(accuracy["now"] * (1 - accuracy["now"]) / rows)
    assert accuracy["ci_high"] - accuracy["ci_low"] == pytest.approx(binomial, rel=0.25)
    assert accuracy["ci_low"] < accuracy["now"] < accuracy["ci_high"]


def test_a_regressor_on_held_out_and_on_inflated_prices(tmp_path):
    frame = load_dataset(SAMPLES / "diamonds.csv.gz").frame
    pipeline, then, new = _trained(frame, "price", "ridge", tmp_path)
    stable = evaluate(pipeline, new, "price", "regression", then)
    assert (stable["verdict"], stable["metric"]) == ("stable", "r2")
    assert set(stable["changes"]) == {"r2", "rmse", "mae"}
    inflated = evaluate(pipeline, new.assign(price=new["price"] * 1.5), "price", "regression", then)
    assert inflated["verdict"] == "decayed" and inflated["changes"]["rmse"]["change"] > 0
