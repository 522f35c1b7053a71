"""The reference system's CPU pipeline, re-created from its documented configuration, under wall-time caps.

Median impute + scale for numbers, most-frequent impute + dense one-hot for every other column, float32;
LogisticRegression(max_iter=500), RandomForest*(n_estimators=100, max_depth=10), LinearSVC(), Ridge(),
LinearSVR(max_iter=10000, tol=1e-3); Optuna TPE, 20 trials, each a 3-fold CV on all training rows.
Parameters the documentation leaves out keep scikit-learn's defaults (forests: `n_jobs=None`, one core).
"""

import time
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC, LinearSVR

from bench.capped import fit_capped

optuna.logging.set_verbosity(optuna.logging.ERROR)

MEMORY_LIMIT = 8 * 2**30  # the all-columns run is skipped when its estimated peak exceeds this
COPIES = 4  # peak over the float32 matrix: encoder output, float32 cast, liblinear's float64 copy
FOLDS = 3
SEED = 0

MODELS = {
    "classification": {
        "logistic_regression": lambda **p: LogisticRegression(max_iter=500, **p),
        "random_forest": lambda **p: RandomForestClassifier(**({"n_estimators": 100, "max_depth": 10} | p),
                                                            random_state=SEED),
        "linear_svc": lambda **p: LinearSVC(**p),
    },
    "regression": {
        "ridge": lambda **p: Ridge(**p),
        "random_forest": lambda **p: RandomForestRegressor(**({"n_estimators": 100, "max_depth": 10} | p),
                                                           random_state=SEED),
        "linear_svr": lambda **p: LinearSVR(**({"max_iter": 10000, "tol": 1e-3} | p)),
    },
}


def search_space(model_key: str, trial: optuna.Trial) -> dict[str, Any]:
    """The reference's tuning space for each model of its sets."""
    if model_key == "random_forest":
        return {"n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
                "max_depth": trial.suggest_int("max_depth", 4, 20),
                "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 10),
                "max_features": trial.suggest_categorical("max_features", ["sqrt", "log2"])}
    if model_key == "ridge":
        return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}
    params = {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}
    if model_key == "linear_svr":
        params["epsilon"] = trial.suggest_float("epsilon", 0.0, 1.0)
    return params


def preprocessor(frame: pd.DataFrame, target: str) -> ColumnTransformer:
    """Median + scale for numeric columns, most-frequent + dense one-hot for all the others."""
    features = frame.columns.drop(target)
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    other = [c for c in features if c not in numeric]
    return ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
         numeric),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(sparse_output=False, handle_unknown="ignore",
                                                   dtype=np.float32))]), other),
    ])


def as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings as object columns with NaN for missing (scikit-learn's imputers reject pandas' NA)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype(object).where(out[column].notna(), np.nan)
    return out


