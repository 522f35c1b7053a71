"""kill -9 in the middle of a tune, then `resume`: the same study finishes with exactly the asked trials."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"


def cli(home: Path, *args: str) -> dict:
    run = subprocess.run([sys.executable, "app.py", "--home", str(home), *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def finished_trials(db: Path) -> int:
    """COMPLETE or PRUNED trials in the Optuna storage (0 while it does not exist yet)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            query = "SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')"
            return conn.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_resume_after_sigkill_finishes_the_same_study(home: Path) -> None:
    first = cli(home, "ask", f"load {TITANIC}, the target is survived, train logistic regression")
    thread = first["thread_id"]
    trained = first["experiments"][0]["id"]

    message = "tune logistic regression with 30 trials"
    command = [sys.executable, "app.py", "--home", str(home), "ask", message, "--thread", thread]
    tuning = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while finished_trials(home / "optuna.db") < 3 and tuning.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(tuning.pid, signal.SIGKILL)
    tuning.wait(timeout=30)
    killed_at = finished_trials(home / "optuna.db")
    assert 3 <= killed_at < 30, f"the tune was not interrupted mid-way ({killed_at} trials)"

    assert any(row["next"] == ["tuner"] for row in cli(home, "checkpoints", "--thread", thread)[:1])
    resumed = cli(home, "resume", "--thread", thread)
    assert [s["action"] for s in resumed["steps"]] == ["tune"] and resumed["steps"][0]["status"] == "done"
    assert finished_trials(home / "optuna.db") == 30

    history = cli(home, "history", "--thread", thread)
    tuners = [r for r in history if r["node"] == "tuner"]
    assert len(tuners) == 1 and tuners[0]["n_trials"] == 30
    assert trained in {r["id"] for r in history}
    assert {r["id"] for r in cli(home, "history")} == {r["id"] for r in history}
