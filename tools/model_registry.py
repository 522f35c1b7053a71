"""The model registry: numbered versions of trained pipelines, as MLflow Models with dsgraph metadata."""

import errno
import importlib.metadata
import json
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd

from tools import reference
from tools.errors import ArtifactError, DataError, ModelError
from tools.keys import TASKS
from tools.predict import load_model
from tools.preprocess import input_branches

NAME = re.compile(r"[a-z0-9_-]+/[a-z0-9_-]+")
METADATA = "dsgraph.json"
REFERENCE = "reference.json"
EXAMPLE_ROWS = 5
PUBLISH_ATTEMPTS = 100  # processes registering the same model at once each take the next free number
# Always required: the pickle format, and what the packaged tools/preprocess.py imports.
BASE_REQUIREMENTS = ("cloudpickle", "numpy", "pandas", "scikit-learn")
# Preprocessing branch (tools/preprocess.py) of an input column → its kind.
ENCODING_KINDS = {"numeric": "numeric", "flag": "boolean", "categorical": "categorical",
                  "datetime": "datetime", "high_cardinality": "categorical"}
# Distributions of modules named otherwise (scikit-learn-intelex's: models fitted with it patched in).
DISTRIBUTIONS = {"sklearn": "scikit-learn", "sklearnex": "scikit-learn-intelex",
                 "onedal": "scikit-learn-intelex", "daal4py": "scikit-learn-intelex"}
_TOOLS = Path(__file__).resolve().parent


def check_name(name: str) -> str:
    """`name` as a registered model name `project/model` (spaces stripped, lower case); else ModelError."""
    cleaned = "/".join(part.strip() for part in str(name).strip().lower().split("/"))
    if not NAME.fullmatch(cleaned):
        raise ModelError(f"'{name}' is not a registered model name: use PROJECT/MODEL with lower-case "
                         "letters, digits, '-' and '_', e.g. credit/risk.")
    return cleaned