def prepare(frame: pd.DataFrame, target: str, train: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    """Fit the reference preprocessing on the training rows; dense float32 matrices for both splits."""
    start = time.perf_counter()
    data = as_objects(frame)
    pre = preprocessor(data, target)
    X_train = pre.fit_transform(data.iloc[train]).astype(np.float32)
    X_test = pre.transform(data.iloc[test]).astype(np.float32)
    y = frame[target].to_numpy()
    return {"X_train": X_train, "X_test": X_test, "y_train": y[train], "y_test": y[test],
            "seconds": time.perf_counter() - start, "features": X_train.shape[1]}


def scores(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Test metrics: accuracy and weighted F1, or R² and RMSE."""
    if task == "classification":
        return {"accuracy": float(accuracy_score(y_true, y_pred)),
                "f1": float(f1_score(y_true, y_pred, average="weighted"))}
    return {"r2": float(r2_score(y_true, y_pred)), "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred)))}


def run_models(task: str, data: dict[str, Any], cap_s: float) -> dict[str, Any]:
    """Fit and score the reference's model set; each model gets an equal share of the stage cap."""
    rows, budget = [], cap_s / len(MODELS[task])
    for key, make in MODELS[task].items():
        fit = fit_capped(make(), data["X_train"], data["y_train"], budget)
        start = time.perf_counter()
        predicted = fit.estimator.predict(data["X_test"])
        predict_s = (time.perf_counter() - start) * fit.scale
        rows.append({"model": key, "seconds": fit.seconds + predict_s, "fit_s": fit.seconds,
                     "predict_s": predict_s, "metrics": scores(task, data["y_test"], predicted),
                     "extrapolated": fit.extrapolated, "note": fit.note})
    primary = "accuracy" if task == "classification" else "r2"
    best = max(rows, key=lambda r: r["metrics"][primary])
    return {"task": task, "models": rows, "best": best["model"], "preprocess_s": data["seconds"],
            "features": data["features"], "seconds": data["seconds"] + sum(r["seconds"] for r in rows),
            "extrapolated": any(r["extrapolated"] for r in rows)}


def run_tuning(task: str, model_key: str, data: dict[str, Any], n_trials: int,
               cap_s: float) -> dict[str, Any]:
    """TPE over `n_trials` trials of 3-fold CV on all training rows; unfinished trials cost the mean trial."""
    X, y = data["X_train"], data["y_train"]
    folds = (StratifiedKFold if task == "classification" else KFold)(FOLDS)
    fold_budget = cap_s / (FOLDS * n_trials)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    started, clock, timeline, extrapolated = time.perf_counter(), data["seconds"], [], False
    while len(timeline) < n_trials and time.perf_counter() - started < cap_s:
        trial = study.ask()
        params = search_space(model_key, trial)
        values, seconds = [], 0.0
        for fit_rows, val_rows in folds.split(X, y):
            fit = fit_capped(MODELS[task][model_key](**params), X[fit_rows], y[fit_rows], fold_budget)
            tick = time.perf_counter()
            predicted = fit.estimator.predict(X[val_rows])
            seconds += fit.seconds + (time.perf_counter() - tick) * fit.scale
            values.append(_primary(task, y[val_rows], predicted))
            extrapolated |= fit.extrapolated
        study.tell(trial, float(np.mean(values)))
        clock += seconds
        timeline.append({"trial": trial.number, "value": float(np.mean(values)), "t": clock,
                         "params": params})
    missing = n_trials - len(timeline)
    trial_s = (clock - data["seconds"]) / len(timeline)
    best = max(timeline, key=lambda t: t["value"])
    refit = fit_capped(MODELS[task][model_key](**best["params"]), X, y, cap_s / 4)
    tick = time.perf_counter()
    predicted = refit.estimator.predict(data["X_test"])
    refit_s = refit.seconds + (time.perf_counter() - tick) * refit.scale
    notes = [f"{len(timeline)} of {n_trials} trials measured"]
    if missing:
        notes.append(f"the other {missing} counted at the mean trial time ({trial_s:.1f} s) and left out of "
                     "the best score")
    if extrapolated:
        notes.append(f"fold fits capped at {fold_budget:.1f} s each and extrapolated as in the model sets")
    if refit.extrapolated:
        notes.append(f"refit: {refit.note}")
    return {"task": task, "model": model_key, "trials": timeline, "measured_trials": len(timeline),
            "best_cv": best["value"], "best_params": best["params"], "best_at_s": best["t"],
            "seconds": clock + missing * trial_s + refit_s, "refit_s": refit_s,
            "metrics": scores(task, data["y_test"], predicted),
            "extrapolated": bool(missing) or extrapolated or refit.extrapolated, "note": "; ".join(notes)}


def all_columns(frame: pd.DataFrame, target: str, train: np.ndarray, test: np.ndarray, cap_s: float,
                limit_bytes: int = MEMORY_LIMIT) -> dict[str, Any]:
    """The classification set with every column one-hot, run only if its estimated peak memory fits."""
    features = frame.columns.drop(target)
    other = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
    width = len(features) - len(other) + sum(int(frame[c].iloc[train].nunique()) for c in other)
    dense = (len(train) + len(test)) * width * 4
    result = {"features": width, "dense_bytes": dense, "limit_bytes": limit_bytes}
    if dense * COPIES > limit_bytes:
        return result | {"status": "out of memory", "seconds": None,
                         "note": f"dense one-hot of {width:,} columns × {len(train) + len(test):,} rows is "
                                 f"{dense / 2**30:,.1f} GiB in float32 (about {COPIES}× that at peak) "
                                 f"against {limit_bytes / 2**30:.0f} GiB allowed; not attempted"}
    data = prepare(frame, target, train, test)
    return result | {"status": "ran"} | run_models("classification", data, cap_s)


def _primary(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if task == "classification":
        return float(accuracy_score(y_true, y_pred))
    return float(r2_score(y_true, y_pred))
