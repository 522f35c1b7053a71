"""Time travel: fork before the tune and tune another model; both branches keep their own history."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"


def cli(home: Path, *args: str):
    run = subprocess.run([sys.executable, "app.py", "--home", str(home), *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_fork_before_tune_leaves_the_original_branch_untouched(home: Path) -> None:
    original = cli(home, "ask", f"load {TITANIC}, the target is survived, train logistic regression "
                                "and tune it with 3 trials")
    thread = original["thread_id"]
    assert [s["action"] for s in original["steps"]][-2:] == ["train", "tune"]
    checkpoints = cli(home, "checkpoints", "--thread", thread)
    before_tune = next(c for c in checkpoints if c["next"] == ["tuner"])
    assert "train done" in before_tune["summary"]

    fork = cli(home, "ask", "tune random forest with 3 trials", "--thread", thread,
               "--checkpoint", before_tune["checkpoint_id"])
    assert fork["thread_id"] != thread
    assert fork["forked_from"] == {"thread_id": thread, "checkpoint_id": before_tune["checkpoint_id"]}
    assert [(r["node"], r["model"]) for r in fork["experiments"]] == [("tuner", "random_forest")]

    mine = cli(home, "history", "--thread", thread)
    theirs = cli(home, "history", "--thread", fork["thread_id"])
    assert [(r["node"], r["model"]) for r in mine] == [("trainer", "logistic_regression"),
                                                         ("tuner", "logistic_regression")]
    assert [(r["node"], r["model"]) for r in theirs] == [("trainer", "logistic_regression"),
                                                           ("tuner", "random_forest")]
    assert cli(home, "checkpoints", "--thread", thread) == checkpoints

    replay = cli(home, "resume", "--thread", thread, "--checkpoint", before_tune["checkpoint_id"])
    assert replay["thread_id"] not in (thread, fork["thread_id"])
    assert [(s["action"], s["status"]) for s in replay["steps"]][-1] == ("tune", "done")
    assert [r["model"] for r in replay["experiments"]] == ["logistic_regression"]


def test_go_back_before_tuning_in_words_forks_and_runs_the_rest(home: Path) -> None:
    original = cli(home, "ask", f"load {TITANIC}, the target is survived, train logistic regression "
                                "and tune it with 3 trials")
    thread = original["thread_id"]
    before = cli(home, "checkpoints", "--thread", thread)

    branch = cli(home, "ask", "go back to before tuning and try random forest instead", "--thread", thread)
    assert branch["thread_id"] != thread and branch["forked_from"]["thread_id"] == thread
    assert branch["forked_from"]["checkpoint_id"] == next(c for c in before if c["next"] == ["tuner"])[
        "checkpoint_id"]
    assert [(s["action"], s["status"]) for s in branch["steps"]] == [("train", "done")]
    assert "Went back to just before the last `tune` step" in branch["reply"]
    assert [(r["node"], r["model"]) for r in cli(home, "history", "--thread", branch["thread_id"])] == [
        ("trainer", "logistic_regression"), ("trainer", "random_forest")]
    assert cli(home, "checkpoints", "--thread", thread) == before  # the original branch is untouched


def test_going_back_before_a_step_that_never_ran_exits_1(home: Path) -> None:
    thread = cli(home, "ask", f"load {TITANIC}, the target is survived")["thread_id"]
    command = [sys.executable, "app.py", "--home", str(home), "ask", "undo the tuning", "--thread", thread]
    run = subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "no `tune` step" in json.loads(run.stdout)["error"]
    assert "Traceback" not in run.stderr
