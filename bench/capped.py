"""Fits under a wall-time budget: finish when the budget allows, otherwise time part of the work and scale up.

Forests: trees are independent, so `n_estimators` trees cost `n_estimators / k` times a forest of `k`
(a small probe fit sizes `k`; no `warm_start`, which sklearnex does not accelerate). Everything else:
fits on growing row prefixes (×4 each), the full-size time extrapolated along the measured power law
`t ∝ rows^k`, k clamped to [1, 2].
"""

import math
import time
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble._forest import BaseForest

LADDER = (64, 16, 4, 1)  # row fractions 1/64, 1/16, 1/4, all
SAFE_EXPONENT = 1.3  # assumed growth before two sizes are measured
MIN_ROWS = 2_000


@dataclass
class Fit:
    """A fitted estimator and the (possibly extrapolated) seconds the full fit takes."""

    estimator: object
    seconds: float
    extrapolated: bool = False
    note: str = ""
    scale: float = 1.0  # factor from measured predict time to full-model predict time


def fit_capped(estimator, X: np.ndarray, y: np.ndarray, budget_s: float) -> Fit:
    """Fit `estimator` on all of X, y if the budget allows, else measure part of the fit and extrapolate."""
    if isinstance(estimator, BaseForest):
        return _fit_forest(estimator, X, y, budget_s)
    return _fit_rows(estimator, X, y, budget_s)


def _timed_fit(estimator, X, y) -> float:
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def _fit_forest(forest, X, y, budget_s: float) -> Fit:
    total = forest.n_estimators
    probe = min(total, max(2, forest.n_jobs or 0))  # one tree per core at least
    forest.set_params(n_estimators=probe)
    first = _timed_fit(forest, X, y)
    if probe == total:
        return Fit(forest, first)
    trees = min(total, max(2 * probe, int((budget_s - first) * probe / first) // probe * probe))
    forest.set_params(n_estimators=trees)
    seconds = _timed_fit(forest, X, y)
    if trees == total:
        return Fit(forest, seconds)
    return Fit(forest, seconds * total / trees, True,
               f"fitted {trees} of {total} trees in {seconds:.1f} s, time scaled ×{total / trees:.1f} (trees "
               f"are independent); test metric from the {trees}-tree forest", total / trees)


def _fit_rows(estimator, X, y, budget_s: float) -> Fit:
    n = len(y)
    sizes = sorted({min(n, max(MIN_ROWS, n // f)) for f in LADDER})
    order = np.random.default_rng(0).permutation(n)
    spent, exponent, last = 0.0, SAFE_EXPONENT, None
    for size in sizes:
        if last is not None:
            projected = last[1] * (size / last[0]) ** exponent
            if size < n and spent + last[1] * (n / last[0]) ** exponent <= budget_s:
                continue  # the full fit fits the budget: skip the intermediate rungs
            if spent + projected > budget_s:
                break
        rows = order[:size] if size < n else slice(None)
        seconds = _timed_fit(estimator, X[rows], y[rows])
        spent += seconds
        if last is not None and seconds > 0 and last[1] > 0:
            exponent = min(2.0, max(1.0, math.log(seconds / last[1]) / math.log(size / last[0])))
        last = (size, seconds)
    size, seconds = last
    if size == n:
        return Fit(estimator, seconds)
    estimate = seconds * (n / size) ** exponent
    return Fit(estimator, estimate, True,
               f"fitted on {size:,} of {n:,} rows in {seconds:.1f} s, time extrapolated as "
               f"rows^{exponent:.2f}; test metric from that fit")
