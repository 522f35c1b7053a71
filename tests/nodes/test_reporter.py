"""The reporter: direction-aware best, failures explained with what was skipped, help from the vocabulary."""

from pathlib import Path

import pytest

from graph.context import Context
from graph.vocabulary import ACTIONS
from nodes import reporter
from tools.errors import ArtifactError


def record(id: str, model: str, rmse: float, r2: float) -> dict:
    return {"id": id, "node": "trainer", "model": model, "task": "regression",
            "metrics": {"rmse": rmse, "r2": r2}, "params": {}, "seconds": 1.0, "n_trials": None,
            "artifact": None}


def step(action: str, **args) -> dict:
    return {"id": "t2s1", "node": "reporter", "action": action, "args": args}


def test_best_respects_the_metric_direction(home: Path) -> None:
    state = {"thread_id": "t", "experiments": [record("a", "ridge", 3.0, 0.7), record("b", "svr", 2.0, 0.6)]}
    ctx = Context(home=home, accel="none")
    assert reporter.run(step("best", metric="rmse"), state, ctx)["steps"][0]["result"]["record"] == "b"
    assert reporter.run(step("best"), state, ctx)["steps"][0]["result"]["record"] == "a"
    with pytest.raises(ArtifactError, match="No experiments yet"):
        reporter.run(step("best"), {"thread_id": "t"}, ctx)


def test_reply_explains_the_failed_step_and_what_was_skipped() -> None:
    steps = [
        {"id": "1", "node": "eda", "action": "load", "status": "done", "result": {"markdown": "Loaded x."}},
        {"id": "2", "node": "eda", "action": "set_target", "status": "failed",
         "error": "There is no column `q`."},
        {"id": "3", "node": "trainer", "action": "train", "status": "skipped", "error": None}]
    reply = reporter.compose({"steps": steps})
    assert reply.startswith("Loaded x.") and "`set_target` step failed:** There is no column `q`." in reply
    assert "Not run because of it: train" in reply


def test_help_lists_every_action_and_report_writes_files(home: Path) -> None:
    text = reporter.help_reply()
    assert all(f"**{name}**" in text for name in ACTIONS) and "No dataset loaded yet." in text
    state = {"thread_id": "t", "experiments": [record("a", "ridge", 3.0, 0.7)]}
    update = reporter.run(step("report"), state, Context(home=home))
    assert "ridge" in Path(update["artifacts"]["report"]).read_text()
    assert Path(update["artifacts"]["report_html"]).read_text().startswith("<!doctype html>")
