"""Hyper-parameter search: seeded Optuna TPE, pruning over row rungs or CV folds, resumable studies."""

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import psutil
from optuna.trial import FixedTrial, TrialState
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sqlalchemy import event
from threadpoolctl import threadpool_limits

from tools import accel, metrics, models, plots, preprocess, training
from tools.errors import ModelError, ToolError
from tools.keys import METRICS, MODELS, PRIMARY_METRIC

optuna.logging.set_verbosity(optuna.logging.ERROR)  # tools report through `progress`, never stderr

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  # what counts toward n_trials; FAIL trials do not
VALIDATION_CAP = 30_000  # validation rows carved from the training split (enough to rank configurations)
TOP_RUNG_CAP = 50_000  # rows of the largest rung: on 1M rows, 50k gave the same test score as 100k
RUNG_FACTOR = 3  # rows grow ×3 per rung and successive halving keeps the best third
MIN_RUNG_ROWS = 1_000
MIN_FOLDS_BEFORE_PRUNING = 3
FAST_METRICS = {"accuracy": accuracy_score, "r2": r2_score}  # primary metrics, defined as in tools.metrics


@dataclass(frozen=True)
class Fidelity:
    """One intermediate step of a trial: fit on X_fit, score on X_val, report under `step`."""

    step: int
    X_fit: np.ndarray
    y_fit: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    categorical: np.ndarray | None = None  # level-code columns (preprocess.categorical_mask)


@dataclass(frozen=True)
class Schedule:
    """How trials spend rows: k-fold CV (`folds` > 0) or row rungs scored on one validation split."""

    folds: int
    rungs: tuple[int, ...]
    validation_rows: int
    note: str

    def pruner(self) -> optuna.pruners.BasePruner:
        """Successive halving on row rungs (step = rows fitted); median pruning on running CV means."""
        if self.folds:  # one fold of a small table is too noisy to judge a trial by: wait for three
            return optuna.pruners.MedianPruner(n_startup_trials=5,  # steps are fold counts, 1-based
                                               n_warmup_steps=MIN_FOLDS_BEFORE_PRUNING)
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=self.rungs[0],
                                                      reduction_factor=RUNG_FACTOR)


@dataclass
class Monitor:
    """Optuna callback: counts finished trials, reports progress, stops on request, budget or failures."""

    n_trials: int
    finished: int
    progress: Callable[[dict], None] | None
    should_stop: Callable[[], bool] | None
    max_failures: int
    started: float = field(default_factory=time.monotonic)
    ran: int = 0
    failed: int = 0
    reason: str | None = None

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.ran += 1
        if trial.state in FINISHED:
            self.finished += 1
        else:
            self.failed += 1
        elapsed = time.monotonic() - self.started
        if self.progress is not None:
            remaining = max(self.n_trials - self.finished, 0)
            self.progress(dict(k=self.finished, n=self.n_trials, best=_best_value(study),
                               value=_trial_value(trial), state=trial.state.name, elapsed_s=round(elapsed, 2),
                               eta_s=round(elapsed / self.ran * remaining, 2)))
        if self.finished >= self.n_trials:
            study.stop()
        elif self.should_stop is not None and self.should_stop():
            self.reason = "stopped on request"
            study.stop()
        elif self.failed >= self.max_failures:
            self.reason = f"{self.failed} trials failed"
            study.stop()


