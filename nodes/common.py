"""What the specialist nodes share: the thread's dataset and frame, the experiment store, progress events."""

from typing import Any

from langgraph.config import get_stream_writer

from graph.context import Context
from graph.state import AgentState
from tools.errors import ColumnError, DataError


def emit(event: dict[str, Any]) -> None:
    """Send a custom stream event (progress, running step); a no-op outside a streaming run."""
    try:
        get_stream_writer()(event)
    except RuntimeError:  # called outside a LangGraph run (a node function tested alone)
        pass


def require_dataset(state: AgentState) -> dict[str, Any]:
    """The loaded dataset reference; a DataError asking for a file when none is loaded."""
    dataset = state.get("dataset")
    if not dataset:
        raise DataError("No dataset is loaded yet. Load one first, e.g. `load samples/titanic.csv` "
                        "(or attach a CSV, TSV, Parquet, JSON or Excel file).")
    return dataset


def require_target(state: AgentState) -> dict[str, Any]:
    """The dataset reference with a target; a ColumnError asking which column to predict when it has none."""
    dataset = require_dataset(state)
    if not dataset.get("target"):
        names = ", ".join(c["name"] for c in (dataset.get("columns") or [])[:30])
        raise ColumnError("Which column should I predict? Say e.g. `the target is <column>`. "
                          f"Columns: {names}.")
    return dataset


def load_frame(dataset: dict[str, Any], ctx: Context):
    """The dataset's cleaned frame (process LRU, then the home's parquet cache, then the file itself)."""
    from tools.loading import load_cached

    return load_cached(dataset["path"], dataset["sha256"], cache_dir=ctx.home / "cache").frame


def dataset_brief(dataset: dict[str, Any]) -> dict[str, Any]:
    """The dataset fields an experiment record carries."""
    return {k: dataset.get(k) for k in ("path", "sha256", "rows", "cols", "target")}


def store_and_rank(records: list[dict[str, Any]], state: AgentState, ctx: Context) -> dict[str, Any]:
    """Upsert new records into the home's store; return the update: records, best record, best model file."""
    from tools.experiments import ExperimentStore, best, save_best_model

    store = ExperimentStore(ctx.home / "experiments.db")
    for record in records:
        store.add(record)
    seen = {r["id"] for r in records}
    task = records[-1]["task"]
    everything = [r for r in state.get("experiments") or [] if r["id"] not in seen] + records
    winner = best([r for r in everything if r.get("task") == task], task=task)
    update: dict[str, Any] = {"experiments": records, "best": winner}
    if winner:
        update["artifacts"] = {"best_model": save_best_model(winner, ctx.workspace(state["thread_id"]))}
    return update
