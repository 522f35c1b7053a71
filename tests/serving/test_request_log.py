"""The request log: entries from several processes at once, summaries, input rows read back as a frame."""

import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from tests.serving.conftest import ROOT
from tools.request_log import SAMPLE_ROWS, RequestLog

WRITER = """
import sys
from tools.request_log import RequestLog
log = RequestLog(sys.argv[1])
for i in range(int(sys.argv[2])):
    log.add(model="p/m", version=int(sys.argv[3]), mirrored=False, status=200, latency_ms=1.0, rows=1,
            inputs=[{"writer": int(sys.argv[3]), "i": i}], outputs=[0])
log.close()
"""


def test_entries_are_summarised_per_version_and_mirrored_flag(tmp_path):
    log = RequestLog(tmp_path)
    for latency in range(1, 101):
        log.add(model="p/m", version=1, mirrored=False, status=200, latency_ms=latency, rows=2)
    log.add(model="p/m", version=1, mirrored=False, status=422, latency_ms=1.0, rows=5)
    log.add(model="p/m", version=2, mirrored=True, status=200, latency_ms=3.0, rows=2)
    log.add(model="q/other", version=1, mirrored=False, status=200, latency_ms=3.0, rows=2)
    summary = log.summary("p/m")
    assert [(s["version"], s["mirrored"], s["requests"], s["errors"], s["rows"]) for s in summary] == \
        [(1, False, 101, 1, 205), (2, True, 1, 0, 2)]
    assert 49 <= summary[0]["p50_ms"] <= 52 and 99 <= summary[0]["p99_ms"] <= 100
    assert [e["model"] for e in log.recent(limit=2)] == ["q/other", "p/m"]
    assert log.summary("p/m", since=datetime.now(UTC).timestamp() + 60) == []
    log.close()


def test_logged_inputs_read_back_as_a_frame_of_the_sampled_rows(tmp_path):
    log = RequestLog(tmp_path)
    rows = [{"age": float(i), "city": "Oslo" if i % 2 else None} for i in range(50)]
    log.add(model="p/m", version=1, mirrored=False, status=200, latency_ms=1, rows=50, inputs=rows,
            outputs=list(range(50)))
    log.add(model="p/m", version=2, mirrored=True, status=200, latency_ms=1, rows=50, inputs=rows,
            outputs=[1])
    log.add(model="p/m", version=1, mirrored=False, status=422, latency_ms=1, rows=1, inputs=[{"age": "x"}])
    log.add(model="p/m", version=1, mirrored=False, status=200, latency_ms=1, rows=1,
            inputs=[{"age": 99.0, "city": "Rome"}])
    frame = log.inputs("p/m")
    assert len(frame) == SAMPLE_ROWS + 1, "answered requests only, shadow copies not twice, 20 rows each"
    assert frame["age"].dtype == np.float64 and frame["age"].tolist()[-2:] == [19.0, 99.0]
    assert frame["city"].isna().sum() == SAMPLE_ROWS // 2
    assert log.inputs("p/m", last=1).to_dict("records") == [{"age": 99.0, "city": "Rome"}]
    assert len(log.inputs("p/m", version=2)) == SAMPLE_ROWS
    assert log.inputs("nobody/here").empty
    assert len(log.recent("p/m", limit=10)[-1]["outputs"]) == SAMPLE_ROWS
    log.close()


def test_several_processes_log_at_once(tmp_path):
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "400", str(n)], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for n in range(1, 4)]
    for writer in writers:
        assert writer.wait(120) == 0, writer.stderr.read()
    frame = RequestLog(tmp_path).inputs("p/m")
    assert len(frame) == 1200
    assert frame.groupby("writer")["i"].apply(sorted).to_dict() == {n: list(range(400)) for n in range(1, 4)}


def test_adding_an_entry_does_not_wait_for_the_disk(tmp_path):
    log = RequestLog(tmp_path)
    inputs = pd.DataFrame({"a": range(20), "b": ["x"] * 20}).to_dict("records")
    started = time.perf_counter()
    for _ in range(2_000):
        log.add(model="p/m", version=1, mirrored=False, status=200, latency_ms=1, rows=20, inputs=inputs,
                outputs=list(range(20)))
    per_entry_ms = (time.perf_counter() - started) / 2_000 * 1e3
    log.close()
    assert per_entry_ms < 0.2, f"{per_entry_ms:.3f} ms per entry"
    assert log.summary("p/m")[0]["requests"] == 2_000
