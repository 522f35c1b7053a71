"""What the specialist nodes share: the thread's dataset and frame, the experiment store, progress events."""

from pathlib import Path
from typing import Any

from langgraph.config import get_stream_writer

from graph.context import Context
from graph.state import AgentState
from tools import formats
from tools.errors import ColumnError, DataError
from tools.keys import MODELS


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
                        f"(or attach a file: {formats.DESCRIPTION}).")
    return dataset


def require_target(state: AgentState) -> dict[str, Any]:
    """The dataset reference with a target; a ColumnError asking which column to predict when it has none."""
    dataset = require_dataset(state)
    if not dataset.get("target"):
        names = ", ".join(c["name"] for c in (dataset.get("columns") or [])[:30])
        raise ColumnError("Which column should I predict? Say e.g. `the target is <column>`. "
                          f"Columns: {names}.")
    return dataset


def find_file(raw: str, ctx: Context, state: AgentState) -> Path:
    """The file named by the user: as given, else among the thread's uploads; DataError when nowhere. On a
    server (`ctx.roots` set) only the thread's uploads and those folders count, and the error says no more
    (whether a file exists elsewhere on the server is none of the user's business)."""
    uploads = (ctx.home / "workspaces" / state.get("thread_id", "") / "uploads").resolve()
    roots = None if ctx.roots is None else (*ctx.roots, uploads)
    path = Path(raw).expanduser()
    for candidate in (path.resolve(), uploads / path.name):
        if candidate.exists() and (roots is None or any(candidate.is_relative_to(r) for r in roots)):
            return candidate
    if roots is not None:
        raise DataError(f"`{raw}` is not one of your files: attach it to your message, or use samples/.")
    raise DataError(f"`{raw}` does not exist. Check the path (relative to {Path.cwd()}) or attach the file.")


def load_frame(dataset: dict[str, Any], ctx: Context):
    """The dataset's cleaned frame (process LRU, then the home's parquet cache, then the file itself)."""
    from tools.loading import load_cached

    return load_cached(dataset["path"], dataset["sha256"], cache_dir=ctx.home / "cache").frame


def training_frame(dataset: dict[str, Any], ctx: Context):
    """The frame models learn from: the dataset's frame without the columns the user excluded."""
    return load_frame(dataset, ctx).drop(columns=dataset.get("excluded") or [], errors="ignore")


def dataset_brief(dataset: dict[str, Any]) -> dict[str, Any]:
    """The dataset fields an experiment record carries (and the excluded columns, when there are some)."""
    brief = {k: dataset.get(k) for k in ("path", "sha256", "rows", "cols", "target")}
    return brief | ({"excluded": list(dataset["excluded"])} if dataset.get("excluded") else {})


def store_and_rank(records: list[dict[str, Any]], state: AgentState, ctx: Context) -> dict[str, Any]:
    """Upsert new records into the home's store; return the update: records, best record, best model file."""
    from tools.experiments import ExperimentStore, best, save_best_model

    store = ExperimentStore(ctx.home / "experiments.db")
    for record in records:
        store.add(record)
    seen = {r["id"] for r in records}
    task, data = records[-1]["task"], records[-1]["dataset"].get("sha256")
    everything = [r for r in state.get("experiments") or [] if r["id"] not in seen] + records
    winner = best([r for r in everything if r.get("task") == task and r["dataset"].get("sha256") == data],
                  task=task)
    update: dict[str, Any] = {"experiments": records, "best": winner}
    if winner:
        update["artifacts"] = {"best_model": save_best_model(winner, ctx.workspace(state["thread_id"]))}
    return update


def too_good_warning(records: list[dict[str, Any]]) -> str:
    """A warning for records whose test score is too good to be true, with the words that retrain the
    models without the columns they lean on ("" when no record is suspicious)."""
    flagged = [r for r in records if r.get("warning")]
    if not flagged:
        return ""
    lines = [f"⚠ **Too good to be true?** {MODELS[r['model']].label}: {r['warning']['why']}" for r in flagged]
    columns = list(dict.fromkeys(c for r in flagged for c in r["warning"]["features"]))
    if columns:
        which = "that column" if len(columns) == 1 else "any of these columns"
        lines.append(f"If {which} is only known after the outcome, retrain without it: say "
                     f"`train again without {', '.join(columns)}`.")
    return "\n\n".join(lines)
