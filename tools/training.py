"""Training and evaluation: one fixed split per dataset, preprocessing + model Pipelines, test metrics."""

import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from tools import accel, models, plots, preprocess, profile, sanity
from tools.errors import ColumnError, ModelError
from tools.keys import MODELS, PRIMARY_METRIC, TASKS
from tools.metrics import score

TEST_SIZE = 0.2
SEED = 0
IMPORTANCE_ROWS = 1_000  # test rows used for permutation importance when a model has no native one
IMPORTANCE_BUDGET_S = 3.0  # rough time allowed for permutation importance
PLOT_POINTS = 20_000  # scatter plots draw at most this many test rows
CV_FOLDS = 5
LEANING_SHARE = 0.2  # a too-good model "leans on" the columns with at least this share of the top importance
# Fewer training rows than this: models are ranked by cross-validation on the training rows, and tuning runs
# k-fold CV per trial instead of row rungs. Measured (bench/selection.py): below it CV scores are 1.3-4x
# steadier than the test split's; at 10,000 rows both rankings picked the same model every time.
CV_BELOW_ROWS = 10_000


@dataclass(eq=False)
class Prepared:
    """A dataset ready to train on: the fixed split, the task and why, column roles, label info, notes."""

    target: str
    task: str
    task_reason: str
    roles: dict[str, str]
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    classes: list | None = None  # sorted class labels (classification), as the model will report them
    notes: list[str] = field(default_factory=list)


