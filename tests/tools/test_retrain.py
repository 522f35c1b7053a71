"""Retraining: the recipe retrained on new rows beats a stale champion on fresh rows, and not an iid one."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLES
from tools.errors import ColumnError, DataError
from tools.experiments import make_record
from tools.loading import load_dataset
from tools.model_registry import ModelRegistry
from tools.predict import load_model
from tools.retrain import retrain
from tools.training import train

FIELDS = {"model", "task", "params", "metrics", "cv", "seconds", "device", "artifact", "plots", "notes",
          "n_train", "n_test"}


def _shop(rows: int, seed: int, start: str, flipped: bool) -> pd.DataFrame:
    """Orders from `start` on (180 days): whether a customer buys again. `flipped`: after a pricing change the
    effect of `discount` turned around. `coupon_used` copies the answer 97% of the time (a leak)."""
    rng = np.random.default_rng(seed)
    discount, visits = rng.normal(size=rows), rng.normal(size=rows)
    segment = rng.choice(["retail", "trade", "online"], rows)
    logit = (-2 if flipped else 2) * discount + 0.7 * visits + np.where(segment == "trade", 0.5, 0.0)
    again = np.where(logit + 0.5 * rng.logistic(size=rows) > 0, "yes", "no")
    return pd.DataFrame({
        "ordered_at": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 180 * 86400, rows), "s"),
        "discount": discount.astype(np.float32), "visits": visits.astype(np.float32),
        "segment": pd.Series(segment, dtype="str"),
        "coupon_used": pd.Series(np.where(rng.random(rows) < 0.97, again, "no"), dtype="str"),
        "again": pd.Series(again, dtype="str")})


def _register(home: Path, name: str, frame: pd.DataFrame, target: str, key: str,
              excluded: list[str]) -> tuple[dict, object]:
    """Train `key` on `frame` less `excluded`, register it as `name`: the version's metadata and pipeline."""
    training = frame.drop(columns=excluded)
    fields = train(training, target, key, out_dir=home / "workspace", record_id=f"{key}-1", plots=False,
                   cv_folds=0)
    dataset = {"path": "orders.csv", "sha256": "", "rows": len(training), "target": target}
    record = make_record(id=f"{key}-1", thread_id="t", node="trainer", model=key, task=fields["task"],
                         params=fields["params"], metrics=fields["metrics"], cv=fields["cv"], n_trials=None,
                         seconds=fields["seconds"], device=fields["device"],
                         dataset=dataset | ({"excluded": excluded} if excluded else {}),
                         artifact=fields["artifact"])
    registry = ModelRegistry(home)
    registry.register(name, record, training)
    return registry.get(name), registry.load(name)


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> tuple[dict, object, pd.DataFrame]:
    """Histogram boosting on the first half-year of orders, `coupon_used` excluded as a leak."""
    old = _shop(4000, 0, "2024-01-01", flipped=False)
    meta, pipeline = _register(tmp_path_factory.mktemp("home"), "shop/again", old, "again",
                               "hist_gradient_boosting", ["coupon_used"])
    return meta, pipeline, old


def test_after_the_relation_changed_the_challenger_is_promoted(champion, tmp_path):
    meta, pipeline, _ = champion
    new = _shop(3000, 1, "2024-07-01", flipped=True)
    result = retrain(meta, pipeline, new, out_dir=tmp_path, record_id="challenger")
    assert (result["metric"], result["recommendation"]) == ("accuracy", "promote")
    assert result["holdout_rows"] == 900
    champion_value, challenger_value = result["champion"]["value"], result["challenger"]["value"]
    assert challenger_value > 0.8 > 0.4 > champion_value
    assert f"{challenger_value:.4f}" in result["reason"] and f"{champion_value:.4f}" in result["reason"]
    assert result["gain"]["ci_low"] > 0 and result["gain"]["value"] == pytest.approx(
        challenger_value - champion_value, abs=1e-6)
    assert result["champion"]["version"] == 1 and result["champion"]["metrics"]["accuracy"] == champion_value
    fields = result["challenger"]["fields"]
    assert FIELDS <= set(fields) and fields["model"] == "hist_gradient_boosting"
    assert fields["params"] == meta["experiment"]["params"]  # the version's recipe
    # The holdout was never trained on: the challenger's own split covers exactly the other rows.
    assert fields["n_train"] + fields["n_test"] == result["training_rows"] == 3000 - 900
    challenger = load_model(fields["artifact"])
    assert Path(fields["artifact"]).parent == tmp_path
    assert list(challenger.feature_names_in_) == list(pipeline.feature_names_in_)  # no coupon_used
    json.dumps(result, allow_nan=False)


