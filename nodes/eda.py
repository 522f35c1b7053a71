"""The eda node: load a file, choose the target, preview rows, profile the data, leave columns out."""

import json
from pathlib import Path
from typing import Any

import pandas as pd

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from nodes.common import find_file, load_frame, require_dataset
from tools import accel, loading, profile
from tools.errors import ColumnError

MAX_SCHEMA_COLUMNS = 200  # the checkpoint keeps a compact schema; wider tables keep the first 200
MAX_EXAMPLE_CHARS = 24
MAX_PROFILE_BYTES = 16_000
PROFILE_KEYS = ("rows", "cols", "duplicated_rows", "flags", "task", "task_reason", "target")


def run(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run one eda step (load, set_target, preview, describe)."""
    return ACTIONS[step["action"]](step, state, ctx)


def load(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Load a file: a reference with its content hash and a compact column schema goes into the state."""
    path = find_file(step["args"]["path"], ctx, state)
    dataset = loading.load_cached(path, cache_dir=ctx.home / "cache")
    frame = dataset.frame
    schema = profile.column_schema(frame, examples=2)
    previous = state.get("dataset") or {}
    same_file = previous.get("sha256") == dataset.sha256
    ref = {"path": str(path), "sha256": dataset.sha256, "rows": int(len(frame)), "cols": int(frame.shape[1]),
           "target": previous.get("target") if same_file else None,
           "task": previous.get("task") if same_file else None, "columns": _compact(schema),
           **({"excluded": previous["excluded"]} if same_file and previous.get("excluded") else {})}
    kinds = ", ".join(f"`{c['name']}` ({c['kind']})" for c in schema[:20])
    more = f" and {len(schema) - 20} more" if len(schema) > 20 else ""
    markdown = (f"Loaded **{path.name}**: {ref['rows']:,} rows × {ref['cols']} columns. "
                f"Columns: {kinds}{more}.")
    if dataset.notes:  # what loading changed (renamed headers, skipped lines, values read as missing…)
        markdown += "\n\nWhile loading I " + "; ".join(dataset.notes) + "."
    log = [f"loaded {path} ({ref['rows']:,} × {ref['cols']}, sha256 {dataset.sha256[:12]})", *dataset.notes]
    if ref["target"]:
        log.append(f"same content as before: target `{ref['target']}` kept")
    return {"dataset": ref, "profile": None if not same_file else state.get("profile"),
            "steps": [step_log(step, log=log, result={"markdown": markdown, "device": accel.device()})]}


def set_target(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Choose the target column (resolved against the real names) and infer the task, saying why."""
    dataset = require_dataset(state)
    frame = load_frame(dataset, ctx)
    column = profile.resolve_column(list(frame.columns), step["args"]["column"])
    profile.validate_target(frame, column)
    task, reason = profile.infer_task(frame[column])
    log = [f"target `{column}` (asked: `{step['args']['column']}`)", f"task: {task} because {reason}"]
    markdown = f"Target: **{column}** → {task}: {reason.rstrip('.')}."
    return {"dataset": {**dataset, "target": column, "task": task},
            "steps": [step_log(step, log=log, result={"markdown": markdown, "task": task})]}


def preview(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """The first rows as a Markdown table."""
    dataset = require_dataset(state)
    rows = int(step["args"].get("rows", 5))
    head = load_frame(dataset, ctx).head(rows)
    header = "| " + " | ".join(map(str, head.columns)) + " |"
    rule = "|" + "---|" * len(head.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    title = f"First {len(head)} rows of **{Path(dataset['path']).name}**:"
    markdown = "\n".join([title, "", header, rule, *body])
    return {"steps": [step_log(step, log=[f"{len(head)} rows shown"], result={"markdown": markdown})]}


def describe(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Profile the data (types, missing, balance, associations, flags) and draw its plots."""
    dataset = require_dataset(state)
    frame = load_frame(dataset, ctx)
    target = dataset.get("target")
    summary = profile.describe(frame, target, ctx.workspace(state["thread_id"]) / "plots")
    plots = {name: str(path) for name, path in (summary.get("plots") or {}).items()}
    flags = summary.get("flags") or {}
    log = [f"profiled {len(frame):,} rows × {frame.shape[1]} columns" + (f", target `{target}`" if target else
                                                                        " (no target yet)"),
           *[f"flag {name}: {value}" for name, value in list(flags.items())[:8]], f"{len(plots)} plots"]
    result = {"markdown": summary.get("markdown", ""), "plots": plots}
    return {"profile": {**_small(summary), "plots": plots},
            "artifacts": {f"plot_{name}": path for name, path in plots.items()},
            "steps": [step_log(step, log=log, result=result)]}


def exclude(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Leave columns out of every later train, tune and predict step (suspected leaks, unwanted inputs)."""
    dataset = require_dataset(state)
    names = list(load_frame(dataset, ctx).columns)
    asked = [profile.resolve_column(names, name) for name in step["args"]["columns"]]
    if dataset.get("target") in asked:
        raise ColumnError(f"`{dataset['target']}` is the target, so it is never a model input; to predict "
                          "another column, say e.g. `the target is <column>`.")
    excluded = [c for c in names if c in {*asked, *(dataset.get("excluded") or [])}]
    markdown = (f"Left out of training from now on: {', '.join(f'`{c}`' for c in asked)}"
                + (f" (all left out: {', '.join(f'`{c}`' for c in excluded)})" if excluded != asked else "")
                + ". Train again to see the effect.")
    log = [f"excluded: {', '.join(excluded)}"]
    return {"dataset": {**dataset, "excluded": excluded},
            "steps": [step_log(step, log=log, result={"markdown": markdown})]}


ACTIONS = {"load": load, "set_target": set_target, "preview": preview, "describe": describe,
           "exclude": exclude}


def _compact(schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The column schema trimmed for the checkpoint: short examples, at most MAX_SCHEMA_COLUMNS columns."""
    compact = []
    for column in schema[:MAX_SCHEMA_COLUMNS]:
        entry = {k: column[k] for k in ("name", "kind", "dtype", "missing", "unique") if k in column}
        entry["examples"] = [str(v)[:MAX_EXAMPLE_CHARS] for v in (column.get("examples") or [])[:2]]
        compact.append(entry)
    return compact


def _small(summary: dict[str, Any]) -> dict[str, Any]:
    """The profile kept in the state: counts, flags, target summary, top associations, bounded in size."""
    kept = {k: summary.get(k) for k in PROFILE_KEYS}
    kept["missing"] = {name: n for name, n in (summary.get("missing") or {}).items() if n}
    kept["associations"] = (summary.get("associations") or [])[:10]
    summary = json.loads(json.dumps(kept, default=str))
    while summary and len(json.dumps(summary)) > MAX_PROFILE_BYTES:
        summary.pop(max(summary, key=lambda k: len(json.dumps(summary[k]))))
    return summary


def _cell(value: Any) -> str:
    text = "" if pd.isna(value) else str(value)
    return text.replace("|", "\\|")[:40]
