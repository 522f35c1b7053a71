"""Model catalog: one spec per key of tools/keys.MODELS with size-aware defaults and an Optuna space."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR

from tools.errors import ModelError
from tools.keys import MODELS, Task, models_for

# Threads for the estimators that parallelise (forests, kNN). Set once here: callers (CV, tuning) run
# their own loops single-threaded, so two levels never multiply on a small machine.
N_JOBS = int(os.environ.get("DSGRAPH_N_JOBS", "0")) or os.cpu_count() or 1
SERIAL_BOOSTING_CPUS = 2  # up to this many threads, histogram boosting fits faster on one (see threads)
PARALLEL_ROWS = 50_000  # below this, one thread: OpenMP start-up and contention cost more than they save
SMALL_ROWS = 20_000  # up to here every model is cheap enough to be a default
LARGE_ROWS = 200_000  # beyond here only linear models and histogram boosting are defaults
KERNEL_ROW_CAP = 20_000  # kernel SVC/SVR and kNN fit on at most this many training rows
# Without `all_rows`, training on larger data fits a stratified sample of this many rows: a first answer in
# seconds; on the bench's 1M-row table boosting on 200k rows is within 0.001 of the Bayes-optimal accuracy.
SAMPLE_ROWS = 200_000
FOREST_ROWS_PER_TREE = 100_000  # bootstrap sample size of each tree on large data
CALIBRATION_FOLDS = 3  # out-of-fold margins that fit the sigmoid turning SVM scores into probabilities
SEED = 0

Params = dict[str, Any]


@dataclass(frozen=True)
class ModelSpec:
    """How to make one model: estimator classes, default parameters, Optuna space, row cap."""

    classifier: type | None
    regressor: type | None
    defaults: Callable[[Task, int, int], tuple[Params, str]]
    space: Callable[[Task, Any, int], Params]
    row_cap: int | None = None
    scale_target: bool = False  # standardise a regression target so C / alpha / epsilon keep their meaning
    native: bool = False  # handles missing values and categories itself (see preprocess.build_preprocessor)
    calibrate: bool = False  # a margin classifier: probabilities come from a sigmoid calibration


def _logistic_defaults(task, n_rows, n_features):
    return {"C": 1.0, "max_iter": 500, "random_state": SEED}, "L2-regularised, lbfgs solver"


def _logistic_space(task, trial, n_rows):
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


def _forest_defaults(task, n_rows, n_features):
    params = {"n_estimators": 100, "min_samples_leaf": 1 if task == "classification" else 2,
              "max_features": "sqrt" if task == "classification" else 0.5, "n_jobs": N_JOBS,
              "random_state": SEED}
    if n_rows <= SMALL_ROWS:
        return params, "100 full-depth trees"
    share = min(1.0, FOREST_ROWS_PER_TREE / n_rows)
    params |= {"n_estimators": 100 if n_rows <= LARGE_ROWS else 50, "max_depth": 20, "min_samples_leaf": 5,
               "max_samples": round(share, 4) if share < 1 else None}
    return params, (f"{params['n_estimators']} trees of depth ≤ 20, each on a "
                    f"{min(n_rows, FOREST_ROWS_PER_TREE):,}-row bootstrap sample (large data)")


def _forest_space(task, trial, n_rows):
    large = n_rows > SMALL_ROWS
    return {
        "n_estimators": trial.suggest_int("n_estimators", 30, 150 if large else 400, log=True),
        "max_depth": trial.suggest_int("max_depth", 4, 30),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 30, log=True),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0),
    }


def _linear_svc_defaults(task, n_rows, n_features):
    dual = n_rows <= n_features
    return ({"C": 1.0, "dual": dual, "max_iter": 2000, "random_state": SEED},
            f"{'dual' if dual else 'primal (rows ≫ features)'} liblinear solver")


def _c_space(task, trial, n_rows):
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


def _svc_defaults(task, n_rows, n_features):
    return ({"C": 1.0, "kernel": "rbf", "gamma": "scale", "cache_size": 500},
            "RBF kernel" + (", probabilities by sigmoid calibration" if task == "classification" else ""))


def _svc_space(task, trial, n_rows):
    return {"C": trial.suggest_float("C", 1e-2, 1e3, log=True),
            "gamma": trial.suggest_float("gamma", 1e-4, 1.0, log=True)}


def _knn_defaults(task, n_rows, n_features):
    return {"n_neighbors": 15, "weights": "distance", "n_jobs": N_JOBS}, "15 neighbours, distance-weighted"


def _knn_space(task, trial, n_rows):
    return {"n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
            "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
            "p": trial.suggest_categorical("p", [1, 2])}


def _boosting_defaults(task, n_rows, n_features):
    if n_rows <= 10_000:
        return ({"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                 "early_stopping": False, "random_state": SEED}, "100 rounds (too few rows to hold some out)")
    return ({"learning_rate": 0.1, "max_iter": 300, "max_leaf_nodes": 31, "min_samples_leaf": 20,
             "early_stopping": True, "random_state": SEED},
            "up to 300 rounds, stopped early on a 10% validation split of the training rows")


def _boosting_space(task, trial, n_rows):
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 500, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
        "max_features": trial.suggest_float("max_features", 0.3, 1.0),
    }


def _ridge_defaults(task, n_rows, n_features):
    return {"alpha": 1.0}, "alpha 1 on the standardised target"


def _alpha_space(task, trial, n_rows):
    return {"alpha": trial.suggest_float("alpha", 1e-5, 1e2, log=True)}


def _lasso_defaults(task, n_rows, n_features):
    return {"alpha": 1e-3, "max_iter": 5000, "random_state": SEED}, "alpha 0.001 on the standardised target"


def _lasso_space(task, trial, n_rows):
    return {"alpha": trial.suggest_float("alpha", 1e-5, 1.0, log=True)}


def _elastic_net_defaults(task, n_rows, n_features):
    return ({"alpha": 1e-3, "l1_ratio": 0.5, "max_iter": 5000, "random_state": SEED},
            "alpha 0.001, l1_ratio 0.5 on the standardised target")


def _elastic_net_space(task, trial, n_rows):
    return {"alpha": trial.suggest_float("alpha", 1e-5, 1.0, log=True),
            "l1_ratio": trial.suggest_float("l1_ratio", 0.05, 0.95)}


def _linear_svr_defaults(task, n_rows, n_features):
    return ({"C": 1.0, "epsilon": 0.0, "loss": "squared_epsilon_insensitive", "dual": False,
             "max_iter": 5000, "random_state": SEED}, "primal solver (squared epsilon-insensitive loss)")


def _linear_svr_space(task, trial, n_rows):
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True),
            "epsilon": trial.suggest_float("epsilon", 0.0, 0.5)}


def _svr_defaults(task, n_rows, n_features):
    return ({"C": 1.0, "epsilon": 0.1, "kernel": "rbf", "gamma": "scale", "cache_size": 500},
            "RBF kernel on the standardised target")


def _svr_space(task, trial, n_rows):
    return {"C": trial.suggest_float("C", 1e-2, 1e3, log=True),
            "epsilon": trial.suggest_float("epsilon", 0.01, 1.0, log=True),
            "gamma": trial.suggest_float("gamma", 1e-4, 1.0, log=True)}


CATALOG: dict[str, ModelSpec] = {
    "logistic_regression": ModelSpec(LogisticRegression, None, _logistic_defaults, _logistic_space),
    "random_forest": ModelSpec(RandomForestClassifier, RandomForestRegressor, _forest_defaults,
                               _forest_space),
    "linear_svc": ModelSpec(LinearSVC, None, _linear_svc_defaults, _c_space, calibrate=True),
    "svc": ModelSpec(SVC, None, _svc_defaults, _svc_space, row_cap=KERNEL_ROW_CAP, calibrate=True),
    "knn": ModelSpec(KNeighborsClassifier, KNeighborsRegressor, _knn_defaults, _knn_space,
                     row_cap=KERNEL_ROW_CAP),
    "hist_gradient_boosting": ModelSpec(HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                                        _boosting_defaults, _boosting_space, native=True),
    "ridge": ModelSpec(None, Ridge, _ridge_defaults, _alpha_space, scale_target=True),
    "lasso": ModelSpec(None, Lasso, _lasso_defaults, _lasso_space, scale_target=True),
    "elastic_net": ModelSpec(None, ElasticNet, _elastic_net_defaults, _elastic_net_space, scale_target=True),
    "linear_svr": ModelSpec(None, LinearSVR, _linear_svr_defaults, _linear_svr_space, scale_target=True),
    "svr": ModelSpec(None, SVR, _svr_defaults, _svr_space, row_cap=KERNEL_ROW_CAP, scale_target=True),
}


def check_model(key: str, task: Task) -> ModelSpec:
    """The spec of `key` for `task`; `ModelError` naming the valid keys when unknown or of another task."""
    valid = ", ".join(models_for(task))
    if key not in CATALOG:
        raise ModelError(f"Unknown model '{key}'. Models for {task}: {valid}.")
    if task not in MODELS[key].tasks:
        raise ModelError(f"'{key}' is a {' / '.join(MODELS[key].tasks)} model, but this task is {task}. "
                         f"Models for {task}: {valid}.")
    return CATALOG[key]


def threads(n_rows: int, key: str | None = None) -> int:
    """Native threads (OpenMP, BLAS) worth using to fit `key` on `n_rows` rows.

    Histogram boosting opens thousands of tiny OpenMP regions per fit, and with passive waits (see
    tools/__init__.py) each one pays for waking the other threads: on the 2-core bench machine a 200k-row
    fit took 4.9 s on 2 threads and 3.3 s on one. So on up to SERIAL_BOOSTING_CPUS cores it fits on one.
    """
    if key == "hist_gradient_boosting" and N_JOBS <= SERIAL_BOOSTING_CPUS:
        return 1
    return N_JOBS if n_rows >= PARALLEL_ROWS else 1


def default_params(key: str, task: Task, n_rows: int, n_features: int) -> tuple[Params, str]:
    """Default parameters of `key` for data of this size, and a short note saying why."""
    return check_model(key, task).defaults(task, n_rows, n_features)


def search_space(key: str, task: Task, trial, n_rows: int) -> Params:
    """Parameters for one Optuna trial, sampled with `trial.suggest_*` from the model's space."""
    return check_model(key, task).space(task, trial, n_rows)


