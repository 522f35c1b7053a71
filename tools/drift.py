"""Data drift of new rows against a model version's training reference (tools.reference), column by column.

Numbers and dates: PSI on the reference's quantile bins, the two-sample KS test against its stored sample,
the change of the missing rate. Levels: PSI over the reference's levels and an "other" bucket, chi² on the
counts, the share of rows with a level never seen in training (a lower bound when training had more levels
than the reference lists), the change of the missing rate.

Severity comes from effect sizes, never from a p-value alone. At a million rows a test calls a negligible
shift significant (p ≈ 0); at fifty rows a large-looking PSI is noise. So an effect counts only when its
test is significant at ALPHA (KS for numbers and dates, chi² for levels, a two-proportion z-test for the
missing rate), and then its size decides, against the (moderate, major) limits below.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tools import plots as charts
from tools.errors import DataError
from tools.reference import bin_index, level_counts, numbers

ALPHA = 0.01  # significance an effect's test must reach before its size may rate it
PSI_LIMITS = (0.1, 0.25)  # the industry convention: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift
# The KS distance D of a normal mean shift whose decile PSI is 0.1 / 0.25 (0.32 / 0.51 standard deviations):
# both measures agree on a plain shift, and D also sees a change inside bins that PSI's deciles miss.
KS_LIMITS = (0.13, 0.2)
# Rows with a level the model never saw are encoded as "no level", so their predictions rest on the other
# columns alone: 1% of traffic is worth knowing about, 5% is a slice large enough to move the metrics.
UNSEEN_LIMITS = (0.01, 0.05)
# Missing cells get the training median or most frequent level: 5 more points of filled-in rows change what
# the model sees for a visible slice of traffic; 20 points usually means a broken upstream feed.
MISSING_LIMITS = (0.05, 0.2)
# Share given to an empty bin or level so PSI stays finite: as if 1 row in 10,000 were there. An empty side
# then adds (p - 0.0001)·ln(p / 0.0001): 0.69 for a bin that holds p = 10% on the other side.
EPSILON = 1e-4
# KS on a seeded sample of at most this many new values: the reference side holds ~1,000 values, so more
# new ones hardly change D (±0.004) or the p-value, and sorting a million values per column is not free.
KS_VALUES = 100_000
SEED = 0
SEVERITIES = ("none", "moderate", "major")
VERDICTS = {"none": "ok", "moderate": "warn", "major": "alert"}
UNSEEN_EXAMPLES = 3


@dataclass
class _Measured:
    """One column's public entry, and what rating, ranking and charting it need."""

    entry: dict[str, Any]
    missing_now: float = 1.0
    bars: tuple[list[str], list[float], list[float]] | None = None  # labels, training shares, new shares
    unseen_levels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    score: float = 0.0  # the largest effect as a fraction of its major limit: ranks columns of one severity


def drift(reference: dict, frame: pd.DataFrame, *, out_dir: Path | None = None, plots: int = 3) -> dict:
    """Drift of `frame` (columns not in `reference` ignored) against `reference`, worst column first.

    Returns rows, verdict (ok / warn / alert), features, drifted (columns rated moderate or major) and
    plots ({name: png}: the `plots` worst drifted columns, training against new data, when `out_dir`).
    """
    if not len(frame):
        raise DataError("The new data has no rows, so there is nothing to compare with the training data; "
                        "give a file or requests with rows.")
    measured = [_measure(str(name), column, frame, reference["rows"])
                for name, column in reference["columns"].items()]
    measured.sort(key=lambda m: (SEVERITIES.index(m.entry["severity"]), m.score), reverse=True)
    worst = measured[0].entry["severity"] if measured else "none"
    drifted = [m for m in measured if m.entry["severity"] != "none"]
    charts_drawn = _plots(drifted, Path(out_dir), plots) if out_dir is not None else {}
    return {"rows": len(frame), "verdict": VERDICTS[worst], "features": [m.entry for m in measured],
            "drifted": [m.entry["column"] for m in drifted], "plots": charts_drawn}


def _measure(name: str, reference: dict, frame: pd.DataFrame, reference_rows: int) -> _Measured:
    kind = reference["kind"]
    if name not in frame.columns:
        return _absent(name, kind, reference)
    series = frame[name]
    measured = (_categorical(name, reference, series, reference_rows) if kind == "categorical"
                else _numeric(name, reference, series))
    _rate(measured, reference, len(frame), reference_rows)
    return measured


