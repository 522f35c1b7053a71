"""Reading the checkpoint store: a thread's checkpoints in plain words, thread listing, blob sizes, forks."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.types import StateSnapshot


def describe(history: list[StateSnapshot]) -> list[dict[str, Any]]:
    """Newest-first snapshots as rows: id, node (the one that wrote it), time, next, one-line summary."""
    rows = []
    for i, snap in enumerate(history):
        older = history[i + 1] if i + 1 < len(history) else None
        wrote = ",".join(older.next) if older else "start"
        node = "input" if snap.metadata.get("source") == "input" else wrote
        rows.append({"checkpoint_id": snap.config["configurable"]["checkpoint_id"], "node": node,
                     "time": snap.created_at, "next": list(snap.next), "step": snap.metadata.get("step"),
                     "summary": summary(snap, node)})
    return rows


def summary(snap: StateSnapshot, node: str) -> str:
    """One line: what the writing node did and what would run next."""
    values = snap.values or {}
    logs = [s for s in values.get("steps") or [] if s.get("status") not in ("pending", None)]
    if node == "input":
        text = "user message received"
    elif node == "planner":
        plan = values.get("plan") or []
        text = f"planned {len(plan)} step(s): " + ", ".join(s["action"] for s in plan) if plan else "no steps"
    elif logs:
        last = logs[-1]
        text = f"{last['action']} {last['status']}" + (f": {last['error']}" if last.get("error") else "")
    else:
        text = node
    pending = f" · next: {', '.join(snap.next)}" if snap.next else ""
    return f"{text}{pending}"


def fork_target(next_nodes: tuple[str, ...]) -> str:
    """The `as_node` that makes a copied state resume at the same place (routers recompute the next node)."""
    if next_nodes == ("planner",):
        return "__start__"
    return "planner" if next_nodes and next_nodes != ("__start__",) else "reporter"


def thread_rows(database: Path) -> list[tuple[str, str]]:
    """(thread_id, latest checkpoint id) of every thread, newest first."""
    try:
        with _reading(database) as conn:
            return conn.execute(
                "SELECT thread_id, MAX(checkpoint_id) AS latest FROM checkpoints WHERE checkpoint_ns = ''"
                " GROUP BY thread_id ORDER BY latest DESC").fetchall()
    except sqlite3.OperationalError:  # no checkpoint written yet: no file, or the table does not exist
        return []


def blob_sizes(database: Path, thread_id: str) -> list[int]:
    """Serialized bytes per checkpoint of a thread (checkpoint, metadata, pending writes), oldest first."""
    with _reading(database) as conn:
        rows = conn.execute(
            "SELECT c.checkpoint_id, LENGTH(c.checkpoint) + LENGTH(c.metadata) +"
            " COALESCE((SELECT SUM(LENGTH(w.value)) FROM writes w WHERE w.thread_id = c.thread_id"
            "  AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id), 0)"
            " FROM checkpoints c WHERE c.thread_id = ? AND c.checkpoint_ns = '' ORDER BY c.checkpoint_id",
            (thread_id,)).fetchall()
    return [int(size) for _, size in rows]


@contextmanager
def _reading(database: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection of our own: the saver's connection is its own, used under its lock only."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()