def row_cap(key: str, task: Task) -> int | None:
    """Most training rows the model is fitted on (kernel methods scale quadratically), or None."""
    return check_model(key, task).row_cap


def build(key: str, task: Task, params: Params | None = None, n_rows: int = 1_000, n_features: int = 10,
          categorical=None, probabilities: bool = True):
    """An unfitted estimator: size-aware defaults overridden by `params` (`ModelError` on unknown names).

    `categorical` (a boolean mask over the encoded columns) marks level-code columns for native models.
    `probabilities`: margin classifiers (SVMs) get sigmoid-calibrated `predict_proba` (users rank rows and
    pick thresholds), from CALIBRATION_FOLDS out-of-fold fits and one refit on all rows: about 1.7× the
    fit. Tuning trials that need no probabilities pass False; so does a class with too few rows."""
    spec = check_model(key, task)
    cls = spec.classifier if task == "classification" else spec.regressor
    merged = spec.defaults(task, n_rows, n_features)[0] | dict(params or {})
    if spec.native and categorical is not None and np.any(categorical):
        merged["categorical_features"] = np.asarray(categorical, dtype=bool)
    unknown = sorted(set(merged) - set(cls().get_params()))
    if unknown:
        raise ModelError(f"{key} has no parameter {', '.join(unknown)}. "
                         f"Its parameters: {', '.join(sorted(cls().get_params()))}.")
    estimator = cls(**merged)
    if task == "regression" and spec.scale_target:
        return TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    if task == "classification" and spec.calibrate and probabilities:
        folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=SEED)  # files are often sorted
        return CalibratedClassifierCV(estimator, method="sigmoid", cv=folds, ensemble=False)
    return estimator


