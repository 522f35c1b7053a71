"""The trainer node: records with test metrics in the global store, the best model copied to the workspace."""

from pathlib import Path

import pytest

from graph.context import Context
from nodes import eda, trainer
from tools.errors import ModelError
from tools.experiments import ExperimentStore

ROOT = Path(__file__).resolve().parents[2]


def test_train_records_ranks_and_saves_the_best(home: Path) -> None:
    ctx = Context(home=home, accel="none")
    state = {"thread_id": "t", "experiments": []}
    penguins = str(ROOT / "samples" / "penguins.csv")
    load = {"id": "t1s1", "node": "eda", "action": "load", "args": {"path": penguins}}
    state.update(eda.run(load, state, ctx))
    target = {"id": "t1s2", "node": "eda", "action": "set_target", "args": {"column": "species"}}
    state.update(eda.run(target, state, ctx))
    train = {"id": "t1s3", "node": "trainer", "action": "train",
             "args": {"task": "auto", "models": ["logistic_regression", "knn"]}}
    update = trainer.run(train, state, ctx)
    records = update["experiments"]
    assert [r["id"] for r in records] == ["t-t1s3-logistic_regression", "t-t1s3-knn"]
    assert all(r["node"] == "trainer" and "accuracy" in r["metrics"] for r in records)
    assert update["best"]["id"] in {r["id"] for r in records}
    assert Path(update["artifacts"]["best_model"]).parent == home / "workspaces" / "t"
    assert [r["id"] for r in ExperimentStore(home / "experiments.db").list()] == [r["id"] for r in records]
    assert any("asked for" in line for line in update["steps"][0]["log"])

    with pytest.raises(ModelError, match="regression"):
        trainer.run({**train, "args": {"task": "auto", "models": ["ridge"]}}, state, ctx)
