"""The gateway's request log: one entry per served request or shadow copy, in `<home>/requests.db`."""

import logging
import os
import queue
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

SAMPLE_ROWS = 20  # input and output rows kept per entry: enough for drift checks, small enough to log all
BATCH = 500  # most entries written in one transaction
TIMEOUT_S = 30.0
COLUMNS = ("time", "model", "version", "mirrored", "status", "latency_ms", "rows", "inputs", "outputs")
log = logging.getLogger(__name__)


class RequestLog:
    """Entries are queued by `add` and written by one background thread per instance, so a request never
    waits for SQLite; the thread commits whatever is queued at once (a kill -9 loses only those entries).

    Several processes may log into the same file at once (WAL journal, busy timeout).
    """

    def __init__(self, home: str | os.PathLike) -> None:
        self.path = Path(home) / "requests.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, time REAL NOT NULL,"
                " model TEXT NOT NULL, version INTEGER, mirrored INTEGER NOT NULL, status INTEGER NOT NULL,"
                " latency_ms REAL NOT NULL, rows INTEGER NOT NULL, inputs BLOB, outputs BLOB)")
            db.execute("CREATE INDEX IF NOT EXISTS requests_model_time ON requests(model, time)")

    def add(self, *, model: str, version: int | None, mirrored: bool, status: int, latency_ms: float,
            rows: int, inputs: list[dict] | None = None, outputs: list | None = None) -> None:
        """Queue one entry (a sample of the first SAMPLE_ROWS input and output rows is kept)."""
        self._ensure_writer()
        self._queue.put((time.time(), model, version, int(bool(mirrored)), int(status), float(latency_ms),
                         int(rows), inputs[:SAMPLE_ROWS] if inputs else None,
                         outputs[:SAMPLE_ROWS] if outputs is not None else None))

    def flush(self) -> None:
        """Wait until every entry queued so far is written."""
        if self._writer is not None and self._writer.is_alive():
            done = threading.Event()
            self._queue.put(done)
            done.wait(TIMEOUT_S)

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None and writer.is_alive():
            self._queue.put(None)
            writer.join(TIMEOUT_S)

    def recent(self, model: str | None = None, limit: int = 100,
               since: float | datetime | None = None) -> list[dict]:
        """The latest entries, newest first (of one model, or all; from `since` on when given)."""
        where, args = _where(model=model, since=since)
        sql = f"SELECT {', '.join(COLUMNS)} FROM requests {where} ORDER BY id DESC LIMIT ?"
        return [_entry(row) for row in self._read(sql, [*args, int(limit)])]

    def summary(self, model: str, since: float | datetime | None = None) -> list[dict]:
        """Per version and mirrored flag: requests, errors (status ≥ 400), rows, latency p50 / p99 (ms)."""
        where, args = _where(model=model, since=since)
        rows = self._read(f"SELECT version, mirrored, status, latency_ms, rows FROM requests {where}", args)
        groups: dict[tuple, list] = {}
        for version, mirrored, status, latency, n in rows:
            groups.setdefault((version, mirrored), []).append((status, latency, n))
        order = sorted(groups, key=lambda key: (key[0] or 0, key[1]))
        return [_group(version, mirrored, groups[version, mirrored]) for version, mirrored in order]

    def inputs(self, model: str, version: int | None = None, last: int | None = None,
               since: float | datetime | None = None) -> pd.DataFrame:
        """The sampled input rows of successful requests, oldest first, as one frame.

        `last`: only the last N requests. Without `version`, the requests answered to clients (shadow
        copies repeat their rows); with it, every request that version answered, mirrored or not.
        """
        where, args = _where(model=model, since=since, version=version)
        where += " AND status = 200 AND inputs IS NOT NULL"
        if version is None:
            where += " AND mirrored = 0"
        sql = f"SELECT inputs FROM requests {where} ORDER BY id DESC"
        if last is not None:
            sql += " LIMIT ?"
            args.append(int(last))
        records = [row for (blob,) in reversed(self._read(sql, args)) for row in orjson.loads(blob)]
        return pd.DataFrame.from_records(records) if records else pd.DataFrame()

    def _read(self, sql: str, args: list) -> list[tuple]:
        self.flush()  # this instance's own queued entries are visible to its readers
        with closing(self._connect()) as db:
            return db.execute(sql, args).fetchall()

    def _ensure_writer(self) -> None:
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_forever, name="request-log",
                                                    daemon=True)
                    self._writer.start()

    def _write_forever(self) -> None:
        with closing(self._connect()) as db:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process loses nothing committed
            while True:
                items = [self._queue.get()]
                while len(items) < BATCH:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._write(db, [item for item in items if isinstance(item, tuple)])
                for item in items:
                    if item is None:
                        return
                    if isinstance(item, threading.Event):
                        item.set()

    def _write(self, db: sqlite3.Connection, entries: list[tuple]) -> None:
        if not entries:
            return
        try:
            with db:
                db.executemany(f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 9)})",
                               [(*entry[:7], _blob(entry[7]), _blob(entry[8])) for entry in entries])
        except sqlite3.Error:
            # The log must never take the gateway down: the entries are lost, the reason is logged.
            log.exception("could not write %d request log entries to %s", len(entries), self.path)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=TIMEOUT_S, check_same_thread=False)


def _where(*, model: str | None, since: float | datetime | None, version: int | None = None
           ) -> tuple[str, list]:
    clauses, args = ["1 = 1"], []
    for clause, value in (("model = ?", model), ("version = ?", version), ("time >= ?", _epoch(since))):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return "WHERE " + " AND ".join(clauses), args


def _epoch(since: float | datetime | None) -> float | None:
    return since.timestamp() if isinstance(since, datetime) else since


def _blob(values: list | None) -> bytes | None:
    if values is None:
        return None
    return orjson.dumps(values, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _entry(row: tuple) -> dict[str, Any]:
    entry = dict(zip(COLUMNS, row, strict=True))
    entry["time"] = datetime.fromtimestamp(entry["time"], UTC).isoformat(timespec="milliseconds")
    entry["mirrored"] = bool(entry["mirrored"])
    for key in ("inputs", "outputs"):
        entry[key] = orjson.loads(entry[key]) if entry[key] is not None else None
    return entry


def _group(version: int | None, mirrored: int, entries: list[tuple]) -> dict[str, Any]:
    latency = np.array([latency for _, latency, _ in entries])
    return {"version": version, "requests": len(entries),
            "errors": sum(status >= 400 for status, _, _ in entries),
            "rows": sum(n for _, _, n in entries),
            "p50_ms": round(float(np.percentile(latency, 50)), 3),
            "p99_ms": round(float(np.percentile(latency, 99)), 3), "mirrored": bool(mirrored)}
