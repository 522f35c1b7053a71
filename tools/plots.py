"""Small PNG charts (matplotlib, Agg) for EDA, evaluation and tuning; bad input gives a note, not a crash."""

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 90
MAX_POINTS = 5000  # scatter plots show a random subset of larger inputs
MAX_BARS = 25
MAX_CORR_ROWS = 50_000
_log = logging.getLogger(__name__)


class _Skip(Exception):
    """The input cannot be drawn meaningfully; the message is shown in place of the chart."""


def plot_missingness(frame: pd.DataFrame, path: str | Path) -> str:
    """Horizontal bars of the share of missing values in each column that has some."""

    def draw(ax: Axes) -> None:
        if frame.shape[1] == 0 or len(frame) == 0:
            raise _Skip("empty table")
        share = frame.isna().mean().sort_values(ascending=False)
        share = share[share > 0].head(MAX_BARS)
        if share.empty:
            raise _Skip("no missing values")
        ax.barh([str(c) for c in share.index[::-1]], share.to_numpy()[::-1] * 100, color="#d62728")
        ax.set_xlabel("missing (%)")
        ax.set_xlim(0, 100)

    return _render(path, "Missing values per column", draw, height=_bar_height(frame.shape[1]))


def plot_target(y: pd.Series, task: str, path: str | Path) -> str:
    """Class counts (classification) or a histogram (regression) of the target."""

    def draw(ax: Axes) -> None:
        present = pd.Series(y).dropna()
        if present.empty:
            raise _Skip("the target has no values")
        if task == "classification":
            counts = present.value_counts().head(MAX_BARS)
            ax.bar([_short(_tick(c)) for c in counts.index], counts.to_numpy(), color="#1f77b4")
            ax.set_xlabel(str(y.name or "class"))
            ax.set_ylabel("rows")
            ax.tick_params(axis="x", rotation=45 if len(counts) > 5 else 0)
        else:
            values = pd.to_numeric(present, errors="coerce").to_numpy(dtype="float64")
            values = values[np.isfinite(values)]
            if values.size == 0:
                raise _Skip("the target has no numeric values")
            ax.hist(values, bins=min(50, max(5, int(np.sqrt(values.size)))), color="#1f77b4")
            ax.set_xlabel(str(y.name or "target"))
            ax.set_ylabel("rows")

    return _render(path, f"Target distribution{f' ({y.name})' if getattr(y, 'name', None) else ''}", draw)


def plot_top_features(associations: dict[str, float], path: str | Path) -> str:
    """Horizontal bars of the strongest associations with the target."""
    return _bars(associations, path, "Association with the target", "association (0 to 1)", MAX_BARS)


def plot_feature_importance(
    names: Sequence[str], values: Sequence[float], path: str | Path, top: int = 20
) -> str:
    """Horizontal bars of the `top` largest importances (by absolute value)."""
    scores = dict(zip(map(str, names), map(float, values), strict=False))
    return _bars(scores, path, "Feature importance", "importance", top)


def plot_correlations(frame: pd.DataFrame, path: str | Path) -> str:
    """Heatmap of Pearson correlations between numeric columns (the 20 with most variation)."""

    def draw(ax: Axes) -> None:
        numeric = frame.select_dtypes("number")
        if len(numeric) > MAX_CORR_ROWS:
            numeric = numeric.sample(MAX_CORR_ROWS, random_state=0)
        numeric = numeric.loc[:, numeric.std() > 0]
        if numeric.shape[1] < 2:
            raise _Skip("fewer than two varying numeric columns")
        if numeric.shape[1] > 20:
            numeric = numeric[(numeric.std() / (numeric.abs().mean() + 1e-12)).nlargest(20).index]
        corr = numeric.astype("float64").corr().to_numpy()
        image = ax.imshow(np.nan_to_num(corr), cmap="RdBu_r", vmin=-1, vmax=1)
        labels = [_short(c) for c in numeric.columns]
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        if len(labels) <= 12:
            for (i, j), value in np.ndenumerate(corr):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6)
        ax.figure.colorbar(image, ax=ax, shrink=0.8)

    return _render(path, "Correlations between numeric columns", draw, size=(6.5, 5.5))


