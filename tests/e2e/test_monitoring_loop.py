"""The monitoring loop from the chat: drift → (if it drifted) retrain → register → shadow, stopping with a
reason on iid data; decay on labelled outcomes; `app.py monitor` over the deployed models."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graph.agent import Agent
from tools.deployments import Deployments
from tools.monitoring import MonitoringLog

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"
NAME = "titanic/survival"
LOOP = "check drift of {name} on {path} and if it drifted retrain on it and shadow the new version"


@pytest.fixture
def served(home: Path) -> tuple[Agent, str]:
    """A titanic model registered as NAME v1 and deployed, in a fresh home."""
    agent = Agent(home=home, accel="none")
    done = agent.ask(f"load {TITANIC}, the target is survived, train logistic regression, register it as "
                     f"{NAME} and deploy it", approve=True)
    assert done["error"] is None
    return agent, done["thread_id"]


def later_passengers(path: Path, seed: int = 1) -> Path:
    """Titanic rows whose ages shifted by 25 years and whose outcome now favours men (with 20% noise)."""
    rows = pd.read_csv(TITANIC, na_values=["?"]).sample(frac=1, random_state=seed).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    rows["age"] = rows["age"] + 25
    men = (rows["sex"] == "male").to_numpy()
    rows["survived"] = np.where(rng.random(len(rows)) < 0.8, men, ~men).astype(int)
    rows.to_csv(path, index=False)
    return path


def same_passengers(path: Path) -> Path:
    pd.read_csv(TITANIC, na_values=["?"]).sample(frac=1, random_state=2).to_csv(path, index=False)
    return path


def test_drift_then_retrain_then_shadow_in_one_message(served, tmp_path):
    agent, thread = served
    later = later_passengers(tmp_path / "later.csv")
    result = agent.ask(LOOP.format(name=NAME, path=later), thread_id=thread, approve=True)
    assert [(s["action"], s["status"]) for s in result["steps"]] == [
        ("drift", "done"), ("when", "done"), ("retrain", "done"), ("register", "done"), ("deploy", "done")]
    drift, retrained = result["monitoring"]
    assert drift["kind"] == "drift" and drift["verdict"] == "alert" and drift["drifted"][0] == "age"
    assert retrained["kind"] == "retrain" and retrained["recommendation"] == "promote"
    assert retrained["challenger"]["value"] > retrained["champion"]["value"]
    for value in (retrained["challenger"]["value"], retrained["champion"]["value"]):
        assert f"{value:.4f}" in result["reply"]  # the comparison says so with both numbers
    assert Deployments(agent.home).current(NAME) == [{"version": 1, "traffic": 100.0, "mode": "live"},
                                                     {"version": 2, "traffic": 0.0, "mode": "shadow"}]
    kinds = [r["kind"] for r in MonitoringLog(agent.home).list(NAME)]
    assert kinds == ["drift", "retrain"]


def test_on_iid_data_the_loop_stops_and_says_why(served, tmp_path):
    agent, thread = served
    same = same_passengers(tmp_path / "same.csv")
    result = agent.ask(LOOP.format(name=NAME, path=same), thread_id=thread, approve=True)
    assert [s["status"] for s in result["steps"]] == ["done", "done", "skipped", "skipped", "skipped"]
    assert result["monitoring"][0]["verdict"] == "ok" and result["error"] is None
    assert "No drift was found (verdict ok), so I stopped here: retrain, register, deploy did not run." \
        in result["reply"]
    assert [d["version"] for d in Deployments(agent.home).current(NAME)] == [1]


def test_decay_on_new_outcomes_and_the_monitor_command(served, tmp_path):
    agent, thread = served
    decayed = agent.ask(f"evaluate {NAME} on {later_passengers(tmp_path / 'outcomes.csv')}", thread_id=thread)
    stable = agent.ask(f"is {NAME} still accurate on {same_passengers(tmp_path / 'same.csv')}?",
                       thread_id=thread)
    assert decayed["monitoring"][0]["verdict"] == "decayed" and "Performance decayed" in decayed["reply"]
    assert stable["monitoring"][0]["verdict"] == "stable"

    run = subprocess.run([sys.executable, "app.py", "--home", str(agent.home), "monitor"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith(f"{NAME}: The gateway has logged no requests")
