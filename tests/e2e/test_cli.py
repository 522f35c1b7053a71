"""The command line end to end, through real subprocesses: one message runs a whole plan; failures exit 1."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"


def cli(home: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    command = [sys.executable, "app.py", "--home", str(home), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def as_json(run: subprocess.CompletedProcess):
    return json.loads(run.stdout)  # exactly one JSON value on stdout, nothing else


def test_one_message_runs_the_whole_plan_then_history_and_best_agree(home: Path) -> None:
    run = cli(home, "ask", f"load {TITANIC}, the target is survived, describe it, train classifiers "
                           "and tune the best one with 20 trials", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    result = as_json(run)
    assert [s["action"] for s in result["steps"]] == ["load", "set_target", "describe", "train", "tune"]
    assert all(s["status"] == "done" for s in result["steps"])
    assert result["dataset"]["target"] == "survived" and result["dataset"]["task"] == "classification"
    assert result["dataset"]["rows"] == 1309 and len(result["dataset"]["sha256"]) == 64
    assert result["planner"] == "rules" and result["error"] is None
    nodes = [r["node"] for r in result["experiments"]]
    assert nodes.count("tuner") == 1 and nodes.count("trainer") >= 3
    tuned = next(r for r in result["experiments"] if r["node"] == "tuner")
    assert tuned["n_trials"] == 20
    assert all({"accuracy", "f1"} <= set(r["metrics"]) for r in result["experiments"])
    assert Path(result["artifacts"]["best_model"]).is_file()

    graph = cli(home, "graph", "--thread", result["thread_id"])
    assert graph.returncode == 0
    assert "class " in graph.stdout and "executed" in graph.stdout and 'tuner("tuner · ' in graph.stdout

    history = as_json(cli(home, "history", "--thread", result["thread_id"], "--json"))
    assert {r["id"] for r in history} == {r["id"] for r in result["experiments"]}
    assert {r["id"] for r in as_json(cli(home, "history", "--json"))} == {r["id"] for r in history}

    best = as_json(cli(home, "ask", "best by f1", "--thread", result["thread_id"], "--json"))
    winner = max(history, key=lambda r: r["cv"]["means"]["f1"])  # small data: ranked by cross-validation
    answer = best["steps"][-1]["result"]
    assert (answer["model"], answer["value"]) == (winner["model"], winner["metrics"]["f1"])
    assert winner["model"] in best["reply"] and f"{winner['metrics']['f1']:.4f}" in best["reply"]



@pytest.mark.parametrize("message, error", [
    ("load samples/no_such_file.csv", "does not exist"),
    (f"load {TITANIC}, the target is surname", "no column"),
    (f"load {TITANIC}, the target is survived, train lasso", None),
])
def test_expected_failures_exit_1_with_a_clear_reply(home: Path, message: str, error: str | None) -> None:
    run = cli(home, "ask", message, "--json")
    result = as_json(run)
    if error is None:  # a regression model asked for a classification target
        assert run.returncode == 1, result["reply"]
        assert "classification" in result["error"]
    else:
        assert run.returncode == 1 and error in result["error"].lower()
    assert "Traceback" not in run.stderr and "Traceback" not in result["reply"]
    assert "failed" in result["reply"]


def test_an_unknown_model_is_a_question_and_exits_1(home: Path) -> None:
    run = cli(home, "ask", f"load {TITANIC}, the target is survived, train a catboost model", "--json")
    result = as_json(run)
    assert run.returncode == 1, result["reply"]
    assert "catboost" in result["reply"].lower() and "random_forest" in result["reply"]
    assert result["steps"] == [] and "Traceback" not in run.stderr


def test_too_few_rows_and_unknown_thread_exit_1(home: Path, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("x,y\n1,0\n2,1\n3,0\n")
    run = cli(home, "ask", f"load {tiny}")
    assert run.returncode == 1 and "row" in run.stdout and "Traceback" not in run.stderr
    run = cli(home, "resume", "--thread", "nope", "--json")
    assert run.returncode == 1 and "unknown thread" in as_json(run)["error"]


@pytest.mark.parametrize("args", [["ask"], ["frobnicate"], ["--accel", "quantum", "ask", "hi"],
                                  ["checkpoints"], ["--node", "trainer", "ask", "hi"],
                                  ["ask", "hi", "--planner", "nonexistent"]])
def test_usage_errors_exit_2(home: Path, args: list[str]) -> None:
    run = cli(home, *args)
    assert run.returncode == 2 and "usage" in run.stderr and "Traceback" not in run.stderr


def test_help_answers_without_loading_pandas_or_sklearn(home: Path) -> None:
    probe = ("import sys, app; code = app.main(['--home', sys.argv[1], 'ask', 'help', '--json']);"
             "heavy = [m for m in ('pandas', 'sklearn', 'gradio', 'optuna') if m in sys.modules];"
             "print(heavy, file=sys.stderr); sys.exit(code or (3 if heavy else 0))")
    run = subprocess.run([sys.executable, "-c", probe, str(home)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert "train" in json.loads(run.stdout)["reply"]


def test_plan_prints_contract_steps_without_running_anything(home: Path) -> None:
    result = as_json(cli(home, "plan", "optimize SVC with 50 trials", "--json"))
    assert result["plan"] == [{"node": "tuner", "action": "tune", "args": {"model": "svc", "n_trials": 50}}]
    assert result["planner"] == "rules" and not (home / "graph.db").exists()
    result = as_json(cli(home, "plan", "describe it", "--data", str(TITANIC), "--json"))
    assert [s["action"] for s in result["plan"]] == ["load", "describe"]
