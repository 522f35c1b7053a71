"""Single-column leak checks: does one column give the target away (a threshold, a monotone transform, a
presence pattern, an outcome-coded identifier)? Every score is cross-fitted on held-out halves."""

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from tools import columns
from tools.loading import MIN_ROWS

MIN_LABELLED_ROWS = 30  # with fewer labelled rows a column can agree with the target by chance
MIN_CLASS_ROWS = 5  # rows of each class (per half) needed to judge a separation
AUC = 0.99  # one column whose held-out ROC-AUC reaches this separates a binary target
ERROR_SHARE = 0.15  # a leak's error is below this share of the majority-class baseline error …
MAX_ERROR = 0.05  # … and below this (95% accuracy), so a 97%-predictive column counts
R2 = 0.98  # |r| or held-out R² this high makes a column a copy of a numeric target
MAX_ID_SHAPES = 50  # more digit-masked shapes than this: the identifier names rows, not outcomes
SPEARMAN = 0.99  # a rank correlation this close to ±1 makes a column a monotone function of the target


def find(labelled: pd.DataFrame, target: str, task: str, roles: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Why each column that gives the `task` target away on its own does so (checked on labelled rows).

    `roles` maps each feature column to (kind, reason); constant and free-text columns are not checked.
    """
    y = labelled[target]
    if y.nunique() < 2:  # a constant target has nothing to give away
        return {}
    first = _halves(len(y))
    if task == "classification":
        classes, labels = columns.class_codes(y)
        check = partial(_class_leak, labels=labels, classes=classes, first=first, target=str(target))
    else:
        values = y.to_numpy(dtype="float64")
        check = partial(_regression_leak, target_values=values, target_ranks=_ranks(values), first=first)
    found = {}
    for name, (kind, _) in roles.items():
        if kind in ("constant", "text"):
            continue
        column, prefix = labelled[name], ""
        if kind == "identifier" and columns.is_labels(column):
            column, prefix = _digit_shapes(column)
        reason = None if column is None else check(column)
        if reason:
            found[name] = prefix + reason
    return found


def _digit_shapes(column: pd.Series) -> tuple[pd.Series | None, str]:
    """An identifier with its digits masked (`W-123` → `W-#`) when that leaves a few shapes, else None.

    Case numbers like `W-123` for won and `L-456` for lost give the outcome away through their shape.
    """
    shapes = column.astype("str").str.replace(r"\d+", "#", regex=True)
    counts = shapes.value_counts()
    if not 2 <= len(counts) <= MAX_ID_SHAPES:
        return None, ""
    shown = ", ".join(f"`{columns.truncate(s, 20)}`" for s in counts.index[:3])
    return shapes.rename(column.name), f"with its digits masked ({shown}) "


def _class_leak(
    column: pd.Series, *, labels: np.ndarray, classes: list[str], first: np.ndarray, target: str
) -> str | None:
    """Why `column` alone gives the class away: a pure present/missing group, a cut that separates two
    classes (held-out ROC-AUC) or held-out accuracy near 1 over fine bins; None when it does not."""
    reason = _presence_leak(column, labels, classes)
    values = columns.numbers(column)
    order = None if values is None else columns.order(values)
    if reason is None and order is not None and len(classes) == 2:
        reason = _separation_leak(column, values, order, labels, classes, first, target)
    if reason:
        return reason
    shares = np.bincount(labels) / len(labels)
    n_bins = columns.bin_count(len(labels))
    codes = (columns.category_bins(column, n_bins) if order is None
             else columns.quantile_bins(values, order, n_bins))
    predicted = _cross_fit(codes, labels, partial(_majority, n_classes=len(classes)), first)
    error = float(np.mean(predicted != labels))
    if error <= min(MAX_ERROR, ERROR_SHARE * (1 - shares.max())):
        return (
            f"alone predicts the target with {1 - error:.1%} accuracy on held-out rows "
            f"(always answering the majority class: {shares.max():.1%})"
        )
    return None


def _presence_leak(column: pd.Series, labels: np.ndarray, classes: list[str]) -> str | None:
    """Why whether `column` is filled in gives the class away (a date set only once a customer churned)."""
    shares = np.bincount(labels) / len(labels)
    present = column.notna().to_numpy()
    for group, label in ((present, "present"), (~present, "missing")):
        size = int(group.sum())
        if size < max(MIN_ROWS, 0.02 * len(labels)) or size == len(labels):
            continue
        counts = np.bincount(labels[group], minlength=len(classes))
        winner = int(counts.argmax())
        error = 1 - counts[winner] / size
        if error <= min(0.03, 0.1 * (1 - shares[winner])):
            return (
                f"when `{column.name}` is {label} ({size} rows) the target is {classes[winner]!r} "
                f"in {1 - error:.1%} of them"
            )
    return None


def _separation_leak(
    column: pd.Series, values: np.ndarray, order: np.ndarray, labels: np.ndarray, classes: list[str],
    first: np.ndarray, target: str,
) -> str | None:
    """Why one cut of `values` separates a binary target: held-out ROC-AUC ≥ AUC, with the rule.

    The ROC-AUC is exact for any threshold or monotone relation, where bins blur the rows near the cut.
    """
    if len(order) < max(MIN_LABELLED_ROWS, 0.5 * len(values)):
        return None
    positive = labels == 1
    aucs = [_auc(values[picked], positive[picked]) for picked in (order[first[order]], order[~first[order]])]
    if None in aucs:
        return None
    a, b = aucs  # each half's direction (which class lies higher) is learnt on the other half
    auc = ((b if a >= 0.5 else 1 - b) + (a if b >= 0.5 else 1 - a)) / 2
    if auc < AUC:
        return None
    rule = _cut_rule(column, values[order], labels[order], classes, target, high=int(a + b >= 1))
    return f"alone separates the classes: ROC-AUC {auc:.3f} on held-out rows ({rule})"


def _cut_rule(
    column: pd.Series, ordered: np.ndarray, labels: np.ndarray, classes: list[str], target: str, high: int
) -> str:
    """The best single cut of sorted values in words: "`late` is 1 exactly when `delay` > 15"."""
    is_high = labels == high
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1  # a cut falls between two different values
    below_high = np.cumsum(is_high)[cuts - 1]
    errors = below_high + (len(ordered) - cuts) - (is_high.sum() - below_high)
    best = int(np.argmin(errors))
    low, high_value = (_value_text(v, column) for v in ordered[cuts[best] - 1 : cuts[best] + 1])
    # the rounder side reads better: "score ≥ 50" rather than "score > 49.9"
    condition = f"≥ {high_value}" if _roundness(high_value) > _roundness(low) else f"> {low}"
    rule = f"`{target}` is {classes[high]} when `{column.name}` {condition}"
    if errors[best] == 0:
        return rule.replace(" when ", " exactly when ", 1)
    return f"{rule}, true for {1 - errors[best] / len(ordered):.1%} of rows"


def _roundness(text: str) -> int:
    """Trailing zeros of a number's text, negative for decimals: 50 → 1, 15 → 0, 49.9 → -1."""
    if "." in text:
        return -len(text.split(".")[1])
    return len(text) - len(text.rstrip("0"))


def _value_text(value: float, column: pd.Series) -> str:
    """A cut value as the user wrote it: a number, or a date for datetime columns."""
    if not pd.api.types.is_datetime64_any_dtype(column):
        return columns.label(float(value))
    moment = pd.Timestamp(int(value), unit=column.dt.unit, tz=column.dt.tz)
    return str(moment.date()) if moment == moment.normalize() else str(moment)


def _regression_leak(
    column: pd.Series, *, target_values: np.ndarray, target_ranks: np.ndarray, first: np.ndarray
) -> str | None:
    """Why `column` alone determines the numeric target: |r| or |Spearman ρ| near 1, or held-out R² near 1."""
    values = columns.numbers(column)
    order = None if values is None else columns.order(values)
    if order is not None:
        reason = _monotone_leak(values, order, target_values, target_ranks)
        if reason:
            return reason
    n_bins = columns.bin_count(len(target_values))
    codes = (columns.category_bins(column, n_bins) if order is None
             else columns.quantile_bins(values, order, n_bins))
    predicted = _cross_fit(codes, target_values, _means, first)
    r2 = 1 - np.mean((target_values - predicted) ** 2) / max(float(np.var(target_values)), 1e-12)
    return f"alone explains R²={r2:.3f} of the target on held-out rows" if r2 >= R2 else None


def _monotone_leak(
    values: np.ndarray, order: np.ndarray, target: np.ndarray, target_ranks: np.ndarray
) -> str | None:
    """Why `values` are (nearly) a linear or monotone function of the target (a copy, its log or cube)."""
    if len(order) < max(MIN_LABELLED_ROWS, 0.5 * len(values)) or values[order[0]] == values[order[-1]]:
        return None
    x, y = values[order], target[order]
    pearson = float(np.corrcoef(x, y)[0, 1])
    if abs(pearson) > R2:
        return f"correlates {pearson:+.3f} with the target"
    y_ranks = target_ranks[order] if len(order) == len(values) else _ranks(y)
    spearman = float(np.corrcoef(_sorted_ranks(x), y_ranks)[0, 1])
    if abs(spearman) >= SPEARMAN:
        return f"is a monotone function of the target: rank correlation (Spearman) {spearman:+.4f}"
    return None


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, ties sharing their mean rank (as in a Mann-Whitney or Spearman test)."""
    order = np.argsort(values)
    ranks = np.empty(len(values))
    ranks[order] = _sorted_ranks(values[order])
    return ranks


def _sorted_ranks(ordered: np.ndarray) -> np.ndarray:
    """Ranks of values already sorted ascending, ties sharing their mean rank."""
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    return np.repeat((starts + ends + 1) / 2, ends - starts)


def _auc(ordered: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC-AUC of sorted values as a score for `positive`; None when a class has too few rows to judge."""
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if min(n_positive, n_negative) < MIN_CLASS_ROWS:
        return None
    rank_sum = float(_sorted_ranks(ordered)[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def _halves(n: int) -> np.ndarray:
    """A fixed random half of `n` rows (True), for cross-fitting: learn on one half, judge on the other."""
    first = np.zeros(n, dtype=bool)
    first[np.random.default_rng(0).permutation(n)[: n // 2]] = True
    return first


def _majority(codes: np.ndarray, labels: np.ndarray, size: int, n_classes: int) -> np.ndarray:
    table = np.bincount(codes * n_classes + labels, minlength=size * n_classes).reshape(size, n_classes)
    return table.argmax(axis=1)


def _means(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=size) / np.maximum(
        np.bincount(codes, minlength=size), 1
    )


def _cross_fit(codes: np.ndarray, values: np.ndarray, fit: Callable, first: np.ndarray) -> np.ndarray:
    """Predict each half (`first` and the rest) from a per-code table `fit(codes, values, size)` learnt
    on the other half; codes unseen in the learning half get the half's overall prediction."""
    halves = (np.flatnonzero(first), np.flatnonzero(~first))
    predicted = np.empty(len(codes), dtype=values.dtype)
    size = int(codes.max()) + 1
    for learn, apply in (halves, halves[::-1]):
        table = fit(codes[learn], values[learn], size)
        seen = np.bincount(codes[learn], minlength=size) > 0
        overall = fit(np.zeros(len(learn), dtype=np.int64), values[learn], 1)[0]
        predicted[apply] = np.where(seen[codes[apply]], table[codes[apply]], overall)
    return predicted
