"""The model registry: real models as MLflow Models that pyfunc serves, safe version numbers, clear errors."""

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from importlib.metadata import version as installed
from pathlib import Path

import joblib
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import yaml

from tools.errors import ArtifactError, DataError, ModelError
from tools.experiments import make_record
from tools.loading import file_sha256, load_dataset
from tools.model_registry import ModelRegistry, check_name
from tools.training import split, train

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
REGISTER = """
import json, os, sys, time
from tools.loading import load_dataset
from tools.model_registry import ModelRegistry
home, record_file, go = sys.argv[1:]
record = json.loads(open(record_file).read())
frame = load_dataset(record["dataset"]["path"]).frame
registry = ModelRegistry(home)
registry.register("warm/up", record, frame)  # imports MLflow, so both processes then race on equal terms
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
print(json.dumps([registry.register("credit/risk", record, frame)["version"] for _ in range(4)]))
"""
SERVE = """
import json, sys
import mlflow.pyfunc
from mlflow.pyfunc.scoring_server import infer_and_parse_data
model = mlflow.pyfunc.load_model(sys.argv[1])
# What `mlflow models serve` does with a request body: JSON numbers become the signature's types.
rows = infer_and_parse_data(json.loads(open(sys.argv[2]).read()), model.metadata.get_input_schema())
import tools
print(json.dumps({"tools": tools.__file__, "predictions": model.predict(rows).tolist()}))
"""
ACCELERATED = """
import json, sys
from tools import accel
accel.activate("cpu")
from tools.loading import load_dataset
from tools.model_registry import ModelRegistry
from tools.training import train
home, path = sys.argv[1], sys.argv[2]
frame = load_dataset(path).frame
fields = train(frame, "survived", "logistic_regression", out_dir=home, record_id="lr", plots=False,
               cv_folds=0)
record = {"id": "lr", "task": fields["task"], "metrics": fields["metrics"], "artifact": fields["artifact"],
          "dataset": {"path": path, "sha256": "", "rows": len(frame), "target": "survived"}}
info = ModelRegistry(home).register("credit/fast", record, frame)
model = ModelRegistry(home).load("credit/fast")
print(json.dumps({"module": type(model.named_steps["model"]).__module__,
                  "requirements": open(info["path"] + "/requirements.txt").read().split()}))
"""


def _record(path: Path, target: str, key: str, folder: Path, record_id: str) -> tuple[dict, pd.DataFrame]:
    """A real experiment record (as the trainer node makes it) and the frame it was trained on."""
    frame = load_dataset(path).frame
    fields = train(frame, target, key, out_dir=folder, record_id=record_id, plots=False, cv_folds=0)
    dataset = {"path": str(path), "sha256": file_sha256(path), "rows": len(frame), "cols": frame.shape[1],
               "target": target}
    record = make_record(id=record_id, thread_id="thread-1", node="trainer", model=key, task=fields["task"],
                         params=fields["params"], metrics=fields["metrics"], cv=fields["cv"], n_trials=None,
                         seconds=fields["seconds"], device=fields["device"], dataset=dataset,
                         artifact=fields["artifact"])
    return record, frame


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> tuple[dict, pd.DataFrame]:
    """Histogram boosting on titanic.csv: the model type MLflow's default skops format refuses."""
    return _record(SAMPLES / "titanic.csv", "survived", "hist_gradient_boosting",
                   tmp_path_factory.mktemp("models"), "hgb-1")


@pytest.fixture(scope="module")
def regressor(tmp_path_factory) -> tuple[dict, pd.DataFrame]:
    """Ridge (inside target scaling) on ames_housing.csv.gz."""
    return _record(SAMPLES / "ames_housing.csv.gz", "SalePrice", "ridge", tmp_path_factory.mktemp("models"),
                   "ridge-1")


@pytest.mark.parametrize("given, name", [("credit/risk", "credit/risk"), (" Credit/Risk ", "credit/risk"),
                                         ("churn-2024 / model_a", "churn-2024/model_a")])
def test_names_are_project_slash_model_in_lower_case(given, name):
    assert check_name(given) == name