def split(frame: pd.DataFrame, target: str, task: str, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the 80/20 train/test split: stratified for classes, fixed by `seed`, sorted.

    Rows without a target are in neither part. The same frame always gives the same split, so every
    experiment on a dataset is scored on the same test rows.
    """
    labelled = np.flatnonzero(frame[target].notna().to_numpy())
    y = _labels(frame[target].iloc[labelled], task)
    stratify = task == "classification" and _can_stratify(y)
    test = np.zeros(len(y), dtype=bool)
    test[_sample(y, math.ceil(len(y) * TEST_SIZE), stratify, seed)] = True
    return labelled[~test], labelled[test]


def prepare(frame: pd.DataFrame, target: str, task: str = "auto") -> Prepared:
    """Check the target, settle the task (auto-detected with a reason), split, and assign column roles."""
    if task not in ("auto", *TASKS):
        raise ModelError(f"Unknown task '{task}'; use auto, classification or regression.")
    if task == "regression" and target in frame and not pd.api.types.is_numeric_dtype(frame[target]):
        raise ColumnError(f"'{target}' is not numeric, so it cannot be a regression target; "
                          "train with task classification instead.")
    profile.validate_target(frame, target, None if task == "auto" else task)
    y_all = frame[target].dropna()
    if task == "auto":
        task, reason = profile.infer_task(y_all)
    else:
        reason = f"{task} as asked"
    notes = [f"task: {task} ({reason})"]
    missing = len(frame) - len(y_all)
    if missing:
        notes.append(f"left out {missing:,} rows without a value of '{target}'")
    train_idx, test_idx = split(frame, target, task)
    train_rows = frame.iloc[train_idx]
    roles = profile.column_roles(train_rows, target)
    y_train = _labels(train_rows[target], task)
    y_test = _labels(frame[target].iloc[test_idx], task)
    classes = sorted(np.unique(y_train).tolist()) if task == "classification" else None
    return Prepared(target, task, reason, roles, train_rows.drop(columns=[target]),
                    frame.iloc[test_idx].drop(columns=[target]), y_train, y_test, train_idx, test_idx,
                    classes, notes)


class Trainer:
    """Trains models on one frame's fixed split; the models of one step share its preparation and encodings.

    Made per train step and never shared between threads (no process-wide cache). With `plots=False`,
    `draw_plots(record_id)` draws a model's diagnostics later, e.g. only for the best of several models.
    """

    def __init__(self, frame: pd.DataFrame, target: str, task: str = "auto") -> None:
        self.data = prepare(frame, target, task)
        self._preprocessors: dict[bool, tuple[Any, list[str]]] = {}
        self._encoded: dict[tuple[bool, int | None], Encoded] = {}
        self._undrawn: dict[str, Callable[[], tuple[dict[str, str], str]]] = {}

    def train(self, model_key: str, *, params: dict | None = None, cv_folds: int | None = None,
              out_dir: str | os.PathLike, record_id: str, max_rows: int | None = None,
              plots: bool = True) -> dict[str, Any]:
        """Fit preprocessing + `model_key` on the training split, score the test split: the record fields.

        Fields: model, task, params, metrics, cv, seconds, device, artifact, plots, notes, n_train, n_test.
        `max_rows` caps the training rows (kernel models cap themselves); `cv_folds` as in `fit_and_save`.
        """
        started = time.monotonic()
        data = self.data
        spec = models.check_model(model_key, data.task)
        preprocessor, notes = self.preprocessor(spec.native)
        caps = [cap for cap in (max_rows, models.row_cap(model_key, data.task)) if cap]
        cap = min(caps) if caps else None
        encoded = self._encoded.get((spec.native, cap))
        if encoded is None:
            encoded = self._encoded[spec.native, cap] = encode(data, preprocessor, cap)
        _, model_note = models.default_params(model_key, data.task, len(data.X_train), data.X_train.shape[1])
        fitted = fit_and_save(data, preprocessor, (model_key, params), out_dir=out_dir, record_id=record_id,
                              max_rows=cap, cv_folds=cv_folds, plots=plots, encoded=encoded)
        if not plots:
            self._undrawn[record_id] = fitted["draw"]
        return {
            "model": model_key, "task": data.task, "params": fitted["params"], "metrics": fitted["metrics"],
            "cv": fitted["cv"], "seconds": round(time.monotonic() - started, 3), "device": accel.device(),
            "artifact": fitted["artifact"], "plots": fitted["plots"],
            "notes": [*data.notes, *notes, f"{MODELS[model_key].label}: {model_note}", *fitted["notes"]],
            "n_train": fitted["n_train"], "n_test": fitted["n_test"], "warning": fitted["warning"],
        }

    def preprocessor(self, native: bool) -> tuple[Any, list[str]]:
        """The unfitted preprocessor (one-hot, or `native` for boosting) and its notes, built once."""
        if native not in self._preprocessors:
            self._preprocessors[native] = preprocess.build_preprocessor(
                self.data.X_train, self.data.target, self.data.roles, native=native)
        return self._preprocessors[native]

    def draw_plots(self, record_id: str) -> tuple[dict[str, str], str | None]:
        """Draw the diagnostics `train(..., plots=False)` left undrawn: ({name: path}, a note on how feature
        importance was measured), or ({}, None) when there are none (drawn already, or unknown)."""
        draw = self._undrawn.pop(record_id, None)
        return draw() if draw else ({}, None)


def train(frame: pd.DataFrame, target: str, model_key: str, *, task: str = "auto",
          **options: Any) -> dict[str, Any]:
    """One model on `frame`'s fixed split (`Trainer.train` of a one-off Trainer); the record fields."""
    return Trainer(frame, target, task).train(model_key, **options)


def fit_and_save(data: Prepared, preprocessor, model, *, out_dir: str | os.PathLike, record_id: str,
                 max_rows: int | None = None, cv_folds: int | None = None, plots: bool = True,
                 encoded: "Encoded | None" = None) -> dict[str, Any]:
    """Fit `preprocessor` + `model` on (at most `max_rows`) training rows, score the test split, save it all.

    `model` is an unfitted estimator or a `(model_key, params)` pair, built for the encoded width.
    `cv_folds`: None cross-validates on small data only (`selection_cv`), 0 never, k ≥ 2 k folds once.
    `encoded`: `encode(data, preprocessor, max_rows)` when already computed.
    Returns params, metrics, cv, artifact (the fitted Pipeline), plots, notes, n_train, n_test and `draw`
    (draws the diagnostics; already called when `plots`).
    """
    rows = min(len(data.y_train), max_rows or len(data.y_train))
    key = model[0] if isinstance(model, tuple) else None
    with threadpool_limits(models.threads(rows)):
        encoded = encoded or encode(data, preprocessor, max_rows)
        notes = list(encoded.notes)
        if key:
            params = model[1]
            calibrate = _min_class_rows(encoded.y_fit, data.task) >= models.CALIBRATION_FOLDS
            estimator = models.build(key, data.task, params, n_rows=len(encoded.y_fit),
                                     n_features=encoded.Xt_fit.shape[1], categorical=encoded.categorical,
                                     probabilities=calibrate)
            effective = models.effective_params(estimator, key, data.task, params)
        else:
            estimator, effective = model, _plain_params(model)
        plan = (cv_folds, 1) if cv_folds else selection_cv(len(encoded.y_fit)) if cv_folds is None else None
        with threadpool_limits(models.threads(rows, key)):
            cv = _cross_validate(encoded.preprocessor, estimator, encoded.X_fit, encoded.y_fit, data.task,
                                 *plan) if plan else None
            estimator.fit(encoded.Xt_fit, encoded.y_fit)
        pipeline = Pipeline([("preprocess", encoded.preprocessor), ("model", estimator)])
        y_pred, scores, metrics = _evaluate(data, estimator, encoded.Xt_test, notes)
        warning = _too_good(data, pipeline, encoded.X_test, metrics)
        artifact = _save(pipeline, Path(out_dir) / f"model-{record_id}.joblib")
    draw = partial(_plots, data, pipeline, encoded.X_test, y_pred, scores, Path(out_dir) / "plots", record_id)
    plot_paths = {}
    if plots:
        plot_paths, note = draw()
        notes.append(note)
    return {"params": effective, "metrics": metrics, "cv": cv, "artifact": artifact, "plots": plot_paths,
            "notes": notes, "n_train": int(len(encoded.y_fit)), "n_test": int(len(data.y_test)), "draw": draw,
            "warning": warning}


def _too_good(data: Prepared, pipeline: Pipeline, X_test: pd.DataFrame, metrics: dict) -> dict | None:
    """The too-good-to-be-true check (tools.sanity), with the columns the model leans on when it fires."""
    majority = (float(np.unique(data.y_test, return_counts=True)[1].max() / len(data.y_test))
                if data.task == "classification" else None)
    if sanity.too_good_to_be_true(data.task, metrics, majority, ()) is None:
        return None  # importance is only worth computing when the score is suspicious
    with threadpool_limits(1):
        names, values, _ = feature_importance(pipeline, X_test, data.y_test, data.task)
    top = np.max(np.abs(values), initial=0.0)
    leaning = [(name, value) for name, value in zip(names, values, strict=True)  # the columns that matter
               if abs(value) >= LEANING_SHARE * top > 0]
    return sanity.too_good_to_be_true(data.task, metrics, majority, leaning)


def selection_cv(train_rows: int) -> tuple[int, int] | None:
    """(folds, repeats) of the cross-validation that ranks models on small data; None above CV_BELOW_ROWS.

    Below it the test split is too small to rank models on alone (see CV_BELOW_ROWS); fewer rows get more
    repeats, which cost little there and steady the estimate.
    """
    if train_rows >= CV_BELOW_ROWS:
        return None
    return CV_FOLDS, 2 if train_rows < 1_000 else 1


@dataclass(eq=False)
class Encoded:
    """Preprocessing fitted on the (possibly subsampled) training rows, and both splits encoded by it."""

    preprocessor: Any
    X_fit: pd.DataFrame
    y_fit: np.ndarray
    Xt_fit: np.ndarray
    X_test: pd.DataFrame
    Xt_test: np.ndarray
    notes: list[str]
    categorical: np.ndarray | None  # level-code columns of a native preprocessor (None: one-hot)


def encode(data: Prepared, preprocessor, max_rows: int | None = None) -> Encoded:
    """Fit a clone of `preprocessor` on the (subsampled) training rows and encode both splits."""
    columns = preprocess.feature_columns(preprocessor)
    X_fit, y_fit, notes = data.X_train[columns], data.y_train, []
    if max_rows and len(y_fit) > max_rows:
        X_fit, y_fit = _subsample(X_fit, y_fit, max_rows, data.task)
        notes.append(f"fitted on a random {max_rows:,} of the {len(data.y_train):,} training rows")
    fitted = clone(preprocessor)
    Xt_fit = fitted.fit_transform(X_fit, y_fit)
    X_test = data.X_test[columns]
    return Encoded(fitted, X_fit, y_fit, Xt_fit, X_test, fitted.transform(X_test), notes,
                   preprocess.categorical_mask(fitted))


def _evaluate(data: Prepared, model, Xt_test: np.ndarray, notes: list[str]):
    """Test-split predictions, class scores (probabilities, else decision values) and metrics."""
    if data.task == "regression":
        y_pred = model.predict(Xt_test)
        return y_pred, None, score("regression", data.y_test, y_pred)
    proba = model.predict_proba(Xt_test) if hasattr(model, "predict_proba") else None
    decision = None
    if proba is not None:  # what `predict` computes, without scoring the test rows a second time
        y_pred = model.classes_[np.argmax(proba, axis=1)]
    else:
        y_pred = model.predict(Xt_test)
        decision = model.decision_function(Xt_test)
        notes.append("no class probabilities: roc_auc from decision_function scores, log_loss left out")
    metrics = score("classification", data.y_test, y_pred, proba, list(model.classes_), decision=decision)
    return y_pred, proba if proba is not None else decision, metrics


def _save(pipeline: Pipeline, path: Path) -> str:
    """Write the fitted Pipeline with joblib, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".joblib.partial")
    joblib.dump(pipeline, partial, compress=3)
    os.replace(partial, path)
    return str(path)


def feature_importance(pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray,
                       task: str) -> tuple[list[str], np.ndarray, str]:
    """Importance of each input column as (names, values, how): tree importances or mean |coefficient|
    summed over the column's encoded features, else permutation importance on up to IMPORTANCE_ROWS rows."""
    preprocessor, model = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
    columns = list(X.columns)
    owner = np.array([columns.index(_source_column(name, columns))
                      for name in preprocessor.get_feature_names_out()])
    inner = models.fitted_inner(model)
    if hasattr(inner, "feature_importances_"):
        encoded, how = np.asarray(inner.feature_importances_), "impurity importance"
    elif hasattr(inner, "coef_"):
        encoded, how = np.abs(np.atleast_2d(inner.coef_)).mean(axis=0), "|coefficient| (standardised inputs)"
    else:
        rows = np.sort(np.random.default_rng(SEED).permutation(len(y))[:IMPORTANCE_ROWS])
        values = _permutation_importance(model, preprocessor.transform(X.iloc[rows]), y[rows], owner, task)
        return columns, values, "permutation importance on a sample of test rows"
    return columns, np.bincount(owner, weights=encoded, minlength=len(columns)), how


def _permutation_importance(model, Xt: np.ndarray, y: np.ndarray, owner: np.ndarray, task: str,
                            repeats: int = 2) -> np.ndarray:
    """Mean score drop when all encoded features of one input column are shuffled together.

    Rows are cut so the whole computation stays within about IMPORTANCE_BUDGET_S (kernel models predict
    slowly)."""
    scorer = get_scorer(_cv_scorers(task, model, 0)[PRIMARY_METRIC[task]])
    started = time.monotonic()
    baseline = scorer(model, Xt, y)
    calls = len(np.unique(owner)) * repeats
    estimate = (time.monotonic() - started) * calls
    if estimate > IMPORTANCE_BUDGET_S:
        keep = max(100, int(len(y) * IMPORTANCE_BUDGET_S / estimate))
        Xt, y = Xt[:keep], y[:keep]
        baseline = scorer(model, Xt, y)
    rng = np.random.default_rng(SEED)
    drops = np.zeros(owner.max() + 1)
    for column in np.unique(owner):
        features = np.flatnonzero(owner == column)
        for _ in range(repeats):
            shuffled = Xt.copy()
            shuffled[:, features] = Xt[rng.permutation(len(Xt))][:, features]
            drops[column] += (baseline - scorer(model, shuffled, y)) / repeats
    return drops


def _source_column(feature: str, columns: list[str]) -> str:
    """The input column an encoded feature name ("branch__col", "branch__col_level", …) comes from."""
    name = feature.split("__", 1)[-1].removeprefix("missingindicator_")
    return max((c for c in columns if name == c or name.startswith(f"{c}_")), key=len)


def _plots(data: Prepared, pipeline: Pipeline, X_test: pd.DataFrame, y_pred, scores, folder: Path,
           record_id: str) -> tuple[dict[str, str], str]:
    """Diagnostic PNGs for the test split: ({name: path}, how feature importance was measured)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = {name: str(folder / f"{name}-{record_id}.png") for name in (
        "confusion_matrix", "roc", "pred_vs_actual", "residuals", "feature_importance")}
    written = {}
    if data.task == "classification":
        classes = list(pipeline.classes_)
        written["confusion_matrix"] = plots.plot_confusion_matrix(data.y_test, y_pred, classes,
                                                                  path["confusion_matrix"])
        if scores is not None:
            scores = np.column_stack([-scores, scores]) if scores.ndim == 1 else scores
            written["roc"] = plots.plot_roc(data.y_test, scores, classes, path["roc"])
    else:
        sample = np.random.default_rng(SEED).permutation(len(y_pred))[:PLOT_POINTS]
        written["pred_vs_actual"] = plots.plot_pred_vs_actual(data.y_test[sample], y_pred[sample],
                                                              path["pred_vs_actual"])
        written["residuals"] = plots.plot_residuals(data.y_test[sample], y_pred[sample], path["residuals"])
    with threadpool_limits(1):  # predictions on ~1,000 rows: waking a second thread costs more than it saves
        names, values, how = feature_importance(pipeline, X_test, data.y_test, data.task)
    written["feature_importance"] = plots.plot_feature_importance(names, values, path["feature_importance"])
    return {name: str(png) for name, png in written.items()}, f"feature importance: {how}"


def _cross_validate(pre, estimator, X, y, task: str, folds: int, repeats: int = 1) -> dict[str, Any]:
    """Repeated k-fold CV of the whole pipeline on the training rows (preprocessing refitted in every fold).

    Returns folds, repeats, the primary metric's mean and std, and `means` of every metric it could score.
    """
    stratify = task == "classification" and _can_stratify(y, folds)
    # Seeded apart from tuning's folds (seed 0), so a tuned model is not judged on the folds it was chosen on.
    splitter = (RepeatedStratifiedKFold if stratify else RepeatedKFold)(
        n_splits=folds, n_repeats=repeats, random_state=SEED + 1)
    pipeline = Pipeline([("preprocess", clone(pre)), ("model", clone(estimator))])
    scorers = _cv_scorers(task, estimator, len(np.unique(y)) if task == "classification" else 0)
    with warnings.catch_warnings():  # a fold without some class cannot score roc_auc: NaN, left out below
        warnings.simplefilter("ignore")
        scores = cross_validate(pipeline, X, y, cv=splitter, scoring=scorers, n_jobs=1, error_score=np.nan)
    means = {}
    for metric, scorer in scorers.items():
        values = scores[f"test_{metric}"] * (-1 if scorer.startswith("neg_") else 1)
        if np.isfinite(values).all():
            means[metric] = round(float(values.mean()), 6)
    primary = PRIMARY_METRIC[task]
    values = scores[f"test_{primary}"]
    return {"folds": folds, "repeats": repeats, "metric": primary, "mean": means.get(primary),
            "std": round(float(np.nanstd(values)), 6), "means": means}


def _cv_scorers(task: str, estimator, n_classes: int) -> dict[str, str]:
    """scikit-learn scorer names of the metrics cross-validation can measure for this estimator."""
    if task == "regression":
        return {"r2": "r2", "rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error"}
    scorers = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "f1": "f1_weighted",
               "f1_macro": "f1_macro", "precision": "precision_weighted", "recall": "recall_weighted"}
    if hasattr(estimator, "predict_proba"):
        scorers |= {"roc_auc": "roc_auc" if n_classes == 2 else "roc_auc_ovr_weighted",
                    "log_loss": "neg_log_loss"}
    elif n_classes == 2 and hasattr(estimator, "decision_function"):
        scorers["roc_auc"] = "roc_auc"
    return scorers


def _labels(y: pd.Series, task: str) -> np.ndarray:
    """Target values as the model sees them: float for regression; for classes, whole numbers as int
    (so 0/1 stays 0/1, not 0.0/1.0) and anything else as text."""
    if task == "regression":
        return pd.to_numeric(y, errors="coerce").to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        values = y.to_numpy(dtype=np.float64)
        return values.astype(np.int64) if np.all(np.mod(values, 1) == 0) else values
    return y.astype(str).to_numpy(dtype=object)


def _can_stratify(y: np.ndarray, folds: int = 2) -> bool:
    """Every class has enough rows for `folds` parts, and the test part can hold every class."""
    _, counts = np.unique(y, return_counts=True)
    return counts.min() >= folds and round(len(y) * TEST_SIZE) >= len(counts)


def _subsample(X: pd.DataFrame, y: np.ndarray, rows: int, task: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A seeded random (stratified for classes) subset of `rows` training rows, in frame order."""
    keep = _sample(y, rows, task == "classification" and _can_stratify(y), SEED)
    return X.iloc[keep], y[keep]


def _sample(y: np.ndarray, rows: int, stratify: bool, seed: int) -> np.ndarray:
    """Sorted positions of a seeded random `rows` of y's; stratified, each class keeps its share (largest
    remainder). Linear time: on 1M rows about 10× faster than train_test_split's stratified shuffle."""
    rng = np.random.default_rng(seed)
    if not stratify:
        return np.sort(rng.choice(len(y), rows, replace=False))
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = counts * rows / len(y)
    quota = np.floor(share).astype(int)
    quota[np.argsort(quota - share, kind="stable")[:rows - quota.sum()]] += 1
    order = rng.permutation(len(y))
    grouped = order[np.argsort(codes[order], kind="stable")]  # by class, each class in random order
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.sort(np.concatenate([grouped[start:start + n] for start, n in zip(starts, quota, strict=True)]))


def _min_class_rows(y: np.ndarray, task: str) -> int:
    """Rows of the rarest class (a large number for regression)."""
    return int(np.unique(y, return_counts=True)[1].min()) if task == "classification" else len(y)


def _plain_params(estimator) -> dict[str, Any]:
    """Constructor parameters of an estimator as JSON-friendly values."""
    estimator = models.unwrapped(estimator)
    return {name: models.json_value(value) for name, value in estimator.get_params(deep=False).items()}