def unwrapped(estimator):
    """The configured model inside a target-scaling or calibration wrapper (unfitted view)."""
    if isinstance(estimator, TransformedTargetRegressor):
        return estimator.regressor
    if isinstance(estimator, CalibratedClassifierCV):
        return estimator.estimator
    return estimator


def fitted_inner(estimator):
    """The fitted model inside a fitted wrapper (its coefficients or feature importances)."""
    if isinstance(estimator, TransformedTargetRegressor):
        return estimator.regressor_
    if isinstance(estimator, CalibratedClassifierCV):
        return estimator.calibrated_classifiers_[0].estimator  # ensemble=False: the one refit on all rows
    return estimator


def effective_params(estimator, key: str, task: Task, params: Params | None = None) -> Params:
    """The estimator's key parameters (the defaults' names and those in `params`) as JSON-friendly values."""
    estimator = unwrapped(estimator)
    names = set(check_model(key, task).defaults(task, 1_000, 10)[0]) | set(params or {})
    values = estimator.get_params(deep=False)
    return {name: json_value(values[name]) for name in sorted(names) if name in values}


def default_models(task: Task, rows: int, cols: int) -> list[tuple[str, str]]:
    """The models to train when none are asked for, each with the reason it fits data of this size."""
    if task == "classification":
        if rows <= SMALL_ROWS:
            return [("logistic_regression", "fast linear baseline"),
                    ("random_forest", "robust non-linear model, cheap on small data"),
                    ("hist_gradient_boosting", "usually the strongest on tabular data"),
                    ("svc", "kernel SVM, affordable below 20,000 rows")]
        chosen = [("logistic_regression", "fast linear baseline"),
                  ("hist_gradient_boosting", "strongest on tabular data and fast on many rows")]
        if rows <= LARGE_ROWS:  # beyond, a second linear model costs seconds and adds nothing over the first
            chosen.append(("linear_svc", "primal linear SVM, fast when rows ≫ features (kernel SVC is not)"))
    else:
        if rows <= SMALL_ROWS:
            return [("ridge", "fast linear baseline"),
                    ("random_forest", "robust non-linear model, cheap on small data"),
                    ("hist_gradient_boosting", "usually the strongest on tabular data"),
                    ("svr", "kernel SVR, affordable below 20,000 rows")]
        chosen = [("ridge", "fast linear baseline"),
                  ("hist_gradient_boosting", "strongest on tabular data and fast on many rows"),
                  ("linear_svr", "primal linear SVR, fast when rows ≫ features (kernel SVR: too slow here)")]
    if rows <= LARGE_ROWS:
        chosen.insert(2, ("random_forest", "forest with row-subsampled trees"))
    return chosen


def json_value(value):
    """`value` if JSON can hold it as is, else its text (estimator parameters may be objects)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
