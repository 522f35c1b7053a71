"""Experiment memory: contract records, a durable upserting store, direction-aware best model."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools.errors import ArtifactError, ModelError
from tools.experiments import ExperimentStore, best, make_record, save_best_model

CONTRACT_KEYS = ["id", "thread_id", "node", "model", "task", "params", "metrics", "cv", "n_trials", "seconds",
                 "device", "dataset", "artifact", "created_at"]


def record(id: str, task: str = "classification", thread_id: str = "t1", **metrics) -> dict:
    return make_record(id=id, thread_id=thread_id, node="trainer", model="random_forest", task=task,
                       params={}, metrics=metrics, cv=None, n_trials=None, seconds=1.0, device="cpu",
                       dataset={"path": "d.csv", "sha256": "abc", "rows": 10, "cols": 3, "target": "y"},
                       artifact=f"/nowhere/model-{id}.joblib")


def test_make_record_has_exactly_the_contract_keys_then_extras():
    made = make_record(id="a", thread_id="t", node="tuner", model="svc", task="classification",
                       params={"C": 1}, metrics={"accuracy": 0.8},
                       cv={"folds": 5, "mean": 0.8, "std": 0.01}, n_trials=50, seconds=1.23456,
                       device="cpu", dataset={}, artifact="m.joblib", notes=["x"])
    assert list(made)[:len(CONTRACT_KEYS)] == CONTRACT_KEYS and made["notes"] == ["x"]
    assert made["seconds"] == 1.235 and made["created_at"].startswith("20")


@pytest.fixture
def classification_records() -> list[dict]:
    return [record("a", accuracy=0.80, log_loss=0.40, f1=0.70), record("b", accuracy=0.90, log_loss=0.50),
            record("c", accuracy=0.85, log_loss=0.30, f1=0.75),
            record("r", task="regression", r2=0.99, rmse=5.0)]


def test_best_by_accuracy_takes_the_highest(classification_records):
    assert best(classification_records, "accuracy")["id"] == "b"
    assert best(classification_records, "acc")["id"] == "b"
    assert best(classification_records[:3])["id"] == "b"  # the task's primary metric


def test_best_by_log_loss_takes_the_lowest_and_skips_records_without_it(classification_records):
    assert best(classification_records, "log_loss")["id"] == "c"
    assert best(classification_records, "f1")["id"] == "c"


def test_best_by_rmse_takes_the_lowest_of_the_right_task():
    records = [record("x", task="regression", rmse=12.0, r2=0.7),
               record("y", task="regression", rmse=9.5, r2=0.8),
               record("z", task="regression", rmse=20.0, r2=0.5), record("k", accuracy=0.99)]
    assert best(records, "rmse")["id"] == "y"
    assert best(records, "mae") is None
    assert best(records, task="regression")["id"] == "y"
    assert best([]) is None
    with pytest.raises(ModelError, match="Unknown metric"):
        best(records, "speed")


def test_store_upserts_idempotently_and_survives_reopening(tmp_path):
    path = tmp_path / "experiments.db"
    store = ExperimentStore(path)
    store.add(record("a", accuracy=0.1))
    store.add(record("b", thread_id="t2", accuracy=0.2))
    store.add(record("a", accuracy=0.3))
    store.add(record("a", accuracy=0.3))
    reopened = ExperimentStore(path)
    assert [(r["id"], r["metrics"]["accuracy"]) for r in reopened.list()] == [("a", 0.3), ("b", 0.2)]
    assert [r["id"] for r in reopened.list(thread_id="t2")] == ["b"]
    reopened.add(record("c"))
    assert [r["id"] for r in reopened.list(limit=2)] == ["b", "c"]


def test_store_is_safe_for_concurrent_processes(tmp_path):
    path = tmp_path / "experiments.db"
    script = ("import sys; from tools.experiments import ExperimentStore\n"
              "store = ExperimentStore(sys.argv[1])\n"
              "for i in range(25):\n"
              "    store.add({'id': f'{sys.argv[2]}-{i}', 'thread_id': sys.argv[2], 'task': 'c'})\n")
    root = Path(__file__).resolve().parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", script, str(path), name], cwd=root) for name in "pq"]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    stored = ExperimentStore(path).list()
    assert len(stored) == 50 and len({r["id"] for r in stored}) == 50


def test_save_best_model_copies_the_artifact_into_the_workspace(tmp_path):
    artifact = tmp_path / "model-a.joblib"
    artifact.write_bytes(b"model bytes")
    chosen = record("a", accuracy=0.9) | {"artifact": str(artifact)}
    path = save_best_model(chosen, tmp_path / "workspace")
    assert Path(path) == tmp_path / "workspace" / "best_model.joblib"
    assert Path(path).read_bytes() == b"model bytes"
    with pytest.raises(ArtifactError, match="missing"):
        save_best_model(record("b"), tmp_path / "workspace")