BAD_NAMES = ["credit", "credit/risk/v2", "crédit/risk", "credit/ri sk", "../etc", "/risk", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_other_names_are_refused_with_an_example(name):
    with pytest.raises(ModelError, match="PROJECT/MODEL.*credit/risk"):
        check_name(name)


def _rows(record: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """The test split of the record's table, as served: the model's input columns only."""
    _, test = split(frame, record["dataset"]["target"], record["task"])
    pipeline = joblib.load(record["artifact"])
    return frame.iloc[test][list(pipeline.feature_names_in_)]


@pytest.mark.parametrize("model", ["classifier", "regressor"])
def test_a_version_is_an_mlflow_model_that_predicts_like_its_pipeline(model, request, tmp_path):
    record, frame = request.getfixturevalue(model)
    registry = ModelRegistry(tmp_path)
    info = registry.register("credit/risk", record, frame)
    assert (info["version"], info["experiment"], info["metrics"]) == (1, record["id"], record["metrics"])
    path = Path(info["path"])
    assert path == tmp_path / "registry" / "credit" / "risk" / "1"
    spec = yaml.safe_load((path / "MLmodel").read_text())
    assert {"python_function", "sklearn"} <= set(spec["flavors"])
    assert spec["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert (path / "code" / "tools" / "preprocess.py").is_file()  # the custom transformers travel along
    rows = _rows(record, frame)
    pipeline = joblib.load(record["artifact"])
    expected = pipeline.predict(rows)
    served = mlflow.pyfunc.load_model(str(path)).predict(rows)
    assert np.array_equal(served, expected) if model == "classifier" else np.allclose(served, expected)
    assert np.array_equal(registry.load("credit/risk", 1).predict(rows), expected)


def test_package_pins_its_requirements_and_describes_its_input(classifier, tmp_path):
    record, frame = classifier
    path = Path(ModelRegistry(tmp_path).register("credit/risk", record, frame)["path"])
    requirements = (path / "requirements.txt").read_text().split()
    for package in ("scikit-learn", "pandas", "numpy", "cloudpickle"):
        assert f"{package}=={installed(package)}" in requirements
    assert not any(r.startswith("scikit-learn-intelex") for r in requirements)  # stock scikit-learn here
    features = list(joblib.load(record["artifact"]).feature_names_in_)
    assert not {"name", "ticket", "boat", "body"} & set(features)  # identifiers and leaks the model dropped
    example = json.loads((path / "input_example.json").read_text())
    assert example["columns"] == features and len(example["data"]) == 5
    signature = json.loads(yaml.safe_load((path / "MLmodel").read_text())["signature"]["inputs"])
    types = {column["name"]: column["type"] for column in signature}
    assert list(types) == features and types["age"] == "double" and types["sex"] == "string"


def test_metadata_and_reference_statistics(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    info = registry.register("credit/risk", record, frame)
    meta = registry.get("credit/risk", 1)
    assert meta == json.loads((Path(info["path"]) / "dsgraph.json").read_text())
    assert (meta["name"], meta["version"], meta["created_at"]) == ("credit/risk", 1, info["created_at"])
    assert datetime.fromisoformat(meta["created_at"]).utcoffset().total_seconds() == 0
    assert meta["experiment"] == record
    assert meta["dataset"] == {"path": record["dataset"]["path"], "sha256": record["dataset"]["sha256"],
                               "target": "survived", "task": "classification", "rows": len(frame)}
    assert re.fullmatch(r"[0-9a-f]{40}|dsgraph .+", meta["code_version"])
    features = list(joblib.load(record["artifact"]).feature_names_in_)
    assert [f["name"] for f in meta["features"]] == features
    kinds = {f["name"]: f["kind"] for f in meta["features"]}
    assert kinds["age"] == "numeric" and kinds["sex"] == "categorical"
    assert meta["classes"] == [0, 1]
    reference = registry.reference("credit/risk", 1)
    train_rows, _ = split(frame, "survived", "classification")
    assert reference["rows"] == len(train_rows) and list(reference["columns"]) == features
    assert reference["columns"]["age"]["kind"] == "numeric"
    assert set(reference["columns"]["sex"]["frequencies"]) == {"male", "female"}


def test_regressor_metadata_has_no_classes(regressor, tmp_path):
    record, frame = regressor
    registry = ModelRegistry(tmp_path)
    registry.register("homes/price", record, frame)
    assert registry.get("homes/price")["classes"] is None
    assert registry.get("homes/price")["dataset"]["task"] == "regression"


def test_versions_count_up_and_the_latest_is_the_default(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    assert registry.names() == [] and registry.versions("credit/risk") == []
    for expected in (1, 2, 3):
        assert registry.register("Credit/Risk", record, frame)["version"] == expected
    registry.register("fraud/score", record, frame)
    (tmp_path / "registry" / "credit" / "risk" / ".staging-crashed").mkdir()  # a register killed midway
    assert registry.names() == ["credit/risk", "fraud/score"]
    assert [v["version"] for v in registry.versions("credit/risk")] == [1, 2, 3]
    assert registry.get("credit/risk")["version"] == 3 and registry.get("credit/risk", 2)["version"] == 2
    assert registry.path("credit/risk") == tmp_path / "registry" / "credit" / "risk" / "3"


def test_unknown_models_and_versions_say_what_exists(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ArtifactError, match="none yet"):
        registry.get("credit/risk")
    registry.register("credit/risk", record, frame)
    registry.register("credit/risk", record, frame)
    with pytest.raises(ArtifactError, match=r"No registered model named credit/other \(registered: credit/r"):
        registry.get("credit/other")
    with pytest.raises(ArtifactError, match="credit/risk has no version 7; its versions are 1, 2"):
        registry.load("credit/risk", 7)
    with pytest.raises(ModelError):
        registry.versions("not a name")


def test_a_missing_model_file_is_an_artifact_error(classifier, tmp_path):
    record, frame = classifier
    gone = record | {"artifact": str(tmp_path / "model-gone.joblib")}
    with pytest.raises(ArtifactError, match="Experiment hgb-1 has no model file .*train the model again"):
        ModelRegistry(tmp_path).register("credit/risk", gone, frame)
    assert ModelRegistry(tmp_path).names() == []


def test_a_record_of_another_table_is_refused(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    penguins = load_dataset(SAMPLES / "penguins.csv").frame
    with pytest.raises(DataError, match="not trained on this table.*no target column 'survived'.*titanic"):
        registry.register("credit/risk", record, penguins)
    with pytest.raises(DataError, match="it has 500 rows, the experiment's table 1,309"):
        registry.register("credit/risk", record, frame.head(500))
    with pytest.raises(DataError, match="lacks the model's input column.*age"):
        registry.register("credit/risk", record, frame.drop(columns=["age"]))
    assert registry.names() == [] and not list((tmp_path / "registry").rglob("*.json"))


def test_two_processes_registering_at_once_get_distinct_versions(classifier, tmp_path):
    record, _ = classifier
    (tmp_path / "record.json").write_text(json.dumps(record))
    command = [sys.executable, "-c", REGISTER, *(str(tmp_path / name) for name in ("", "record.json", "go"))]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    for process in processes:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
    (tmp_path / "go").touch()
    versions = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        versions += json.loads(out.strip().splitlines()[-1])
    assert sorted(versions) == list(range(1, 9))
    folder = tmp_path / "registry" / "credit" / "risk"
    assert sorted(int(p.name) for p in folder.iterdir()) == list(range(1, 9))  # no staging folder left
    assert [v["version"] for v in ModelRegistry(tmp_path).versions("credit/risk")] == list(range(1, 9))


def test_a_fresh_process_serves_the_package_with_its_own_code(classifier, tmp_path):
    record, frame = classifier
    path = Path(ModelRegistry(tmp_path).register("credit/risk", record, frame)["path"])
    rows = _rows(record, frame).head(50)
    rows_file = tmp_path / "request.json"
    split_rows = json.loads(rows.to_json(orient="split", index=False))
    rows_file.write_text(json.dumps({"dataframe_split": split_rows}))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", SERVE, str(path), str(rows_file)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["tools"]).is_relative_to(path / "code")
    assert result["predictions"] == joblib.load(record["artifact"]).predict(rows).tolist()


def test_a_model_fitted_with_scikit_learn_intelex_requires_it(tmp_path):
    pytest.importorskip("sklearnex")
    done = subprocess.run([sys.executable, "-c", ACCELERATED, str(tmp_path), str(SAMPLES / "titanic.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["module"].startswith("sklearnex")
    assert f"scikit-learn-intelex=={installed('scikit-learn-intelex')}" in result["requirements"]


def test_loading_leaves_sys_path_as_it_was(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    registry.register("credit/risk", record, frame)
    before = list(sys.path)
    registry.load("credit/risk")
    registry.load("credit/risk", 1)
    assert sys.path == before


def test_registering_takes_well_under_a_second_once_mlflow_is_loaded(classifier, tmp_path):
    record, frame = classifier
    registry = ModelRegistry(tmp_path)
    registry.register("credit/risk", record, frame)  # the first call imports MLflow
    started = time.perf_counter()
    registry.register("credit/risk", record, frame)
    assert time.perf_counter() - started < 1.0