def test_old_and_new_rows_together_learn_the_change_too(champion, tmp_path):
    meta, pipeline, old = champion
    new = _shop(3000, 1, "2024-07-01", flipped=True)
    result = retrain(meta, pipeline, new, old=old, out_dir=tmp_path, record_id="both")
    assert result["training_rows"] == len(old) + 3000 - 900
    assert result["recommendation"] == "promote" and result["challenger"]["value"] > 0.8


def test_on_iid_new_data_the_champion_is_kept(champion, tmp_path):
    meta, pipeline, _ = champion
    result = retrain(meta, pipeline, _shop(3000, 2, "2024-01-01", flipped=False), out_dir=tmp_path,
                     record_id="iid")
    assert result["recommendation"] == "keep" and result["gain"]["ci_low"] <= 0
    assert result["reason"].startswith("Keep the champion: ")
    assert "not better beyond noise" in result["reason"]
    assert abs(result["challenger"]["value"] - result["champion"]["value"]) < 0.03


def test_the_holdout_is_seeded_and_rows_without_a_target_are_left_out(champion, tmp_path):
    meta, pipeline, _ = champion
    new = _shop(1000, 3, "2024-07-01", flipped=True)
    new.loc[new.index[:100], "again"] = np.nan
    first, again = (retrain(meta, pipeline, new, out_dir=tmp_path, record_id=f"r{i}", n_boot=20, seed=5)
                    for i in range(2))
    assert first["holdout_rows"] == 270
    assert first["notes"] == ["left out 100 new rows without a value of 'again'"]
    assert first["champion"] == again["champion"] and first["gain"] == again["gain"]


def test_too_few_rows_or_a_missing_column_are_clear_errors(champion, tmp_path):
    meta, pipeline, old = champion
    new = _shop(1000, 3, "2024-07-01", flipped=True)
    with pytest.raises(DataError, match="too few"):
        retrain(meta, pipeline, new.iloc[:40], out_dir=tmp_path, record_id="few")
    with pytest.raises(ColumnError, match="no 'again' column"):
        retrain(meta, pipeline, new.drop(columns="again"), out_dir=tmp_path, record_id="no-target")
    with pytest.raises(ColumnError, match="old data lacks the column.*visits"):
        retrain(meta, pipeline, new, old=old.drop(columns="visits"), out_dir=tmp_path, record_id="old")


def test_a_regressor_on_a_diamonds_market_that_moved(tmp_path):
    """Ridge on diamonds; then prices of the best colours rose by half: the retrained ridge learns it."""
    frame = load_dataset(SAMPLES / "diamonds.csv.gz").frame
    earlier = np.random.default_rng(0).random(len(frame)) < 0.5
    meta, pipeline = _register(tmp_path / "home", "gems/price", frame[earlier].reset_index(drop=True),
                               "price", "ridge", [])
    later = frame[~earlier].sample(8000, random_state=0)  # the file is sorted by price
    moved = later.assign(price=later["price"] * np.where(later["color"].isin(["D", "E", "F"]), 1.5, 1.0))
    result = retrain(meta, pipeline, moved, out_dir=tmp_path, record_id="ridge-2")
    assert result["metric"] == "r2" and result["recommendation"] == "promote"
    assert result["challenger"]["value"] > result["champion"]["value"] + 0.01
    assert set(result["challenger"]["metrics"]) == {"r2", "rmse", "mae"}
    assert retrain(meta, pipeline, later, out_dir=tmp_path, record_id="ridge-3")["recommendation"] == "keep"
