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
    # diagnostics are drawn once, for the step's best model, and shown with the step
    drawn = [r for r in records if r["plots"]]
    assert [r["id"] for r in drawn] == [update["best"]["id"]]
    assert update["steps"][0]["result"]["plots"] == drawn[0]["plots"]
    assert all(Path(png).is_file() for png in drawn[0]["plots"].values())
    assert len(list((home / "workspaces" / "t" / "plots").glob("*.png"))) == len(drawn[0]["plots"])

    with pytest.raises(ModelError, match="regression"):
        trainer.run({**train, "args": {"task": "auto", "models": ["ridge"]}}, state, ctx)


@pytest.mark.parametrize("all_rows, n_train", [(None, 100), (True, 275)])
def test_large_data_fits_a_sample_unless_all_rows_are_asked(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                            all_rows: bool | None, n_train: int) -> None:
    monkeypatch.setattr(trainer.models, "SAMPLE_ROWS", 100)  # penguins' 275 training rows count as "large"
    ctx = Context(home=home, accel="none")
    state = {"thread_id": "t", "experiments": []}
    penguins = str(ROOT / "samples" / "penguins.csv")
    for step in ({"id": "s1", "node": "eda", "action": "load", "args": {"path": penguins}},
                 {"id": "s2", "node": "eda", "action": "set_target", "args": {"column": "species"}}):
        state.update(eda.run(step, state, ctx))
    args = {"task": "auto", "models": ["logistic_regression"]} | ({"all_rows": True} if all_rows else {})
    update = trainer.run({"id": "s3", "node": "trainer", "action": "train", "args": args}, state, ctx)
    record = update["experiments"][0]
    assert record["n_train"] == n_train and record["n_test"] == 69
    sampled = any("100-row sample" in line for line in update["steps"][0]["log"])
    assert sampled == (not all_rows)