def plot_confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any], path: str | Path) -> str:
    """Counts of true (rows) against predicted (columns) classes."""

    def draw(ax: Axes) -> None:
        from sklearn.metrics import confusion_matrix

        shown = list(labels)[:MAX_BARS]
        if not shown or len(y_true) == 0:
            raise _Skip("no predictions")
        matrix = confusion_matrix(y_true, y_pred, labels=shown)
        image = ax.imshow(matrix, cmap="Blues")
        names = [_short(c) for c in shown]
        ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 4 else 0, fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        if len(names) <= 12:
            threshold = matrix.max() / 2
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > threshold else "black",
                )
        ax.figure.colorbar(image, ax=ax, shrink=0.8)

    return _render(path, "Confusion matrix", draw, size=(5.5, 4.5))


def plot_roc(y_true: Any, proba: Any, classes: Sequence[Any], path: str | Path) -> str:
    """ROC curve: one for a binary target, one-vs-rest per class (at most 10) for a multiclass target."""

    def draw(ax: Axes) -> None:
        from sklearn.metrics import auc, roc_curve

        truth = np.asarray(y_true)
        scores = np.asarray(proba, dtype="float64")
        if truth.size == 0 or scores.size == 0 or len(classes) < 2:
            raise _Skip("no scores to draw")
        if scores.ndim == 1:
            scores = np.column_stack([1 - scores, scores])
        pairs = (
            [(classes[1], scores[:, 1])]
            if len(classes) == 2
            else list(zip(classes, scores.T, strict=False))[:10]
        )
        drawn = 0
        for label, score in pairs:
            positive = truth == label
            if positive.all() or not positive.any():
                continue
            fpr, tpr, _ = roc_curve(positive, score)
            ax.plot(fpr, tpr, label=f"{_short(label)} (AUC {auc(fpr, tpr):.3f})")
            drawn += 1
        if not drawn:
            raise _Skip("every class is missing from the true labels or covers all of them")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(fontsize=7, loc="lower right")

    return _render(path, "ROC curve" if len(classes) <= 2 else "ROC curves (one vs rest)", draw)


def plot_pred_vs_actual(y_true: Any, y_pred: Any, path: str | Path) -> str:
    """Scatter of predicted against actual values with the identity line."""

    def draw(ax: Axes) -> None:
        actual, predicted = _paired(y_true, y_pred)
        ax.scatter(actual, predicted, s=6, alpha=0.4)
        low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
        ax.plot([low, high], [low, high], color="#d62728", linewidth=1)
        ax.set_xlabel("actual")
        ax.set_ylabel("predicted")

    return _render(path, "Predicted vs actual", draw)


def plot_residuals(y_true: Any, y_pred: Any, path: str | Path) -> str:
    """Scatter of residuals (actual − predicted) against predicted values."""

    def draw(ax: Axes) -> None:
        actual, predicted = _paired(y_true, y_pred)
        ax.scatter(predicted, actual - predicted, s=6, alpha=0.4)
        ax.axhline(0, color="#d62728", linewidth=1)
        ax.set_xlabel("predicted")
        ax.set_ylabel("residual (actual − predicted)")

    return _render(path, "Residuals", draw)


def plot_optimization_history(
    values: Sequence[float | None], path: str | Path, metric: str, greater_is_better: bool
) -> str:
    """Trial values as dots, the best so far as a line; pruned or failed trials (None) as grey ticks."""

    def draw(ax: Axes) -> None:
        trials = np.arange(1, len(values) + 1)
        finished = np.array([v is not None and np.isfinite(v) for v in values], dtype=bool)
        if not finished.any():
            raise _Skip(f"no finished trials yet ({len(values)} pruned or failed)")
        scores = np.array(
            [v if ok else np.nan for v, ok in zip(values, finished, strict=True)], dtype="float64"
        )
        ax.scatter(trials[finished], scores[finished], s=14, label="trial")
        filled = np.where(finished, scores, -np.inf if greater_is_better else np.inf)
        best = np.maximum.accumulate(filled) if greater_is_better else np.minimum.accumulate(filled)
        ax.step(
            trials,
            np.where(np.isfinite(best), best, np.nan),
            where="post",
            color="#d62728",
            label="best so far",
        )
        if (~finished).any():
            ax.plot(
                trials[~finished],
                np.full((~finished).sum(), 0.03),
                "|",
                color="grey",
                markersize=12,
                markeredgewidth=2,
                clip_on=False,
                transform=ax.get_xaxis_transform(),
                label="pruned / failed",
            )
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.legend(fontsize=7)

    return _render(path, f"Optimization history ({metric})", draw)


