"""Drift against training reference statistics: no false alarms on iid data, real shifts found and ranked."""

import json
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLES
from tools import plots
from tools.drift import ALPHA, KS_LIMITS, PSI_LIMITS, drift
from tools.errors import DataError
from tools.experiments import make_record
from tools.loading import load_dataset
from tools.model_registry import ModelRegistry
from tools.reference import reference_stats
from tools.training import split, train

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def adult() -> tuple[dict, pd.DataFrame]:
    """Reference statistics of 70% of adult.csv.gz (without the target) and the other 30%, target included."""
    frame = load_dataset(SAMPLES / "adult.csv.gz").frame
    training = np.random.default_rng(1).random(len(frame)) < 0.7
    return reference_stats(frame[training].drop(columns="income")), frame[~training].reset_index(drop=True)


def _by_column(result: dict) -> dict[str, dict]:
    return {feature["column"]: feature for feature in result["features"]}


def _synthetic(rows: int, seed: int) -> pd.DataFrame:
    """20 columns: 12 numeric (two with missing values), 6 categorical, a flag and a timestamp."""
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(12):
        values = rng.normal(i, 1 + i, rows)
        values[rng.random(rows) < 0.02 * (i % 6 == 5)] = np.nan
        columns[f"x{i}"] = values.astype(np.float32)
    for i, levels in enumerate((2, 5, 12, 30, 60, 120)):
        names = np.array([f"level{j}" for j in range(levels)], dtype=object)
        columns[f"c{i}"] = pd.Series(names[rng.integers(0, levels, rows)], dtype="str")
    columns["flag"] = rng.random(rows) < 0.3
    columns["at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), "s")
    return pd.DataFrame(columns)


def test_an_iid_split_of_adult_raises_no_alarm(adult):
    reference, new = adult
    result = drift(reference, new)
    assert (result["verdict"], result["drifted"], result["plots"]) == ("ok", [], {})
    assert result["rows"] == len(new)
    features = _by_column(result)
    assert set(features) == set(reference["columns"])  # the target column of the new data is ignored
    assert {f["severity"] for f in result["features"]} == {"none"}
    assert features["age"]["test"] == "ks" and features["workclass"]["test"] == "chi2"
    assert features["workclass"]["unseen_share"] == 0.0 and features["age"]["unseen_share"] is None
    assert max(f["psi"] for f in result["features"]) < 0.02
    json.dumps(result, allow_nan=False)


def test_a_million_iid_rows_raise_no_alarm_and_take_well_under_five_seconds():
    whole = _synthetic(1_200_000, seed=0)
    reference = reference_stats(whole.iloc[:200_000])
    new = whole.iloc[200_000:].reset_index(drop=True)
    seconds = []
    for _ in range(2):  # the best of two: a shared machine can stall one run
        started = time.perf_counter()
        result = drift(reference, new)
        seconds.append(time.perf_counter() - started)
    assert min(seconds) < 5.0, seconds
    assert result["verdict"] == "ok" and result["drifted"] == [] and result["rows"] == 1_000_000
    assert len(result["features"]) == 20


def test_at_a_million_rows_a_negligible_shift_is_significant_but_not_an_alarm():
    whole = _synthetic(1_200_000, seed=1)
    reference = reference_stats(whole.iloc[:200_000])
    new = whole.iloc[200_000:].reset_index(drop=True)
    rng = np.random.default_rng(2)
    new["c0"] = np.where(rng.random(len(new)) < 0.52, "level0", "level1")  # 50/50 became 52/48
    new.loc[rng.random(len(new)) < 0.01, "x3"] = np.nan  # 1 point more missing
    new["x4"] += np.float32(0.05 * 5)  # a twentieth of a standard deviation
    result = drift(reference, new)
    features = _by_column(result)
    assert features["c0"]["p_value"] < 1e-50  # p-values alone would alarm on all of this
    assert result["verdict"] == "ok" and result["drifted"] == []
    assert features["c0"]["psi"] < PSI_LIMITS[0] and abs(features["x3"]["missing_change"]) < 0.02


def test_a_few_rows_do_not_alarm_on_noise(adult):
    reference, new = adult
    result = drift(reference, new.iloc[:40])
    assert max(f["psi"] for f in result["features"]) > PSI_LIMITS[0]  # large-looking, but 40 rows are noise
    assert result["verdict"] == "ok" and result["drifted"] == []


def _older(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(age=frame["age"] + 10)


def _new_workclass(frame: pd.DataFrame) -> pd.DataFrame:
    workclass = frame["workclass"].copy()
    workclass.iloc[::8] = "Gig-economy"  # 12.5% of rows
    return frame.assign(workclass=workclass)


def _hours_missing(frame: pd.DataFrame) -> pd.DataFrame:
    hours = frame["hours-per-week"].copy()
    hours.iloc[np.random.default_rng(0).random(len(frame)) < 0.3] = np.nan
    return frame.assign(**{"hours-per-week": hours})


@pytest.mark.parametrize("change, column, effect", [(_older, "age", "psi"),
                                                    (_new_workclass, "workclass", "unseen_share"),
                                                    (_hours_missing, "hours-per-week", "missing_change")])
def test_one_changed_column_is_found_and_ranked_first(adult, change, column, effect):
    reference, new = adult
    result = drift(reference, change(new))
    first = result["features"][0]
    assert (result["verdict"], result["drifted"], first["column"], first["severity"]) == (
        "alert", [column], column, "major")
    assert first[effect] > 0.1 and first["note"]
    assert {f["severity"] for f in result["features"][1:]} == {"none"}


def test_the_new_level_and_the_missing_values_are_explained(adult):
    reference, new = adult
    workclass = _by_column(drift(reference, _new_workclass(new)))["workclass"]
    assert workclass["unseen_share"] == pytest.approx(1 / 8, abs=0.001)
    assert "'Gig-economy'" in workclass["note"] and workclass["p_value"] < ALPHA
    hours = _by_column(drift(reference, _hours_missing(new)))["hours-per-week"]
    assert hours["missing_change"] == pytest.approx(0.3, abs=0.02) and "missing in 0.0%" in hours["note"]


def test_a_moderate_shift_is_moderate_and_a_big_one_major():
    rng = np.random.default_rng(5)
    reference = reference_stats(pd.DataFrame({"x": rng.normal(size=20_000)}))
    for shift, severity in ((0.0, "none"), (0.35, "moderate"), (1.0, "major")):
        x = _by_column(drift(reference, pd.DataFrame({"x": rng.normal(shift, 1, 20_000)})))["x"]
        assert x["severity"] == severity, (shift, x)
    x = _by_column(drift(reference, pd.DataFrame({"x": rng.normal(0.35, 1, 20_000)})))["x"]
    assert PSI_LIMITS[0] <= x["psi"] < PSI_LIMITS[1] and x["statistic"] < KS_LIMITS[1]


def test_a_wider_spread_and_later_dates_are_drift_too():
    rng = np.random.default_rng(6)
    start = pd.Timestamp("2024-01-01")
    training = pd.DataFrame({"x": rng.normal(size=5000),
                             "at": start + pd.to_timedelta(rng.integers(0, 300, 5000), "D")})
    new = pd.DataFrame({"x": rng.normal(0, 2, 5000),
                        "at": start + pd.to_timedelta(rng.integers(200, 500, 5000), "D")})
    result = drift(reference_stats(training), new)
    assert result["verdict"] == "alert" and set(result["drifted"]) == {"x", "at"}
    assert _by_column(result)["at"]["kind"] == "datetime"


def test_a_missing_column_is_a_major_drift_with_a_note_not_an_error(adult):
    reference, new = adult
    result = drift(reference, new.drop(columns=["race"]))
    race = result["features"][0]
    assert (race["column"], race["severity"], race["psi"]) == ("race", "major", None)
    assert race["missing_change"] == 1.0
    assert "not in the new data" in race["note"]
    assert result["verdict"] == "alert" and result["drifted"] == ["race"]


def test_json_numbers_match_float32_training_values_on_bin_edges():
    """Requests arrive as float64 decimals (0.3); training read them as float32 (0.30000001)."""
    frame = load_dataset(SAMPLES / "diamonds.csv.gz").frame
    numeric = ["carat", "depth", "table", "x", "y", "z"]
    training = np.random.default_rng(2).random(len(frame)) < 0.7
    reference = reference_stats(frame[training])
    served = frame[~training].copy()
    served[numeric] = served[numeric].astype("float64").round(2)  # what a JSON client sends
    result = drift(reference, served)
    assert result["verdict"] == "ok", result["features"][:2]


def test_text_in_a_numeric_column_counts_as_missing(adult):
    reference, new = adult
    ages = new["age"].astype("str")
    ages.iloc[::2] = "unknown"
    age = _by_column(drift(reference, new.assign(age=ages)))["age"]
    assert age["severity"] == "major" and age["missing_change"] == pytest.approx(0.5, abs=0.001)
    assert "values that are not numbers count as missing" in age["note"]


def test_no_rows_is_an_error(adult):
    reference, new = adult
    with pytest.raises(DataError, match="no rows"):
        drift(reference, new.iloc[:0])


def test_the_worst_drifted_columns_are_drawn(adult, tmp_path):
    reference, new = adult
    changed = _hours_missing(_new_workclass(_older(new))).assign(**{"native-country": "Atlantis"})
    result = drift(reference, changed.drop(columns=["race"]), out_dir=tmp_path, plots=3)
    assert result["drifted"][0] == "race"  # absent: first, but there is no distribution to draw
    assert len(result["drifted"]) == 5 and len(result["plots"]) == 3
    assert list(result["plots"]) == [f"drift_{column}" for column in result["drifted"][1:4]]
    for path in result["plots"].values():
        assert path.startswith(str(tmp_path)) and open(path, "rb").read(8) == PNG


def test_a_registered_versions_reference_against_its_test_rows(tmp_path):
    """The reference a real registered version stores: its test split is not drift, a shifted fare is."""
    frame = load_dataset(SAMPLES / "titanic.csv").frame
    fields = train(frame, "survived", "logistic_regression", out_dir=tmp_path, record_id="lr", plots=False,
                   cv_folds=0)
    record = make_record(id="lr", thread_id="t", node="trainer", model="logistic_regression",
                         task=fields["task"], params=fields["params"], metrics=fields["metrics"], cv=None,
                         n_trials=None, seconds=fields["seconds"], device=fields["device"],
                         dataset={"path": str(SAMPLES / "titanic.csv"), "sha256": "", "rows": len(frame),
                                  "target": "survived"}, artifact=fields["artifact"])
    registry = ModelRegistry(tmp_path / "home")
    registry.register("ship/survival", record, frame)
    reference = registry.reference("ship/survival")
    _, test = split(frame, "survived", "classification")
    rows = frame.iloc[test]
    assert drift(reference, rows)["verdict"] == "ok"
    shifted = drift(reference, rows.assign(fare=rows["fare"] * 3))
    assert shifted["drifted"] == ["fare"] and shifted["verdict"] == "alert"


@pytest.mark.parametrize("labels, before, now", [
    ([f"level{i}" for i in range(60)], np.full(60, 1 / 60), np.r_[np.full(59, 0.5 / 59), 0.5]),
    (["a", "b"], [0.5, 0.5], [1.0]),
    ([], [], []),
])
def test_the_drift_chart_draws_many_levels_and_degenerate_input(tmp_path, labels, before, now):
    path = plots.plot_drift("city", labels, before, now, tmp_path / "drift.png", note="major drift")
    assert open(path, "rb").read(8) == PNG