def _absent(name: str, kind: str, reference: dict) -> _Measured:
    """A reference column the new data lacks: a major drift (the model cannot score such rows)."""
    entry = {"column": name, "kind": kind, "psi": None, "test": "chi2" if kind == "categorical" else "ks",
             "statistic": None, "p_value": None, "unseen_share": None,
             "missing_change": _round(1 - reference["missing_rate"]), "severity": "major",
             "note": f"'{name}' is not in the new data: the model needs it to score a row; send the column, "
                     "or retrain without it"}
    return _Measured(entry, score=np.inf)


def _numeric(name: str, reference: dict, series: pd.Series) -> _Measured:
    """PSI on the reference bins and KS against the reference sample, for numbers and timestamps."""
    kind = reference["kind"]
    values, coerced = _values(series, kind)
    present = values[~np.isnan(values)]
    edges, sample = np.asarray(reference["edges"]), np.asarray(reference["sample"])
    if kind == "numeric":
        # At float32 precision, the loader's: a float64 0.3 from a JSON request equals the training's
        # float32 0.3, and a tie sitting on a bin edge stays in the bin it had in training.
        present, edges, sample = (_float32(array) for array in (present, edges, sample))
    missing = 1 - len(present) / len(values)
    entry = _entry(name, kind, "ks", missing, reference)
    measured = _Measured(entry, missing)
    if coerced:
        what = "dates" if kind == "datetime" else "numbers"
        measured.notes.append(f"{coerced:,} values that are not {what} count as missing")
    if not len(present) or not len(sample):
        return measured
    now = np.bincount(bin_index(present, edges.tolist()), minlength=len(edges) + 1) / len(present)
    test = stats.ks_2samp(sample, _sampled(present), method="asymp")
    entry |= {"psi": _psi(reference["shares"], now), "statistic": _round(test.statistic),
              "p_value": _p(test.pvalue)}
    measured.bars = (_bin_labels(reference["edges"], kind), list(reference["shares"]), now.tolist())
    return measured


def _categorical(name: str, reference: dict, series: pd.Series, reference_rows: int) -> _Measured:
    """PSI and chi² over the reference levels plus "other", and the share of rows with unseen levels."""
    counts = level_counts(series)
    present = int(counts.sum())
    listed = reference["frequencies"]
    missing = 1 - present / len(series)
    entry = _entry(name, "categorical", "chi2", missing, reference)
    measured = _Measured(entry, missing)
    if not present or not listed:
        return measured
    now_listed = counts.reindex(list(listed), fill_value=0).to_numpy()
    outside = counts[~counts.index.isin(list(listed))]
    now = np.append(now_listed, outside.sum()) / present
    before = np.array([*listed.values(), reference["other_share"]])
    reference_present = reference_rows * (1 - reference["missing_rate"])
    entry |= {"psi": _psi(before, now), **_chi2(before * reference_present, now * present)}
    unseen = outside
    if reference["other_share"]:
        # The reference lists only training's TOP_LEVELS most frequent levels, so no unlisted training level
        # was more common than the rarest listed one: an unlisted level twice as common is certainly new.
        unseen = outside[outside > 2 * min(listed.values()) * present]
    entry["unseen_share"] = _round(unseen.sum() / len(series))
    measured.unseen_levels = unseen.index.tolist()
    measured.bars = ([*listed, "other"], before.tolist(), now.tolist())
    return measured


def _entry(name: str, kind: str, test: str, missing: float, reference: dict) -> dict[str, Any]:
    """The column's entry before any test: the missing-rate change only."""
    return {"column": name, "kind": kind, "psi": None, "test": test, "statistic": None, "p_value": None,
            "unseen_share": None, "missing_change": _round(missing - reference["missing_rate"]),
            "severity": "none"}


