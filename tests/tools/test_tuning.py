"""tune(): seeded TPE with real pruning, persistent studies that resume after kill -9, clean stops."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest

from tools import models
from tools.errors import ModelError
from tools.tuning import MIN_FOLDS_BEFORE_PRUNING, plan_schedule, study_summary, tune

ROOT = Path(__file__).resolve().parents[2]

KILL_SCRIPT = """
import sys
from tools.loading import load_dataset
from tools.tuning import tune
data, storage, out = sys.argv[1:4]
tune(load_dataset(data).frame, "survived", "logistic_regression", n_trials=10, storage_url=storage,
     study_name="killed", out_dir=out, record_id="killed")
"""


def noisy_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Numeric features, one categorical, a class that follows a noisy non-linear rule."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    colour = rng.choice(["red", "green", "blue"], size=rows)
    signal_ = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + (colour == "red") + rng.normal(scale=0.7, size=rows)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).astype("float32")
    frame["colour"] = colour
    frame["label"] = np.where(signal_ > 0.3, "yes", "no")
    return frame


def run(frame: pd.DataFrame, target: str, model: str, home: Path, study: str, **options) -> dict:
    return tune(
        frame,
        target,
        model,
        storage_url=f"sqlite:///{home}/optuna.db",
        study_name=study,
        out_dir=home / "workspace",
        record_id=study,
        **options,
    )


def finished_trials(home: Path, study: str) -> dict[int, float | None]:
    trials = optuna.load_study(study_name=study, storage=f"sqlite:///{home}/optuna.db").trials
    return {t.number: t.value for t in trials if t.state.is_finished() and t.state.name != "FAIL"}


def test_tune_returns_a_tested_model_and_a_complete_trial_account(titanic, home):
    events: list[dict] = []
    record = run(
        titanic, "survived", "logistic_regression", home, "titanic-lr", n_trials=6, progress=events.append
    )

    assert record["n_trials"] == 6 and not record["trials"]["stopped_early"]
    assert record["trials"]["complete"] + record["trials"]["pruned"] == 6
    assert [e["k"] for e in events] == list(range(1, 7)) and all(e["n"] == 6 for e in events)
    assert events[-1]["best"] == record["best_value"] == record["search"]["best_value"]
    assert record["metric"] == record["search"]["metric"] == "accuracy" and record["search"]["folds"] == 5
    assert record["cv"]["folds"] == 5 and "accuracy" in record["cv"]["means"]  # the final model, re-checked
    assert 0.75 <= record["metrics"]["accuracy"] <= 0.88
    assert Path(record["plots"]["optimization_history"]).stat().st_size > 1000
    model = joblib.load(record["artifact"])
    assert set(model.predict(titanic.drop(columns="survived").head(20))) <= {0, 1}

    again: list[dict] = []
    rerun = run(
        titanic, "survived", "logistic_regression", home, "titanic-lr", n_trials=6, progress=again.append
    )
    assert again == [] and rerun["params"] == record["params"] and rerun["n_trials"] == 6
    with pytest.raises(ModelError, match="another study name"):
        run(titanic, "survived", "hist_gradient_boosting", home, "titanic-lr", n_trials=6)


def test_kill_during_tuning_then_resume_finishes_exactly_n_trials(titanic, home):
    storage = f"sqlite:///{home}/optuna.db"
    assert not study_summary(storage, "killed")["exists"]  # also creates the schema before the child runs
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            str(ROOT / "samples" / "titanic.csv"),
            storage,
            str(home / "workspace"),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while study_summary(storage, "killed")["finished"] < 2:
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "no trial finished in time"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = finished_trials(home, "killed")
    interrupted = study_summary(storage, "killed")["running"]
    assert 2 <= len(before) < 10

    record = run(titanic, "survived", "logistic_regression", home, "killed", n_trials=10)

    after = finished_trials(home, "killed")
    summary = study_summary(storage, "killed")
    assert record["n_trials"] == summary["finished"] == len(after) == 10
    assert {number: after[number] for number in before} == before
    assert summary["running"] == 0 and summary["failed"] == interrupted
    study = optuna.load_study(study_name="killed", storage=storage)
    sampled = [t.params["C"] for t in study.trials if t.state.name != "FAIL"]
    assert len(set(sampled)) == len(sampled), "a resumed trial repeated an earlier configuration"


def test_successive_halving_prunes_weak_trials_on_row_rungs(home):
    frame = noisy_frame(13_000)
    record = run(frame, "label", "knn", home, "knn-rungs", n_trials=12)

    rungs = record["search"]["rungs"]
    assert len(rungs) >= 2 and rungs == sorted(rungs) and record["search"]["validation_rows"] > 0
    assert record["trials"]["pruned"] >= 1 and record["n_trials"] == 12
    study = optuna.load_study(study_name="knn-rungs", storage=f"sqlite:///{home}/optuna.db")
    for trial in study.trials:
        assert "completed_rung_0" in trial.system_attrs  # successive halving judged every trial at rung 0
        steps = sorted(trial.intermediate_values)
        assert steps == (rungs if trial.state.name == "COMPLETE" else rungs[: len(steps)])
        if trial.state.name == "PRUNED":
            assert len(steps) < len(rungs)


def test_should_stop_ends_the_study_cleanly_and_keeps_the_result(titanic, home):
    events: list[dict] = []
    record = run(
        titanic,
        "survived",
        "logistic_regression",
        home,
        "stopped",
        n_trials=12,
        progress=events.append,
        should_stop=lambda: len(events) >= 3,
    )

    assert record["n_trials"] == 3 and record["trials"]["stopped_early"]
    assert any("3 of 12" in note for note in record["notes"])
    assert study_summary(f"sqlite:///{home}/optuna.db", "stopped")["finished"] == 3
    assert Path(record["artifact"]).exists()


def test_failed_trials_are_recorded_and_the_study_goes_on(titanic, home, monkeypatch):
    # the catalog's spaces only produce valid settings, so two trials get an invalid C, as a bad space would
    real_space = models.search_space

    def space_with_invalid_settings(key, task, trial, n_rows):
        params = real_space(key, task, trial, n_rows)
        return params | {"C": -1.0} if trial.number in (1, 4) else params

    monkeypatch.setattr(models, "search_space", space_with_invalid_settings)
    record = run(titanic, "survived", "logistic_regression", home, "invalid", n_trials=6)

    assert record["n_trials"] == 6 and record["trials"]["failed"] == 2
    study = optuna.load_study(study_name="invalid", storage=f"sqlite:///{home}/optuna.db")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert [t.number for t in failed] == [1, 4] and all("'C'" in t.user_attrs["error"] for t in failed)


def test_every_trial_failing_raises_a_model_error_with_the_first_error(titanic, home, monkeypatch):
    monkeypatch.setattr(models, "search_space", lambda key, task, trial, n_rows: {"C": -1.0})
    with pytest.raises(ModelError, match="Every trial tuning Logistic regression failed.*'C' parameter"):
        run(titanic, "survived", "logistic_regression", home, "all-fail", n_trials=3)
    assert study_summary(f"sqlite:///{home}/optuna.db", "all-fail")["failed"] >= 3


def test_margin_classifiers_tune_for_log_loss_with_calibrated_probabilities(titanic, home):
    record = run(titanic, "survived", "linear_svc", home, "svc-log-loss", n_trials=3, metric="log loss")
    assert record["metric"] == "log_loss" and record["trials"]["complete"] >= 1
    assert 0 < record["metrics"]["log_loss"] < 0.6


def test_small_data_prunes_only_on_the_mean_of_several_folds(titanic, home):
    record = run(titanic, "survived", "knn", home, "folds", n_trials=15)
    study = optuna.load_study(study_name="folds", storage=f"sqlite:///{home}/optuna.db")
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert record["search"]["folds"] == 5 and record["n_trials"] == 15 and pruned
    assert all(len(t.intermediate_values) >= MIN_FOLDS_BEFORE_PRUNING for t in pruned)


def test_timeout_caps_the_search(titanic, home):
    events: list[dict] = []
    record = run(
        titanic,
        "survived",
        "logistic_regression",
        home,
        "timed",
        n_trials=500,
        timeout_s=3,
        progress=events.append,
    )

    assert record["trials"]["stopped_early"] and 1 <= record["n_trials"] < 500
    assert events[-1]["elapsed_s"] < 3 + 5  # the running trial may finish after the limit
    assert any("time limit" in note for note in record["notes"])


def test_schedule_follows_data_size():
    small = plan_schedule(1_309, 1_047, 13, "logistic_regression", "classification")
    assert small.folds == 5 and not small.rungs
    large = plan_schedule(1_000_000, 800_000, 12, "logistic_regression", "classification")
    assert large.folds == 0 and large.rungs == (5_555, 16_665, 49_995) and large.validation_rows == 30_000
    assert "1,000,000 rows" in large.note and "800,000 training rows" in large.note
    kernel = plan_schedule(1_000_000, 800_000, 12, "svc", "classification")
    assert kernel.rungs[-1] <= 20_000
