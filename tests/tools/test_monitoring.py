"""The monitoring log: records with id and time, filters, oldest first, and several writing processes."""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tools.monitoring import MonitoringLog

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from tools.monitoring import MonitoringLog
log = MonitoringLog(sys.argv[1])
for i in range(50):
    log.add({"kind": "drift", "model": "p/m", "version": 1, "writer": sys.argv[2], "i": i})
"""


def _drift(model: str = "credit/risk", **extra) -> dict:
    return {"kind": "drift", "model": model, "version": 2, "rows": 1000, "verdict": "ok", "features": [],
            "drifted": []} | extra


def test_a_record_gets_an_id_and_a_time_and_comes_back_as_stored(tmp_path):
    log = MonitoringLog(tmp_path)
    stored = log.add(_drift())
    assert len(stored["id"]) == 32 and datetime.fromisoformat(stored["at"]).tzinfo is not None
    assert stored == _drift() | {"id": stored["id"], "at": stored["at"]}
    assert MonitoringLog(tmp_path).list() == [stored]  # another instance reads the same file
    assert (tmp_path / "monitoring.db").is_file()


def test_given_ids_and_times_are_kept_and_an_id_is_stored_once(tmp_path):
    log = MonitoringLog(tmp_path)
    log.add(_drift(id="r1", at="2026-01-01T00:00:00+00:00", verdict="ok"))
    log.add(_drift(id="r1", at="2026-01-01T00:00:00+00:00", verdict="alert"))
    assert [(r["id"], r["at"], r["verdict"]) for r in log.list()] == [
        ("r1", "2026-01-01T00:00:00+00:00", "alert")]


def test_list_filters_by_model_and_kind_oldest_first_and_limits_to_the_latest(tmp_path):
    log = MonitoringLog(tmp_path)
    log.add(_drift("credit/risk", step=1))
    log.add({"kind": "evaluate", "model": "credit/risk", "version": 2, "verdict": "stable", "step": 2})
    log.add(_drift("churn/basic", step=3))
    log.add({"kind": "retrain", "model": "credit/risk", "version": 2, "recommendation": "keep", "step": 4})
    log.add(_drift("credit/risk", step=5))
    assert [r["step"] for r in log.list()] == [1, 2, 3, 4, 5]
    assert [r["step"] for r in log.list(model="credit/risk")] == [1, 2, 4, 5]
    assert [r["step"] for r in log.list(kind="drift")] == [1, 3, 5]
    assert [r["step"] for r in log.list(model="credit/risk", kind="drift")] == [1, 5]
    assert [r["step"] for r in log.list(limit=2)] == [4, 5]
    assert log.list(model="nobody/here") == []


@pytest.mark.parametrize("record", [{"model": "p/m"}, {"kind": "guess", "model": "p/m"}, {"kind": "drift"}])
def test_a_record_without_a_known_kind_or_a_model_is_refused(tmp_path, record):
    with pytest.raises(ValueError, match="kind.*model"):
        MonitoringLog(tmp_path).add(record)


def test_several_processes_write_at_once(tmp_path):
    MonitoringLog(tmp_path)  # creates the file and switches it to WAL before the writers race
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)], cwd=ROOT,
                                stderr=subprocess.PIPE) for n in range(3)]
    for writer in writers:
        assert writer.wait(120) == 0, writer.stderr.read().decode()
    records = MonitoringLog(tmp_path).list(model="p/m")
    assert len(records) == 150 and len({r["id"] for r in records}) == 150
    for n in range(3):  # each writer's records in the order it wrote them
        assert [r["i"] for r in records if r["writer"] == str(n)] == list(range(50))
    json.dumps(records)