def _rate(measured: _Measured, reference: dict, rows: int, reference_rows: int) -> None:
    """Severity from the effects whose test is significant (the reasons go first in the note)."""
    entry, before, now = measured.entry, reference["missing_rate"], measured.missing_now
    shifted = entry["p_value"] is not None and entry["p_value"] < ALPHA
    missing_moved = _proportions_p(before, reference_rows, now, rows) < ALPHA
    effects = {
        "PSI": (entry["psi"], PSI_LIMITS, shifted),
        "KS distance": (entry["statistic"] if entry["test"] == "ks" else None, KS_LIMITS, shifted),
        "unseen": (entry["unseen_share"], UNSEEN_LIMITS, shifted),
        "missing": (abs(now - before), MISSING_LIMITS, missing_moved),
    }
    severity, reasons = 0, []
    for label, (size, limits, significant) in effects.items():
        if size is None:
            continue
        measured.score = max(measured.score, size / limits[1])
        rated = int(significant) * sum(size >= limit for limit in limits)
        if not rated:
            continue
        severity = max(severity, rated)
        if label == "unseen":
            examples = ", ".join(f"'{level}'" for level in measured.unseen_levels[:UNSEEN_EXAMPLES])
            reasons.append(f"{size:.1%} of rows have levels never seen in training (e.g. {examples})")
        elif label == "missing":
            reasons.append(f"missing in {before:.1%} of training rows, {now:.1%} now")
        else:
            reasons.append(f"{label} {size:.3f} ({SEVERITIES[rated]} from {limits[rated - 1]})")
    entry["severity"] = SEVERITIES[severity]
    if reasons or measured.notes:
        entry["note"] = "; ".join([*reasons, *measured.notes])


def _values(series: pd.Series, kind: str) -> tuple[np.ndarray, int]:
    """The column as float64 (dates: seconds), and how many present cells could not be read as such."""
    converted = series
    if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(series):
        converted = pd.to_datetime(series, errors="coerce", utc=True)
    elif kind == "numeric" and not pd.api.types.is_numeric_dtype(series):
        converted = pd.to_numeric(series, errors="coerce")
    values = numbers(converted)
    coerced = int(np.isnan(values).sum() - series.isna().sum()) if converted is not series else 0
    return values, coerced


def _psi(before, now) -> float:
    """Population stability index Σ (now − before)·ln(now / before), shares floored at EPSILON."""
    p = np.maximum(np.asarray(before, dtype=np.float64), EPSILON)
    q = np.maximum(np.asarray(now, dtype=np.float64), EPSILON)
    return _round(float(np.sum((q - p) * np.log(q / p))))


def _chi2(before: np.ndarray, now: np.ndarray) -> dict[str, float]:
    """Chi² test of homogeneity of the two rows of counts (levels empty on both sides left out)."""
    table = np.vstack([before, now])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return {"statistic": 0.0, "p_value": 1.0}
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return {"statistic": _round(statistic), "p_value": _p(p_value)}


def _proportions_p(before: float, rows_before: int, now: float, rows_now: int) -> float:
    """Two-sided p-value of the two-proportion z-test (1 when both rates are 0 or both 1)."""
    pooled = (before * rows_before + now * rows_now) / (rows_before + rows_now)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / rows_before + 1 / rows_now))
    return float(2 * stats.norm.sf(abs(now - before) / spread)) if spread > 0 else 1.0


def _sampled(values: np.ndarray) -> np.ndarray:
    """A seeded sample of about KS_VALUES values (all of them when fewer)."""
    if len(values) <= KS_VALUES:
        return values
    return values[np.random.default_rng(SEED).random(len(values)) < KS_VALUES / len(values)]


def _float32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def _bin_labels(edges: list[float], kind: str) -> list[str]:
    """Labels of the bins of `edges`: "< a", "a–b", …, "≥ z" (dates as days)."""
    shown = [pd.Timestamp(edge, unit="s").strftime("%Y-%m-%d") if kind == "datetime" else f"{edge:.3g}"
             for edge in edges]
    if not shown:
        return ["all"]
    return [f"< {shown[0]}", *(f"{a}–{b}" for a, b in zip(shown, shown[1:], strict=False)), f"≥ {shown[-1]}"]


def _plots(drifted: list[_Measured], out_dir: Path, limit: int) -> dict[str, str]:
    """Training against new shares of the `limit` worst drifted columns that have a distribution to show."""
    drawn = {}
    for measured in [m for m in drifted if m.bars][:limit]:
        entry = measured.entry
        file = re.sub(r"[^A-Za-z0-9_.-]+", "_", entry["column"])
        labels, before, now = measured.bars
        note = f"{entry['severity']} drift"
        if abs(entry["missing_change"]) >= 0.01:  # the bars show rows with a value only
            was = measured.missing_now - entry["missing_change"]
            note += f", missing {was:.0%} → {measured.missing_now:.0%}"
        drawn[f"drift_{entry['column']}"] = charts.plot_drift(
            entry["column"], labels, before, now, out_dir / f"drift-{len(drawn) + 1}-{file}.png", note=note)
    return drawn


def _round(value: float) -> float:
    return round(float(value), 6)


def _p(value: float) -> float:
    """A p-value with three significant digits (tiny ones stay readable as 1e-40, not 0)."""
    return float(f"{float(value):.3g}")