def plot_drift(column: str, labels: Sequence[str], reference: Sequence[float], current: Sequence[float],
               path: str | Path, note: str = "") -> str:
    """Side-by-side bars of the share of rows in each bin or level: training data against new data."""

    def draw(ax: Axes) -> None:
        before, now = np.asarray(reference, dtype="float64"), np.asarray(current, dtype="float64")
        if not len(labels) or len(before) != len(labels) or len(now) != len(labels):
            raise _Skip("no shares to compare")
        shown = np.arange(len(labels))
        if len(shown) > MAX_BARS:  # the bins or levels that hold most rows on either side, in their order
            shown = np.sort(np.argsort(-np.maximum(before, now), kind="stable")[:MAX_BARS])
        x = np.arange(len(shown))
        ax.bar(x - 0.2, before[shown] * 100, 0.4, label="training", color="#1f77b4")
        ax.bar(x + 0.2, now[shown] * 100, 0.4, label="new data", color="#ff7f0e")
        ax.set_xticks(x, [_short(labels[i], 16) for i in shown], rotation=45 if len(shown) > 4 else 0,
                      ha="right" if len(shown) > 4 else "center", fontsize=7)
        ax.set_ylabel("rows with a value (%)")
        ax.legend(fontsize=7)

    return _render(path, f"{_short(column)}: training vs new data{f' ({note})' if note else ''}", draw,
                   size=(6.5, 4))


def _render(
    path: str | Path,
    title: str,
    draw: Callable[[Axes], None],
    size: tuple[float, float] = (6, 4),
    height: float | None = None,
) -> str:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(size[0], height or size[1]))
    ax = figure.subplots()
    try:
        draw(ax)
    except _Skip as skip:
        _note(figure, str(skip))
    except Exception as error:  # a chart is never worth failing the step, but a drawing bug is an error
        _log.error("could not draw %s", out.name, exc_info=True)  # tests fail on it (tests/conftest.py)
        _note(figure, f"could not draw this chart ({type(error).__name__})")
    figure.axes[0].set_title(title)
    figure.tight_layout()
    figure.savefig(out, dpi=DPI)
    return str(out)


def _note(figure: Figure, message: str) -> None:
    figure.clear()
    ax = figure.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="grey", wrap=True)


def _bars(scores: dict[str, float], path: str | Path, title: str, label: str, top: int) -> str:
    def draw(ax: Axes) -> None:
        finite = {k: v for k, v in scores.items() if v is not None and np.isfinite(v)}
        if not finite:
            raise _Skip("nothing to rank")
        ranked = sorted(finite.items(), key=lambda kv: abs(kv[1]), reverse=True)[:top][::-1]
        ax.barh([_short(k) for k, _ in ranked], [v for _, v in ranked], color="#2ca02c")
        ax.set_xlabel(label)

    return _render(path, title, draw, height=_bar_height(min(len(scores), top)))


def _paired(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    actual = np.asarray(y_true, dtype="float64").ravel()
    predicted = np.asarray(y_pred, dtype="float64").ravel()
    if actual.size != predicted.size:
        raise _Skip(f"{actual.size} actual values but {predicted.size} predictions")
    keep = np.isfinite(actual) & np.isfinite(predicted)
    actual, predicted = actual[keep], predicted[keep]
    if actual.size == 0:
        raise _Skip("no finite values")
    if actual.size > MAX_POINTS:
        picked = np.random.default_rng(0).choice(actual.size, MAX_POINTS, replace=False)
        actual, predicted = actual[picked], predicted[picked]
    return actual, predicted


def _bar_height(bars: int) -> float:
    return float(min(8.0, max(3.0, 1.0 + 0.25 * min(bars, MAX_BARS))))


def _tick(value: Any) -> str:
    """Label text of a class: 1.0 → "1"."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _short(value: Any, limit: int = 24) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
