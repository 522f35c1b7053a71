"""The graph's typed state: references, metrics and short summaries only, never frames or models."""

from typing import Annotated, Any, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class DatasetRef(TypedDict):
    """Where the data lives and what it is; the frame itself is re-read from `path` (cached by sha256)."""

    path: str
    sha256: str
    rows: int
    cols: int
    target: str | None
    task: str | None
    columns: NotRequired[list[dict[str, Any]]]  # compact schema: name, kind, missing, examples (truncated)
    excluded: NotRequired[list[str]]  # columns the user left out of training (`exclude`)


class PlanStep(TypedDict):
    """One CONTRACT.md plan step plus a stable id (study names and record ids derive from it)."""

    id: str
    node: str
    action: str
    args: dict[str, Any]


class StepLog(TypedDict):
    """What happened to one step: status, time, error and a short log the UI shows."""

    id: str
    node: str
    action: str
    args: NotRequired[dict[str, Any]]  # the step's arguments, so a turn's plan can be shown from its logs
    status: str  # pending | running | done | failed | skipped
    seconds: float
    error: str | None
    log: list[str]
    result: NotRequired[dict[str, Any]]  # small structured result (metrics table, preview rows, plot paths)


def step_log(step: PlanStep, status: str = "done", log: list[str] | None = None,
             result: dict[str, Any] | None = None, error: str | None = None, seconds: float = 0.0) -> StepLog:
    """A StepLog for `step`."""
    entry: StepLog = {"id": step["id"], "node": step["node"], "action": step["action"],
                      "args": dict(step.get("args") or {}), "status": status, "seconds": round(seconds, 3),
                      "error": error, "log": list(log or [])}
    if result is not None:
        entry["result"] = result
    return entry


def merge_dict(left: dict | None, right: dict | None) -> dict:
    """Reducer that merges key by key (artifacts)."""
    return {**(left or {}), **(right or {})}


def steps_reducer(left: list | None, right: list | None) -> list:
    """Append step logs; an update whose first item is the string "reset" starts a new turn's list.

    A log with the same id as an existing one replaces it (a resumed step is not listed twice).
    """
    if right and right[0] == "reset":
        left, right = [], right[1:]
    merged = list(left or [])
    index = {s["id"]: i for i, s in enumerate(merged)}
    for step in right or []:
        if step["id"] in index:
            merged[index[step["id"]]] = step
        else:
            index[step["id"]] = len(merged)
            merged.append(step)
    return merged


def experiments_reducer(left: list | None, right: list | None) -> list:
    """Append experiment records, skipping ids already present (re-running a node is idempotent)."""
    seen = {e["id"] for e in left or []}
    return list(left or []) + [e for e in right or [] if e["id"] not in seen]


class AgentState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    thread_id: str
    dataset: DatasetRef | None
    plan: list[PlanStep]  # pending steps; the head is the one to run next
    planner: str  # which planner made the current plan: rules | llm | rules (fallback)
    steps: Annotated[list[StepLog], steps_reducer]  # this turn's steps
    profile: dict[str, Any] | None  # EDA summary (small: no per-row data)
    experiments: Annotated[list[dict[str, Any]], experiments_reducer]
    best: dict[str, Any] | None  # the best experiment record by the task's primary metric
    artifacts: Annotated[dict[str, str], merge_dict]
    error: str | None
    reply: str
    forked_from: dict[str, str] | None
    serving: dict[str, Any] | None  # the registered model this conversation last registered or deployed
    monitoring: Annotated[list[dict[str, Any]], experiments_reducer]  # drift / evaluate / retrain records