def tune(frame, target: str, model_key: str, *, n_trials: int, timeout_s: float | None = None,
         metric: str | None = None, task: str = "auto", storage_url: str, study_name: str,
         out_dir: str | Path, record_id: str, progress: Callable[[dict], None] | None = None,
         should_stop: Callable[[], bool] | None = None, seed: int = 0) -> dict[str, Any]:
    """Tune `model_key` until the study holds `n_trials` finished trials; refit the best on all training rows.

    Re-running with the same `study_name` resumes: finished trials are kept, trials left running by a dead
    process are marked failed, and only the missing trials run. Returns the experiment record fields.
    """
    started = time.monotonic()
    data = training.prepare(frame, target, task)
    spec = models.check_model(model_key, data.task)
    metric = _resolve_metric(metric, data.task)
    preprocessor, pre_notes = preprocess.build_preprocessor(data.X_train, target, data.roles,
                                                            native=spec.native)
    schedule = plan_schedule(len(frame), len(data.X_train), frame.shape[1] - 1, model_key, data.task)

    study = _open_study(storage_url, study_name, model_key, metric, data.task, schedule.pruner())
    notes = [*data.notes, *pre_notes, schedule.note, *_fail_stale_trials(study)]
    finished_before = _count(study, FINISHED)
    if finished_before:
        notes.append(f"Resumed study '{study_name}' with {finished_before} finished trials.")
    monitor = Monitor(n_trials, finished_before, progress, should_stop,
                      max_failures=max(n_trials - finished_before, 5))
    if finished_before < n_trials:
        study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))  # fresh stream on resume
        steps = _fidelities(schedule, preprocessor, data.X_train, data.y_train, data.task, seed)
        objective = _objective(model_key, data.task, metric, steps, schedule, len(data.X_train))
        study.optimize(objective, timeout=timeout_s, callbacks=[monitor], catch=(Exception,))

    best = _best_trial(study, model_key)
    params = models.search_space(model_key, data.task, FixedTrial(best.params), len(data.X_train))
    fitted = training.fit_and_save(data, preprocessor, (model_key, params), out_dir=out_dir,
                                   record_id=record_id, max_rows=models.row_cap(model_key, data.task))
    counts = _state_counts(study)
    stopped_early = counts["finished"] < n_trials
    if stopped_early:
        notes.append(f"Stopped early ({monitor.reason or 'time limit reached'}) with {counts['finished']} "
                     f"of {n_trials} trials.")
    notes.append(f"Trials: {counts['complete']} complete, {counts['pruned']} pruned, "
                 f"{counts['failed']} failed.")
    history_png = _plot_history(study, metric, out_dir, record_id)
    return {
        "model": model_key, "task": data.task, "params": fitted["params"], "metrics": fitted["metrics"],
        "cv": fitted["cv"],
        "search": {"folds": schedule.folds or None, "rungs": list(schedule.rungs) or None,
                   "validation_rows": schedule.validation_rows or None, "best_value": best.value,
                   "std": best.user_attrs.get("fold_std"), "metric": metric},
        "n_trials": counts["finished"],
        "trials": {"complete": counts["complete"], "pruned": counts["pruned"], "failed": counts["failed"],
                   "stopped_early": stopped_early},
        "seconds": round(time.monotonic() - started, 3), "device": accel.device(),
        "artifact": fitted["artifact"],
        "plots": {**fitted["plots"], "optimization_history": history_png},
        "notes": [*notes, *fitted["notes"]], "best_value": best.value, "metric": metric, "study": study_name,
        "n_train": fitted["n_train"], "n_test": fitted["n_test"], "warning": fitted["warning"],
    }


