"""Apply a saved model Pipeline to new data and write predictions.csv into the workspace."""

import os
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from tools.errors import ArtifactError, DataError
from tools.loading import load_with_cells

PREDICTIONS_NAME = "predictions.csv"


def predict(model_path: str | os.PathLike, data_path: str | os.PathLike,
            out_dir: str | os.PathLike) -> dict[str, Any]:
    """Predict every row of `data_path` with the Pipeline at `model_path`; write `out_dir`/predictions.csv.

    The file repeats the input cells as written (`007`, `?`, empty), then `prediction` and, for classifiers,
    one `proba_<class>` column per class. Returns its path, rows, columns and the loader's notes.
    """
    pipeline = load_model(model_path)
    dataset, output = load_with_cells(data_path, min_rows=1)  # output starts as the cells as written
    frame = dataset.frame  # what the model reads: cleaned and typed
    needed = list(pipeline.feature_names_in_)
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise DataError(f"`{Path(data_path).name}` lacks the column(s) the model was trained on: "
                        f"{', '.join(missing)}. Add them (empty values are fine) and predict again.")
    features = frame[needed]
    predictions = pipeline.predict(features)
    classifier = hasattr(pipeline, "classes_")
    output["prediction"] = _whole_numbers(predictions) if classifier else predictions
    if hasattr(pipeline, "predict_proba"):
        proba = pipeline.predict_proba(features)
        for i, label in enumerate(pipeline.classes_):
            output[f"proba_{_label(label)}"] = np.round(proba[:, i], 6)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PREDICTIONS_NAME
    output.to_csv(path, index=False)
    return {"path": str(path), "rows": len(output), "columns": list(output.columns), "notes": dataset.notes}


def load_model(model_path: str | os.PathLike):
    """The fitted Pipeline saved at `model_path`; `ArtifactError` when it is missing or unreadable."""
    path = Path(model_path)
    if not path.is_file():
        raise ArtifactError(f"No model file at {path}; train a model first.")
    try:
        pipeline = joblib.load(path)
    except Exception as error:  # unpickling raises many types; the user needs to know the file is unusable
        raise ArtifactError(f"{path.name} could not be read as a saved model ({type(error).__name__}); "
                            "train the model again.") from None
    if not hasattr(pipeline, "predict") or not hasattr(pipeline, "feature_names_in_"):
        raise ArtifactError(f"{path.name} is not a dsgraph model; train a model first.")
    return pipeline


def _whole_numbers(labels: np.ndarray) -> np.ndarray:
    """Class labels such as 0.0/1.0 as integers, so the file says `1`, not `1.0`."""
    if labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0):
        return labels.astype(np.int64)
    return labels


def _label(value) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()
