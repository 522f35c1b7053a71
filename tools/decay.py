"""Model decay: a version's metrics on labelled new data beside its metrics at training time, with the noise.

The noise is a seeded percentile bootstrap of the new data's metric. Beyond BOOT_ROWS rows each resample
draws BOOT_ROWS rows (an m-out-of-n bootstrap) and the interval is narrowed around the full-data value by
sqrt(BOOT_ROWS / rows): the metrics here are averages or rank statistics, whose spread shrinks as 1/sqrt(n).
"""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from tools.errors import ColumnError, DataError
from tools.keys import PRIMARY_METRIC, metrics_for
from tools.metrics import is_better, score
from tools.reference import level

BOOT_ROWS = 20_000  # rows per bootstrap resample: 200 resamples of the metrics stay within a few seconds
CONFIDENCE = 0.95
PROBABILITY_METRICS = ("roc_auc", "log_loss")


def evaluate(pipeline, frame: pd.DataFrame, target: str, task: str, training_metrics: dict, *,
             n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """Metrics of `pipeline` on `frame`'s labelled rows against `training_metrics`, each with a 95% interval.

    Returns rows, unlabelled_rows, metrics, changes ({metric: then, now, change, ci_low, ci_high,
    beyond_noise}), metric (the task's primary one), verdict (decayed / stable / improved) and notes.
    """
    labelled, y, unlabelled = labelled_rows(pipeline, frame, target, task)
    scored = Scored(pipeline, labelled, y, task)
    now = scored.metrics(np.arange(len(y)))
    samples = [scored.metrics(rows) for rows in resamples(len(y), n_boot, seed)]
    changes = {}
    for metric in (m for m in metrics_for(task) if m in now and training_metrics.get(m) is not None):
        values = [sample[metric] for sample in samples if metric in sample]  # roc_auc needs both classes
        if not values:
            continue
        low, high = interval(values, now[metric], len(y))
        then = float(training_metrics[metric])
        changes[metric] = {"then": then, "now": now[metric], "change": round(now[metric] - then, 6),
                           "ci_low": low, "ci_high": high, "beyond_noise": not low <= then <= high}
    metric = PRIMARY_METRIC[task]
    notes = [*scored.notes]
    if unlabelled:
        notes.insert(0, f"left out {unlabelled:,} rows without a value of '{target}'")
    return {"rows": len(y), "unlabelled_rows": unlabelled, "metrics": now, "changes": changes,
            "metric": metric, "verdict": _verdict(metric, changes.get(metric)), "notes": notes}


def labelled_rows(pipeline, frame: pd.DataFrame, target: str,
                  task: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The model's input columns of the rows with a target value, those values, and how many rows had none.

    ColumnError names a missing target or input column; DataError when no row is labelled.
    """
    if target not in frame.columns:
        raise ColumnError(f"The new data has no '{target}' column, so the model's predictions cannot be "
                          f"checked; give data with the true '{target}' values.")
    features = [str(column) for column in pipeline.feature_names_in_]
    missing = [column for column in features if column not in frame.columns]
    if missing:
        raise ColumnError(f"The new data lacks the model's input column(s) {', '.join(missing)}; give data "
                          "with every column the model was trained on.")
    y = frame[target]
    if task == "regression":
        y = pd.to_numeric(y, errors="coerce")  # text in a numeric target cannot be scored: left out
    keep = y.notna().to_numpy()
    if not keep.any():
        raise DataError(f"No row of the new data has a value of '{target}'; give rows with the true values.")
    values = y[keep].to_numpy(dtype=np.float64) if task == "regression" else _levels(y[keep])
    return frame.loc[keep, features], values, int((~keep).sum())


class Scored:
    """A model's predictions on labelled rows, made once; then the metrics of any subset of those rows.

    Classes are compared as integer codes of their level strings (1.0 and 1 are both "1"): the metrics are
    the same, and sorting integers makes each bootstrap resample about 4x faster than sorting text.
    """

    def __init__(self, pipeline, X: pd.DataFrame, y: np.ndarray, task: str) -> None:
        self.task, self.notes, self.proba, self.classes = task, [], None, None
        if task == "regression":
            self.y, self.predicted = y, np.asarray(pipeline.predict(X), dtype=np.float64)
            return
        names = {level(label): code for code, label in enumerate(pipeline.classes_)}
        self.classes = list(range(len(names)))
        if hasattr(pipeline, "predict_proba"):
            self.proba = np.asarray(pipeline.predict_proba(X), dtype=np.float64)
            self.predicted = np.argmax(self.proba, axis=1)
        else:
            self.predicted = _codes(_levels(pd.Series(pipeline.predict(X))), names)
        self.y = _codes(y, names)
        unknown = list(names)[len(self.classes):]
        if unknown:  # a class the model has no probability column for: roc_auc and log_loss are undefined
            self.proba, self.classes = None, None
            self.notes.append(f"classes the model never saw ({', '.join(unknown[:5])}): roc_auc and "
                              "log_loss left out")

    def metrics(self, rows: np.ndarray) -> dict[str, float]:
        """Every metric of the task on `rows` (positions)."""
        proba = None if self.proba is None else self.proba[rows]
        return score(self.task, self.y[rows], self.predicted[rows], proba, self.classes)

    def value(self, metric: str, rows: np.ndarray) -> float:
        """One metric on `rows`; probabilities are used only by the metrics that need them."""
        proba = self.proba[rows] if self.proba is not None and metric in PROBABILITY_METRICS else None
        return score(self.task, self.y[rows], self.predicted[rows], proba, self.classes)[metric]


def resamples(rows: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """`n_boot` seeded bootstrap resamples of min(rows, BOOT_ROWS) positions drawn from `rows`."""
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield rng.integers(0, rows, min(rows, BOOT_ROWS))


def interval(values: list[float], estimate: float, rows: int) -> tuple[float, float]:
    """The percentile interval of bootstrap `values` around `estimate`, rescaled for the m-out-of-n draw."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    shrink = np.sqrt(min(rows, BOOT_ROWS) / rows)
    return (round(float(estimate + (low - estimate) * shrink), 6),
            round(float(estimate + (high - estimate) * shrink), 6))


def paired(first: Callable[[np.ndarray], float], second: Callable[[np.ndarray], float], rows: int,
           n_boot: int, seed: int) -> tuple[float, float, float]:
    """second − first on all rows, and the 95% interval of that difference over shared resamples."""
    difference = second(np.arange(rows)) - first(np.arange(rows))
    values = [second(sample) - first(sample) for sample in resamples(rows, n_boot, seed)]
    return (round(float(difference), 6), *interval(values, difference, rows))


def _levels(values: pd.Series) -> np.ndarray:
    """Labels as level strings; `level` runs once per distinct value, not per row."""
    codes, uniques = pd.factorize(values)
    return np.array([level(value) for value in uniques], dtype=object)[codes]


def _codes(labels: np.ndarray, names: dict[str, int]) -> np.ndarray:
    """Integer codes of level strings; a label not in `names` is added to it with the next code."""
    codes, uniques = pd.factorize(labels)
    for name in uniques:
        names.setdefault(name, len(names))
    return np.array([names[name] for name in uniques], dtype=np.int64)[codes]


def _verdict(metric: str, change: dict | None) -> str:
    if not change or not change["beyond_noise"]:
        return "stable"
    return "improved" if is_better(metric, change["now"], change["then"]) else "decayed"
