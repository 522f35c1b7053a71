"""The eda node on real files: a compact reference in the state, targets resolved and explained."""

from pathlib import Path

import pytest

from graph.context import Context
from nodes import eda
from tools.errors import ColumnError, DataError

ROOT = Path(__file__).resolve().parents[2]


def step(action: str, **args) -> dict:
    return {"id": "t1s1", "node": "eda", "action": action, "args": args}


def test_load_then_set_target_keeps_references_only(home: Path) -> None:
    ctx = Context(home=home, accel="none")
    state = {"thread_id": "t"}
    loaded = eda.run(step("load", path=str(ROOT / "samples" / "titanic.csv")), state, ctx)
    dataset = loaded["dataset"]
    assert (dataset["rows"], dataset["cols"], len(dataset["sha256"])) == (1309, 14, 64)
    assert {c["name"] for c in dataset["columns"]} >= {"survived", "sex", "age"}
    assert all(len(e) <= eda.MAX_EXAMPLE_CHARS for c in dataset["columns"] for e in c["examples"])
    chosen = eda.run(step("set_target", column="Survived"), {**state, **loaded}, ctx)
    assert chosen["dataset"]["target"] == "survived" and chosen["dataset"]["task"] == "classification"
    assert any("because" in line for line in chosen["steps"][0]["log"])


def test_unknown_column_and_missing_file_raise_actionable_errors(home: Path) -> None:
    ctx = Context(home=home, accel="none")
    state = {"thread_id": "t"}
    state.update(eda.run(step("load", path=str(ROOT / "samples" / "penguins.csv")), state, ctx))
    with pytest.raises(ColumnError, match="no column `spices`.*species"):
        eda.run(step("set_target", column="spices"), state, ctx)
    with pytest.raises(DataError, match="does not exist"):
        eda.run(step("load", path="nowhere.csv"), state, ctx)
    with pytest.raises(DataError, match="No dataset is loaded"):
        eda.run(step("describe"), {"thread_id": "t"}, ctx)
