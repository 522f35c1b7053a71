"""Retraining: a challenger of a registered version's recipe on new data, against the champion, on fresh rows.

The holdout is carved from the new data before anything is trained (stratified for classes, seeded) and
neither model ever learns from it. The challenger is promoted only when it beats the champion by more than
noise: the 95% interval of a paired bootstrap of (challenger − champion) on the holdout rows lies above 0.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from tools.decay import Scored, labelled_rows, paired
from tools.errors import ColumnError, DataError
from tools.keys import METRICS, PRIMARY_METRIC
from tools.predict import load_model
from tools.training import Trainer

MIN_HOLDOUT_ROWS = 20  # fewer new rows than this in the holdout cannot tell two models apart


def retrain(version_meta: dict, champion, new: pd.DataFrame, *, old: pd.DataFrame | None = None,
            out_dir: str | Path, record_id: str, holdout_share: float = 0.3, seed: int = 0,
            max_rows: int | None = None, n_boot: int = 200) -> dict[str, Any]:
    """Train the version's recipe on `new` (less a fresh holdout; plus all of `old` when given), score both.

    The challenger learns from the champion's input columns only (so excluded columns stay out, and it can
    replace the champion behind the same deployment). Returns metric, champion {version, value, metrics},
    challenger {value, metrics, fields: the `Trainer.train` fields}, holdout_rows, training_rows, gain
    {value, ci_low, ci_high} (challenger over champion on the metric, positive when the challenger is
    better), recommendation (promote / keep), reason and notes. `max_rows` caps the challenger's rows.
    """
    experiment = version_meta["experiment"]
    task, target = experiment["task"], experiment["dataset"]["target"]
    columns = [*map(str, champion.feature_names_in_), target]
    new = new.reset_index(drop=True)
    labelled, y, unlabelled = labelled_rows(champion, new, target, task)
    holdout = _holdout(y, task, holdout_share, seed)
    rest = new.iloc[np.delete(labelled.index.to_numpy(), holdout)][columns]
    training = pd.concat([_old_rows(old, columns), rest], ignore_index=True) if old is not None else rest
    fields = Trainer(training.reset_index(drop=True), target, task).train(
        experiment["model"], params=experiment.get("params"), out_dir=out_dir, record_id=record_id,
        max_rows=max_rows)
    X, y_holdout = labelled.iloc[holdout], y[holdout]
    scored = {"champion": Scored(champion, X, y_holdout, task),
              "challenger": Scored(load_model(fields["artifact"]), X, y_holdout, task)}
    metric = PRIMARY_METRIC[task]
    sign = 1 if METRICS[metric].greater_is_better else -1  # the gain is positive when the challenger wins
    gain = paired(lambda rows: sign * scored["champion"].value(metric, rows),
                  lambda rows: sign * scored["challenger"].value(metric, rows), len(holdout), n_boot, seed)
    metrics = {side: model.metrics(np.arange(len(holdout))) for side, model in scored.items()}
    recommendation = "promote" if gain[1] > 0 else "keep"
    notes = [f"left out {unlabelled:,} new rows without a value of '{target}'"] if unlabelled else []
    return {
        "metric": metric,
        "champion": {"version": version_meta.get("version"), "value": metrics["champion"][metric],
                     "metrics": metrics["champion"]},
        "challenger": {"value": metrics["challenger"][metric], "metrics": metrics["challenger"],
                       "fields": fields},
        "holdout_rows": len(holdout), "training_rows": len(training),
        "gain": dict(zip(("value", "ci_low", "ci_high"), gain, strict=True)),
        "recommendation": recommendation,
        "reason": _reason(recommendation, metric, metrics, len(holdout), gain),
        "notes": [*notes, *scored["champion"].notes],
    }


def _old_rows(old: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The champion's columns of the old data; ColumnError names those it lacks."""
    missing = [column for column in columns if column not in old.columns]
    if missing:
        raise ColumnError(f"The old data lacks the column(s) {', '.join(missing)} the model was trained on; "
                          "give the table the version was trained on, or retrain on the new data only.")
    return old[columns]


def _holdout(y: np.ndarray, task: str, share: float, seed: int) -> np.ndarray:
    """Sorted positions of a seeded `share` of the rows, each class keeping its share when it can."""
    rows = round(len(y) * share)
    if rows < MIN_HOLDOUT_ROWS or len(y) - rows < MIN_HOLDOUT_ROWS:
        raise DataError(f"{len(y):,} labelled new rows are too few to train a challenger and compare it on "
                        f"a fresh holdout ({share:.0%} of the rows, at least {MIN_HOLDOUT_ROWS} on each "
                        "side); give more new rows.")
    stratify = None
    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 and rows >= len(counts) else None
    _, holdout = train_test_split(np.arange(len(y)), test_size=rows, stratify=stratify, random_state=seed)
    return np.sort(holdout)


def _reason(recommendation: str, metric: str, metrics: dict, rows: int, gain: tuple[float, ...]) -> str:
    """One line with both models' values on the holdout and the interval of the gain."""
    champion, challenger = metrics["champion"][metric], metrics["challenger"][metric]
    both = (f"challenger {metric} {challenger:.4f} vs champion {champion:.4f} on {rows:,} fresh holdout rows "
            f"(95% interval of the gain {gain[1]:+.4f} to {gain[2]:+.4f})")
    if recommendation == "promote":
        return f"Promote: {both}, better beyond noise."
    return f"Keep the champion: {both}, not better beyond noise."
