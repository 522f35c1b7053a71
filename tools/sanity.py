"""Checks on a trained model's results that a data scientist would make before trusting them."""

import math
from collections.abc import Iterable
from typing import Any

NEAR_PERFECT = 0.99  # a test ROC-AUC, R² or accuracy this high on a real table usually means a leak
TRIVIAL_BASELINE = 0.97  # a majority class this large makes a near-perfect accuracy unremarkable
_LABELS = {"roc_auc": "ROC-AUC", "accuracy": "accuracy", "r2": "R²"}


def too_good_to_be_true(
    task: str,
    metrics: dict[str, float],
    majority_share: float | None,
    importances: Iterable[tuple[str, float]],
) -> dict[str, Any] | None:
    """{"metric", "value", "why", "features"} when a test score is near perfect, else None.

    `metrics`: test metrics keyed as in tools.keys; `majority_share`: the test split's largest class share
    (classification); `features` names the three columns with the largest |importance|.
    """
    found = _near_perfect(task, metrics, majority_share)
    if found is None:
        return None
    metric, value, baseline = found
    features = [str(name) for name, _ in sorted(importances, key=lambda pair: -abs(pair[1]))[:3]]
    why = (
        f"test {_LABELS[metric]} {value:.3f} is near perfect{baseline}: real tables rarely allow that, so "
        "check that no column gives the target away (recorded after the outcome, or derived from it)"
    )
    if features:
        why += f"; the model leans most on {', '.join(f'`{f}`' for f in features)}, check those first"
    return {"metric": metric, "value": value, "why": why + ".", "features": features}


def _near_perfect(
    task: str, metrics: dict[str, float], majority_share: float | None
) -> tuple[str, float, str] | None:
    """(metric, value, words on the baseline) of the first near-perfect test score, or None."""
    if task == "regression":
        return _at_least(metrics, "r2")
    found = _at_least(metrics, "roc_auc")
    if found or majority_share is None or majority_share >= TRIVIAL_BASELINE:
        return found
    found = _at_least(metrics, "accuracy")
    if found is None:
        return None
    return found[0], found[1], f" (always answering the majority class scores {majority_share:.3f})"


def _at_least(metrics: dict[str, float], metric: str) -> tuple[str, float, str] | None:
    value = metrics.get(metric)
    if value is None or not math.isfinite(value) or value < NEAR_PERFECT:
        return None
    return metric, float(value), ""
