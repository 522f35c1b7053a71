"""The monitoring log: drift, evaluate and retrain records (CONTRACT.md) in `<home>/monitoring.db`."""

import json
import os
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

KINDS = ("drift", "evaluate", "retrain")


class MonitoringLog:
    """Records in one SQLite file, upserted by id; each call opens its own connection (WAL journal, busy
    timeout), so several processes can write at once."""

    def __init__(self, home: str | os.PathLike) -> None:
        self.path = Path(home) / "monitoring.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, at TEXT NOT NULL,"
                       " kind TEXT NOT NULL, model TEXT NOT NULL, version INTEGER, record TEXT NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS records_model_kind ON records(model, kind)")

    def add(self, record: dict) -> dict:
        """Store `record` (a new "id" and the "at" time in UTC ISO when absent) and return what was stored."""
        if record.get("kind") not in KINDS or not record.get("model"):
            raise ValueError(f"a monitoring record needs a kind ({', '.join(KINDS)}) and a model; got kind "
                             f"{record.get('kind')!r}, model {record.get('model')!r}")
        stored = {"id": uuid.uuid4().hex, "at": datetime.now(UTC).isoformat(timespec="seconds")} | record
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO records (id, at, kind, model, version, record) VALUES (?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT(id) DO UPDATE SET at = excluded.at, kind = excluded.kind,"
                       " model = excluded.model, version = excluded.version, record = excluded.record",
                       (stored["id"], stored["at"], stored["kind"], stored["model"], stored.get("version"),
                        json.dumps(stored, default=str)))
        return stored

    def list(self, model: str | None = None, kind: str | None = None, limit: int | None = None) -> list[dict]:
        """Records oldest first (of one model and / or kind); with `limit`, only the most recent `limit`."""
        given = {column: value for column, value in (("model", model), ("kind", kind)) if value is not None}
        where = " AND ".join(f"{column} = ?" for column in given)
        sql = f"SELECT record FROM records {f'WHERE {where}' if where else ''} ORDER BY rowid DESC"
        args = list(given.values())
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with closing(self._connect()) as db:
            rows = db.execute(sql, args).fetchall()
        return [json.loads(row[0]) for row in reversed(rows)]

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)