class ModelRegistry:
    """Registered models under `<home>/registry/<project>/<model>/<version>/`, one MLflow Model per version.

    A version is written in a staging folder and renamed into place, so a half-written version is never
    listed and two processes never publish the same number.
    """

    def __init__(self, home: str | os.PathLike) -> None:
        self.home = Path(home)
        self.root = self.home / "registry"

    def register(self, name: str, record: dict, frame: pd.DataFrame) -> dict[str, Any]:
        """Package experiment `record`'s pipeline as the next version of `name`; `frame`: its training table.

        Returns name, version, path, experiment (record id), metrics and created_at.
        """
        name = check_name(name)
        pipeline = _pipeline(record)
        features = [str(column) for column in pipeline.feature_names_in_]
        _check_dataset(record, frame, features)
        kinds = _feature_kinds(pipeline, frame[features])
        rows = _training_rows(frame, record)[features]
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".staging-{uuid.uuid4().hex}"
        try:
            _save_mlflow_model(pipeline, staging, _example(rows))
            _write_json(staging / REFERENCE, reference.reference_stats(
                rows, kinds={column: _reference_kind(kind) for column, kind in kinds.items()}), indent=None)
            metadata = _metadata(name, record, frame, pipeline, kinds, created_at)
            version = self._publish(staging, metadata)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return {"name": name, "version": version, "path": str(folder / str(version)),
                "experiment": record.get("id"), "metrics": record.get("metrics"), "created_at": created_at}

    def names(self) -> list[str]:
        """Names of every model with at least one version, sorted."""
        if not self.root.is_dir():
            return []
        found = [f"{project.name}/{model.name}" for project in self.root.iterdir() if project.is_dir()
                 for model in project.iterdir() if NAME.fullmatch(f"{project.name}/{model.name}")]
        return sorted(name for name in found if self._numbers(name))

    def versions(self, name: str) -> list[dict[str, Any]]:
        """The metadata (dsgraph.json) of every version of `name`, oldest first; [] when it has none."""
        name = check_name(name)
        return [self._read(name, number, METADATA) for number in self._numbers(name)]

    def get(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The metadata of `version` of `name` (the latest when None); ArtifactError says what exists."""
        name = check_name(name)
        return self._read(name, self._resolve(name, version), METADATA)

    def path(self, name: str, version: int | None = None) -> Path:
        """The folder of `version` of `name` (the latest when None): an MLflow Model anyone can load."""
        name = check_name(name)
        return self.root / name / str(self._resolve(name, version))

    def load(self, name: str, version: int | None = None):
        """The fitted scikit-learn Pipeline of `version` of `name` (the latest when None), read by MLflow."""
        import mlflow.sklearn  # seconds to import: only loading and registering need it

        path = self.path(name, version)
        before = set(sys.path)
        try:
            return mlflow.sklearn.load_model(str(path))
        except Exception as error:  # unpickling fails in many ways; all mean the package is unusable
            raise ArtifactError(f"Version {path.name} of {check_name(name)} could not be loaded "
                                f"({type(error).__name__}: {error}); register the model again.") from None
        finally:
            # MLflow prepends the package's code/ folder to sys.path on every load; this process already
            # imports tools/ from the project, so those entries would only pile up.
            sys.path[:] = [entry for entry in sys.path if entry in before]

    def reference(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The training reference statistics (tools.reference) of `version` of `name` (latest when None)."""
        name = check_name(name)
        return self._read(name, self._resolve(name, version), REFERENCE)

    def _numbers(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(entry.name) for entry in folder.iterdir() if entry.name.isdigit())

    def _resolve(self, name: str, version: int | None) -> int:
        """`version` checked against the versions of `name` (the latest when None)."""
        numbers = self._numbers(name)
        if not numbers:
            known = ", ".join(self.names()) or "none yet"
            raise ArtifactError(f"No registered model named {name} (registered: {known}). Train a model, "
                                f"then register it as {name}.")
        if version is None:
            return numbers[-1]
        if str(version).isdigit() and int(version) in numbers:
            return int(version)
        raise ArtifactError(f"{name} has no version {version}; its versions are "
                            f"{', '.join(map(str, numbers))}.")

    def _read(self, name: str, version: int, file: str) -> dict[str, Any]:
        path = self.root / name / str(version) / file
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ArtifactError(f"{path} cannot be read ({type(error).__name__}): version {version} of "
                                f"{name} is damaged; register the model again.") from None

    def _publish(self, staging: Path, metadata: dict[str, Any]) -> int:
        """Rename `staging` to the next free version number (writing that number into its metadata first)."""
        for _ in range(PUBLISH_ATTEMPTS):
            version = max(self._numbers(metadata["name"]), default=0) + 1
            _write_json(staging / METADATA, metadata | {"version": version})
            try:
                staging.rename(staging.parent / str(version))  # atomic; fails if another process took it
                return version
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        raise ArtifactError(f"Could not find a free version number for {metadata['name']} after "
                            f"{PUBLISH_ATTEMPTS} tries; register it again.")


def _pipeline(record: dict):
    """The fitted Pipeline of an experiment record; ArtifactError when its file is gone or unusable."""
    artifact = record.get("artifact")
    if not artifact or not Path(artifact).is_file():
        raise ArtifactError(f"Experiment {record.get('id')} has no model file "
                            f"({artifact or 'none recorded'}); train the model again, then register it.")
    return load_model(artifact)


def _check_dataset(record: dict, frame: pd.DataFrame, features: list[str]) -> None:
    """DataError unless `frame` can be the table `record` was trained on."""
    dataset = record.get("dataset") or {}
    target, rows = dataset.get("target"), dataset.get("rows")
    problems = []
    if target not in frame.columns:
        problems.append(f"it has no target column '{target}'")
    if rows is not None and rows != len(frame):
        problems.append(f"it has {len(frame):,} rows, the experiment's table {rows:,}")
    missing = [column for column in features if column not in frame.columns]
    if missing:
        problems.append(f"it lacks the model's input column(s) {', '.join(missing)}")
    if record.get("task") not in TASKS:
        problems.append(f"the experiment's task is {record.get('task')!r}, not one of {', '.join(TASKS)}")
    if problems:
        source = Path(str(dataset.get("path"))).name
        raise DataError(f"Experiment {record.get('id')} was not trained on this table "
                        f"({'; '.join(problems)}). Register it with the table it was trained on, {source}.")


def _training_rows(frame: pd.DataFrame, record: dict) -> pd.DataFrame:
    """The rows of the fixed training split the experiment learned from."""
    from tools.training import split  # imports matplotlib and more: reading the registry needs none of it

    train, _ = split(frame, record["dataset"]["target"], record["task"])
    return frame.iloc[train]


def _feature_kinds(pipeline, features: pd.DataFrame) -> dict[str, str]:
    """Kind of each input column: from the preprocessing branch that reads it, else from its dtype."""
    branches = input_branches(pipeline)
    return {str(column): ENCODING_KINDS.get(branches.get(column), reference.column_kind(series))
            for column, series in features.items()}


def _reference_kind(kind: str) -> str:
    return kind if kind in ("numeric", "datetime") else "categorical"


def _example(rows: pd.DataFrame) -> pd.DataFrame:
    """A few training rows with the fewest missing cells, numbers as float64 as a JSON client sends them."""
    fullest = rows.isna().sum(axis=1).to_numpy().argsort(kind="stable")[:EXAMPLE_ROWS]
    example = rows.iloc[sorted(fullest)].reset_index(drop=True)
    numeric = [column for column, series in example.items() if reference.column_kind(series) == "numeric"]
    return example.astype(dict.fromkeys(numeric, "float64"))


def _save_mlflow_model(pipeline, path: Path, example: pd.DataFrame) -> None:
    """Write `pipeline` at `path` as an MLflow Model (sklearn and python_function flavors), tools/ as code."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    logger, quiet = logging.getLogger("mlflow.sklearn"), _NoSkopsAdvice()
    logger.addFilter(quiet)
    try:
        # The signature declares numbers as double: MLflow refuses float64 input for a float32 column, and
        # the pipeline converts numbers to float32 itself.
        mlflow.sklearn.save_model(
            pipeline, str(path), serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            code_paths=[str(_TOOLS)], pip_requirements=_requirements(pipeline), input_example=example,
            signature=infer_signature(example, pipeline.predict(example)))
    finally:
        logger.removeFilter(quiet)


class _NoSkopsAdvice(logging.Filter):
    """Drops MLflow's warning on every cloudpickle save: its advice, skops, refuses histogram boosting."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "cloudpickle format" not in record.getMessage()


def _requirements(pipeline) -> list[str]:
    """Pinned pip requirements: the distributions the pickled pipeline refers to, and the base ones."""
    names, unknown = set(BASE_REQUIREMENTS), []
    # tools/ travels as code, and __main__ objects are pickled by value.
    for module in _pickled_modules(pipeline) - set(sys.stdlib_module_names) - {_TOOLS.name, "__main__"}:
        name = DISTRIBUTIONS.get(module) or _distribution_named(module)
        if name:
            names.add(name)
        else:
            unknown.append(module)
    if unknown:  # mapping every installed package to its modules takes about a second: only when needed
        owners = importlib.metadata.packages_distributions()
        names.update(owners[module][0] for module in unknown if owners.get(module))
    pins = {_canonical(name): f"{name}=={importlib.metadata.version(name)}" for name in names}
    return sorted(pins.values())


def _distribution_named(module: str) -> str | None:
    try:
        return importlib.metadata.distribution(module).metadata["Name"]
    except importlib.metadata.PackageNotFoundError:
        return None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Discard:
    """A file that forgets what is written to it."""

    def write(self, data) -> None:
        """Drop `data` (bytes, or a pickle buffer of a large array)."""


class _ModuleRecorder(cloudpickle.Pickler):
    """Pickles into nothing, noting the top-level module of every class, function and object it meets."""

    def __init__(self) -> None:
        super().__init__(_Discard(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules: set[str] = set()

    def reducer_override(self, obj):
        module = getattr(obj, "__module__", None)  # a class's, a function's, or an instance's class's
        if not isinstance(module, str):  # instances of built-in types such as numpy arrays
            module = type(obj).__module__
        self.modules.add(module.split(".")[0])
        return super().reducer_override(obj)


def _pickled_modules(pipeline) -> set[str]:
    """Top-level modules a pickle of `pipeline` imports (e.g. sklearnex when scikit-learn was patched)."""
    recorder = _ModuleRecorder()
    recorder.dump(pipeline)
    return recorder.modules


def _metadata(name: str, record: dict, frame: pd.DataFrame, pipeline, kinds: dict[str, str],
              created_at: str) -> dict[str, Any]:
    """dsgraph.json (its version is set when the version is published)."""
    dataset = record["dataset"]
    classes = getattr(pipeline, "classes_", None) if record["task"] == "classification" else None
    return {
        "name": name, "version": None, "created_at": created_at, "experiment": record,
        "dataset": {"path": dataset.get("path"), "sha256": dataset.get("sha256"), "target": dataset["target"],
                    "task": record["task"], "rows": len(frame)},
        "code_version": _code_version(),
        "features": [{"name": column, "kind": kind, "dtype": str(frame[column].dtype)}
                     for column, kind in kinds.items()],
        "classes": None if classes is None else [_plain(label) for label in classes],
    }


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


def _code_version() -> str:
    """The git commit of the checkout tools/ belongs to when git can tell, else the package version."""
    root = _TOOLS.parent
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
                              capture_output=True, text=True, timeout=10,
                              env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"})
        top, commit = done.stdout.split()
        if done.returncode == 0 and Path(top).resolve() == root:
            return commit
    except (OSError, ValueError, subprocess.SubprocessError):
        pass  # no git, or not a checkout: the package version below
    try:
        return f"dsgraph {importlib.metadata.version('dsgraph')}"
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _write_json(path: Path, value: Any, indent: int | None = 1) -> None:
    path.write_text(json.dumps(value, indent=indent, default=str), encoding="utf-8")