def plan_schedule(rows: int, train_rows: int, cols: int, model_key: str, task: str) -> Schedule:
    """The fidelity schedule for a data size: k-fold CV on small data, ×3 row rungs on a capped subsample."""
    if train_rows < training.CV_BELOW_ROWS:
        folds = 5 if train_rows < 5_000 else 3
        return Schedule(folds, (), 0, f"{rows:,} rows × {cols} columns: each trial runs {folds}-fold CV on "
                                      f"the {train_rows:,} training rows, pruned by the running median "
                                      f"after {MIN_FOLDS_BEFORE_PRUNING} folds; "
                                      "final refit on all training rows.")
    validation = min(train_rows // 5, VALIDATION_CAP)
    top = min(train_rows - validation, models.row_cap(model_key, task) or TOP_RUNG_CAP)
    rungs = [top]
    while len(rungs) < 3 and rungs[0] // RUNG_FACTOR >= MIN_RUNG_ROWS:
        rungs.insert(0, rungs[0] // RUNG_FACTOR)
    rungs = [rungs[0] * RUNG_FACTOR ** i for i in range(len(rungs))]  # exact ×3 steps, as the pruner expects
    sizes = "/".join(f"{r:,}" for r in rungs)
    return Schedule(0, tuple(rungs), validation,
                    f"{rows:,} rows × {cols} columns: trials fit on {sizes}-row rungs and score on "
                    f"{validation:,} validation rows carved from the training split; successive halving "
                    f"keeps the best third at each rung; final refit on all {train_rows:,} training rows.")


def study_summary(storage_url: str, study_name: str) -> dict[str, Any]:
    """Trial counts by state and the best value of a stored study (zeros when it does not exist)."""
    try:
        study = optuna.load_study(study_name=study_name, storage=_storage(storage_url))
    except KeyError:
        return {"exists": False, "complete": 0, "pruned": 0, "failed": 0, "running": 0, "finished": 0,
                "best_value": None}
    return {"exists": True, **_state_counts(study), "best_value": _best_value(study)}


def _objective(model_key: str, task: str, metric: str, steps: list[Fidelity],
               schedule: Schedule, search_rows: int) -> Callable[[optuna.Trial], float]:
    """Fit each fidelity in turn, report its score (running mean over folds), prune between steps."""
    owner = _process_owner()

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("owner", owner)
        scores: list[float] = []
        try:
            params = models.search_space(model_key, task, trial, search_rows)
            for i, fid in enumerate(steps):
                scores.append(_fit_score(model_key, task, metric, params, fid))
                value = float(np.mean(scores)) if schedule.folds else scores[-1]
                trial.report(value, fid.step)
                if i < len(steps) - 1 and trial.should_prune():
                    raise optuna.TrialPruned()
        except optuna.TrialPruned:
            raise
        except Exception as error:
            trial.set_user_attr("error", f"{type(error).__name__}: {error}")
            raise
        if schedule.folds:
            trial.set_user_attr("fold_std", round(float(np.std(scores)), 6))
        return value

    return objective


def _fit_score(model_key: str, task: str, metric: str, params: dict, fid: Fidelity) -> float:
    """Validation score of one configuration fitted on one fidelity's rows."""
    estimator = models.build(model_key, task, params, n_rows=len(fid.y_fit), n_features=fid.X_fit.shape[1],
                             categorical=fid.categorical, probabilities=metric == "log_loss")
    # one BLAS thread: trial-sized matrices gain nothing from threads and lose much on a busy 2-core box
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(fid.X_fit, fid.y_fit)
    return _score(estimator, fid.X_val, fid.y_val, task, metric, model_key)


def _score(estimator, X, y, task: str, metric: str, model_key: str) -> float:
    """`metric` of a fitted estimator on (X, y), with probabilities or decision scores when it needs them."""
    if metric in FAST_METRICS:  # metrics.score computes every metric: ~20× slower on 30k validation rows
        return float(FAST_METRICS[metric](y, estimator.predict(X)))
    proba = decision = classes = None
    if metric in ("roc_auc", "log_loss"):
        classes = list(estimator.classes_)
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
        elif hasattr(estimator, "decision_function"):
            decision = estimator.decision_function(X)
    values = metrics.score(task, y, estimator.predict(X), proba=proba, classes=classes, decision=decision)
    if metric not in values:
        reason = "no class probabilities" if metric == "log_loss" else "a validation part holds one class"
        raise ModelError(f"{metric} cannot be computed for {MODELS[model_key].label} ({reason}); "
                         "tune for accuracy or f1, or choose another model.")
    return values[metric]


def _fidelities(schedule: Schedule, preprocessor, X_train, y_train, task: str, seed: int) -> list[Fidelity]:
    """Pre-transformed arrays for every step: one preprocessor fit per fold, or one for all rungs."""
    y = np.asarray(y_train)
    stratify = task == "classification"
    if schedule.folds:
        splitter = (StratifiedKFold if stratify and _min_class_count(y) >= schedule.folds else KFold)(
            n_splits=schedule.folds, shuffle=True, random_state=seed)
        steps = []
        for i, (fit_idx, val_idx) in enumerate(splitter.split(X_train, y), start=1):
            pre = clone(preprocessor)
            X_fit = _dense(pre.fit_transform(X_train.iloc[fit_idx], y[fit_idx]))  # cross-fitted like Pipeline
            X_val = _dense(pre.transform(X_train.iloc[val_idx]))
            steps.append(Fidelity(i, X_fit, y[fit_idx], X_val, y[val_idx], preprocess.categorical_mask(pre)))
        return steps
    positions = np.arange(len(y))
    pool_idx, val_idx = train_test_split(positions, test_size=schedule.validation_rows, random_state=seed,
                                         stratify=y if stratify and _min_class_count(y) >= 2 else None)
    order = _nested_order(y[pool_idx], stratify, seed)
    fit_idx = pool_idx[order[:schedule.rungs[-1]]]
    pre = clone(preprocessor)
    X_fit = _dense(pre.fit_transform(X_train.iloc[fit_idx], y[fit_idx]))
    X_val, y_fit, y_val = _dense(pre.transform(X_train.iloc[val_idx])), y[fit_idx], y[val_idx]
    categorical = preprocess.categorical_mask(pre)
    return [Fidelity(rows, X_fit[:rows], y_fit[:rows], X_val, y_val, categorical) for rows in schedule.rungs]


def _nested_order(y: np.ndarray, stratify: bool, seed: int) -> np.ndarray:
    """A row order whose every prefix is a random (and, for classes, stratified) sample: nested rungs."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    if not stratify:
        return order
    rank = np.empty(len(y))
    for label in np.unique(y[order]):
        members = order[y[order] == label]
        rank[members] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
    return np.argsort(rank, kind="stable")


def _open_study(storage_url: str, study_name: str, model_key: str, metric: str, task: str,
                pruner: optuna.pruners.BasePruner) -> optuna.Study:
    """Create or load the study; a study created for another model or metric is refused, not mixed."""
    direction = "maximize" if METRICS[metric].greater_is_better else "minimize"
    study = optuna.create_study(storage=_storage(storage_url), study_name=study_name, direction=direction,
                                pruner=pruner, load_if_exists=True)
    wanted = {"model": model_key, "metric": metric, "task": task}
    stored = {key: study.user_attrs.get(key) for key in wanted}
    if not any(stored.values()):
        for key, value in wanted.items():
            study.set_user_attr(key, value)
    elif stored != wanted:
        raise ModelError(f"Study '{study_name}' tunes {stored['model']} for {stored['metric']}, not "
                         f"{model_key} for {metric}; use another study name to start a new search.")
    return study


def _storage(storage_url: str) -> optuna.storages.RDBStorage:
    """RDB storage; an SQLite file gets its folder, lock waits, and WAL journaling (see `_sqlite_pragmas`)."""
    if not storage_url.startswith("sqlite:///"):
        return optuna.storages.RDBStorage(storage_url)
    Path(storage_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(storage_url, engine_kwargs={"connect_args": {"timeout": 60}})
    event.listen(storage.engine, "connect", _sqlite_pragmas)
    storage.engine.dispose()  # connections opened during set-up reconnect with the pragmas
    return storage


def _sqlite_pragmas(connection, _record) -> None:
    """WAL with synchronous=NORMAL: commits survive a killed process (not a power cut) at ~5× less cost,
    and readers (progress polls, study_summary) never block the tuning process."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _fail_stale_trials(study: optuna.Study) -> list[str]:
    """Mark RUNNING trials left by a dead process as FAIL; refuse when a live process still runs one."""
    mine = _process_owner()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get("owner")
        if owner and owner != mine and _is_alive(owner):
            raise ToolError(f"Study '{study.study_name}' is being tuned by process {owner.split(':')[0]}; "
                            "wait for it to finish or stop it, then resume.")
        study._storage.set_trial_user_attr(trial._trial_id, "error", "interrupted: its process ended")
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        stale.append(trial.number)
    return [f"Trials {stale} were interrupted by a process that ended; marked failed."] if stale else []


def _process_owner() -> str:
    """This process as 'pid:start time', unique even when the OS reuses the pid."""
    return f"{os.getpid()}:{psutil.Process().create_time():.3f}"


def _is_alive(owner: str) -> bool:
    pid, created = owner.split(":")
    try:
        return f"{psutil.Process(int(pid)).create_time():.3f}" == created
    except psutil.Error:
        return False


def _best_trial(study: optuna.Study, model_key: str) -> optuna.trial.FrozenTrial:
    """The best COMPLETE trial; `ModelError` with the first failure when no trial completed."""
    if _count(study, (TrialState.COMPLETE,)):
        return study.best_trial
    errors = [t.user_attrs["error"] for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
              if "error" in t.user_attrs]
    label = MODELS[model_key].label
    if errors:
        raise ModelError(f"Every trial tuning {label} failed; the first error was: {errors[0]}. "
                         "Try another model or fewer/cleaner columns.")
    raise ModelError(f"No trial tuning {label} completed in time; give it more time (timeout_s) or trials.")


def _resolve_metric(metric: str | None, task: str) -> str:
    key = metrics.resolve_metric(metric) if metric else PRIMARY_METRIC[task]
    if METRICS[key].task != task:
        raise ModelError(f"{METRICS[key].label} is a {METRICS[key].task} metric but this is {task}; use one "
                         f"of: {', '.join(k for k, m in METRICS.items() if m.task == task)}.")
    return key


def _state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials by state, plus `finished` (complete + pruned: what counts toward n_trials)."""
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    counts = {name: states.count(state) for name, state in (
        ("complete", TrialState.COMPLETE), ("pruned", TrialState.PRUNED), ("failed", TrialState.FAIL),
        ("running", TrialState.RUNNING))}
    return counts | {"finished": counts["complete"] + counts["pruned"]}


def _plot_history(study: optuna.Study, metric: str, out_dir: str | Path, record_id: str) -> str:
    """PNG of trial values (None for pruned / failed trials) and the best so far."""
    values = [t.value if t.state == TrialState.COMPLETE else None for t in study.get_trials(deepcopy=False)]
    path = Path(out_dir) / "plots" / f"optuna_history-{record_id}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(plots.plot_optimization_history(values, path, metric, METRICS[metric].greater_is_better))


def _count(study: optuna.Study, states: tuple[TrialState, ...]) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


def _best_value(study: optuna.Study) -> float | None:
    return study.best_value if _count(study, (TrialState.COMPLETE,)) else None


def _trial_value(trial: optuna.trial.FrozenTrial) -> float | None:
    if trial.state == TrialState.COMPLETE:
        return trial.value
    return trial.intermediate_values.get(trial.last_step) if trial.last_step is not None else None


def _min_class_count(y: np.ndarray) -> int:
    return int(np.unique(y, return_counts=True)[1].min())


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=np.float32)
