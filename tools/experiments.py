"""Experiment records (CONTRACT.md), their SQLite store, best-model choice and the best-model artifact."""

import json
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.errors import ArtifactError
from tools.keys import METRICS, PRIMARY_METRIC
from tools.metrics import is_better, resolve_metric

BEST_MODEL_NAME = "best_model.joblib"


def make_record(*, id: str, thread_id: str, node: str, model: str, task: str, params: dict,
                metrics: dict, cv: dict | None, n_trials: int | None, seconds: float, device: str,
                dataset: dict, artifact: str | None, created_at: str | None = None,
                **extra: Any) -> dict:
    """One experiment record with exactly the CONTRACT.md keys first, then any extras (plots, notes…)."""
    record = {
        "id": id, "thread_id": thread_id, "node": node, "model": model, "task": task,
        "params": params, "metrics": metrics, "cv": cv, "n_trials": n_trials,
        "seconds": round(float(seconds), 3), "device": device, "dataset": dataset,
        "artifact": artifact,
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return record | {key: value for key, value in extra.items() if key not in record}


class ExperimentStore:
    """All experiment records of a dsgraph home in one SQLite file, upserted by id.

    Each call opens its own connection (WAL journal, busy timeout), so several processes can share it.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS experiments ("
                " id TEXT PRIMARY KEY, thread_id TEXT, created_at TEXT, record TEXT NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS experiments_thread ON experiments(thread_id)")

    def add(self, record: dict) -> None:
        """Insert `record`, or replace the stored one with the same id (idempotent)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO experiments (id, thread_id, created_at, record) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET thread_id = excluded.thread_id,"
                " created_at = excluded.created_at, record = excluded.record",
                (record["id"], record.get("thread_id"), record.get("created_at"),
                 json.dumps(record, default=str)))

    def list(self, thread_id: str | None = None, limit: int | None = None) -> list[dict]:
        """Records oldest first (of one thread, or all); with `limit`, only the most recent `limit`."""
        where, args = ("WHERE thread_id = ?", [thread_id]) if thread_id else ("", [])
        sql = f"SELECT record FROM experiments {where} ORDER BY rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with closing(self._connect()) as db:
            rows = db.execute(sql, args).fetchall()
        return [json.loads(row[0]) for row in reversed(rows)]

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)


def best(records: list[dict], metric: str | None = None, task: str | None = None) -> dict | None:
    """The record with the best value of `metric`, in that metric's direction (`ranked_by` says how).

    Without `metric`, the primary metric of `task` (default: the task of the most recent record).
    Records of another task, or lacking the metric, are ignored; ties keep the earliest record.
    """
    if not records:
        return None
    metric = resolve_metric(metric or PRIMARY_METRIC[task or records[-1]["task"]])
    candidates = [r for r in records if r.get("task") == METRICS[metric].task
                  and (r.get("metrics") or {}).get(metric) is not None]
    basis = ranked_by(candidates, metric)
    chosen = None
    for record in candidates:
        if chosen is None or is_better(metric, value(record, metric, basis), value(chosen, metric, basis)):
            chosen = record
    return chosen


def ranked_by(records: list[dict], metric: str) -> str:
    """"cv" when every record has a cross-validated `metric` from one protocol on one dataset (small data:
    a fairer ranking than one small test split), else "test"."""
    protocols = {(r["dataset"].get("sha256"), r["cv"].get("folds"), r["cv"].get("repeats"))
                 for r in records if (r.get("cv") or {}).get("means", {}).get(metric) is not None}
    with_cv = sum((r.get("cv") or {}).get("means", {}).get(metric) is not None for r in records)
    return "cv" if records and with_cv == len(records) and len(protocols) == 1 else "test"


def basis_label(records: list[dict], metric: str) -> str:
    """How `best` ranks these records, in words ("5-fold cross-validation ×2 on the training rows …")."""
    if ranked_by(records, metric) == "test":
        return "the test split"
    cv = records[-1]["cv"]
    repeats = f" ×{cv['repeats']}" if (cv.get("repeats") or 1) > 1 else ""
    return (f"{cv['folds']}-fold cross-validation{repeats} on the training rows (small data: steadier than "
            "the small test split)")


def value(record: dict, metric: str, basis: str = "test") -> float | None:
    """The record's `metric`: its cross-validated mean (basis "cv") or its test-split value."""
    if basis == "cv":
        return ((record.get("cv") or {}).get("means") or {}).get(metric)
    return (record.get("metrics") or {}).get(metric)


def save_best_model(record: dict, workspace: str | os.PathLike) -> str:
    """Copy the record's model artifact to `workspace`/best_model.joblib (atomically) and return its path."""
    source = Path(record.get("artifact") or "")
    if not source.is_file():
        raise ArtifactError(
            f"The model file of experiment {record.get('id')} ({source}) is missing; train the model again.")
    target = Path(workspace) / BEST_MODEL_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".joblib.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return str(target)
