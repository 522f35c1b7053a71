"""Test-split metrics for every metric key of tools/keys.py, and direction-aware comparison."""

import math
from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from tools.errors import ModelError
from tools.keys import METRICS, Task, metrics_for


def resolve_metric(name: str) -> str:
    """The metric key for `name` (a key or one of its synonyms); `ModelError` listing the keys otherwise."""
    wanted = name.strip().lower()
    for key, metric in METRICS.items():
        if wanted == key or wanted in metric.synonyms:
            return key
    raise ModelError(f"Unknown metric '{name}'. Use one of: {', '.join(METRICS)}.")


def score(task: Task, y_true, y_pred, proba=None, classes: Sequence | None = None, *,
          decision=None) -> dict[str, float]:
    """Every metric of `task` that the inputs allow, rounded to 6 digits.

    Classification: `proba` (n × classes, columns ordered as `classes`) gives roc_auc and log_loss;
    without it, `decision` (decision_function scores) still gives roc_auc, and log_loss is left out.
    """
    if task == "regression":
        return _regression(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))
    return _classification(np.asarray(y_true), np.asarray(y_pred), proba, decision, classes)


def is_better(metric: str, a: float, b: float) -> bool:
    """Whether value `a` beats value `b` for `metric` (greater or smaller is better, as the key says)."""
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is not None and not math.isnan(a)
    if a is None or math.isnan(a):
        return False
    return a > b if METRICS[metric].greater_is_better else a < b


def _regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return _rounded({
        "r2": skm.r2_score(y_true, y_pred),
        "rmse": skm.root_mean_squared_error(y_true, y_pred),
        "mae": skm.mean_absolute_error(y_true, y_pred),
    })


def _classification(y_true, y_pred, proba, decision, classes) -> dict[str, float]:
    values = _from_confusion(y_true, y_pred)
    labels = list(classes) if classes is not None else sorted(np.unique(y_true).tolist())
    scores = proba if proba is not None else decision
    if scores is not None and len(np.unique(y_true)) > 1:
        values["roc_auc"] = _roc_auc(y_true, np.asarray(scores, dtype=float), labels)
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        proba = proba / proba.sum(axis=1, keepdims=True)  # float32 rows can miss 1 by too much
        values["log_loss"] = skm.log_loss(y_true, proba, labels=labels)
    ordered = {key: values[key] for key in metrics_for("classification") if key in values}
    return _rounded(ordered)


def _from_confusion(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, weighted precision / recall / F1 and macro F1 from one confusion matrix,
    as scikit-learn defines them (labels: those in either array; zero_division=0), one pass instead of six."""
    labels = np.union1d(y_true, y_pred)
    k = len(labels)
    cells = np.searchsorted(labels, y_true) * k + np.searchsorted(labels, y_pred)
    matrix = np.bincount(cells, minlength=k * k).reshape(k, k)
    hits, support, predicted = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    recall, precision, f1 = (_ratio(hits, support), _ratio(hits, predicted),
                             _ratio(2 * hits, support + predicted))
    weighted = {name: np.average(values, weights=support)
                for name, values in (("f1", f1), ("precision", precision), ("recall", recall))}
    return {"accuracy": hits.sum() / len(y_true), "balanced_accuracy": recall[support > 0].mean(),
            "f1_macro": f1.mean(), **weighted}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise quotient, 0 where the denominator is 0."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def _roc_auc(y_true, scores: np.ndarray, labels: list) -> float:
    """Binary AUC on the positive class's score; multiclass one-vs-rest weighted by class support."""
    if len(labels) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        return skm.roc_auc_score(y_true == labels[1], positive)
    onehot = label_binarize(y_true, classes=labels)
    present = onehot.sum(axis=0) > 0
    present &= onehot.sum(axis=0) < len(y_true)
    return skm.roc_auc_score(onehot[:, present], scores[:, present], average="weighted")


def _rounded(values: dict) -> dict[str, float]:
    return {key: round(float(value), 6) for key, value in values.items()}
