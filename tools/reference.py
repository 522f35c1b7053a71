"""Training reference statistics of a model's input columns: what drift monitoring compares new data to."""

from typing import Any

import numpy as np
import pandas as pd

SAMPLE_VALUES = 1_000  # raw values kept per numeric column, enough for a two-sample KS test
QUANTILE_VALUES = 100_000  # quantiles and bin edges of larger columns come from a sample this size
TOP_LEVELS = 50  # categorical levels counted one by one; the rest share `other_share`
SEED = 0
QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
KINDS = ("numeric", "categorical", "datetime")


def reference_stats(features: pd.DataFrame, bins: int = 10,
                    kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """JSON-friendly statistics of every column: {"rows": n, "columns": {name: stats}}.

    A column's kind (numeric, categorical or datetime) is `kinds[name]`, else `column_kind` of its dtype.
    """
    kinds = kinds or {}
    columns = {}
    for name, series in features.items():
        kind = kinds.get(name) or column_kind(series)
        if kind not in KINDS:
            raise ValueError(f"unknown reference kind {kind!r} for column {name!r}; use one of {KINDS}")
        columns[str(name)] = _STATS[kind](series, bins)
    return {"rows": len(features), "columns": columns}


def column_kind(series: pd.Series) -> str:
    """numeric for numbers, datetime for timestamps, categorical for the rest (labels, yes/no, text)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "numeric"
    return "categorical"


def bin_index(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """The bin of each value: bin k holds edges[k-1] <= value < edges[k] (bin 0 below the first edge)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")


def numbers(series: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (timestamps: seconds since 1970 UTC); NaN where missing."""
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert(None)
        stamps = series.to_numpy(dtype="datetime64[ms]")  # ms keep dates far from 1970 without overflow
        values = stamps.view(np.int64).astype(np.float64) / 1e3
        values[np.isnat(stamps)] = np.nan
        return values
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)  # ±inf cannot be binned or written as JSON


def level_counts(series: pd.Series) -> pd.Series:
    """Rows per level, most frequent first, indexed by `level` strings; missing values are left out."""
    counts = series.value_counts(dropna=True)  # label the distinct values only: str() of 1M cells is slow
    counts = counts[counts > 0]  # a categorical dtype also lists its unused categories
    counts.index = [level(value) for value in counts.index]
    if counts.index.has_duplicates:  # e.g. 1 and 1.0 in one object column
        counts = counts.groupby(level=0, sort=False).sum()
    return counts.sort_values(ascending=False, kind="stable")


def level(value: Any) -> str:
    """A value as a level string: whole numbers without ".0" (1.0 and 1 are both "1"), else `str`."""
    if isinstance(value, float | np.floating) and float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _numeric(series: pd.Series, bins: int) -> dict[str, Any]:
    values = numbers(series)
    present = values[~np.isnan(values)]
    stats = {"kind": "numeric", "missing_rate": _share(len(values) - len(present), len(values))}
    return stats | _distribution(present, bins)


def _datetime(series: pd.Series, bins: int) -> dict[str, Any]:
    return _numeric(series, bins) | {"kind": "datetime", "unit": "seconds since 1970-01-01 UTC"}


def _distribution(present: np.ndarray, bins: int) -> dict[str, Any]:
    """Bin edges and shares, quantiles, moments and a seeded sample of the non-missing values."""
    if not len(present):
        return {"edges": [], "shares": [0.0], "quantiles": dict.fromkeys(QUANTILES),
                "mean": None, "std": None, "min": None, "max": None, "sample": []}
    rng = np.random.default_rng(SEED)
    # Exact quantiles partition all values (~60 ms per million); a 100,000-value sample puts them within a
    # few thousandths of a standard deviation, while shares and moments below still count every value.
    sample = present
    if len(present) > QUANTILE_VALUES:
        sample = present[rng.integers(0, len(present), QUANTILE_VALUES)]
    interior = np.linspace(0, 1, bins + 1)[1:-1]
    cuts = np.quantile(sample, [*QUANTILES.values(), *interior])
    quantiles, edges = cuts[:len(QUANTILES)], np.unique(cuts[len(QUANTILES):])
    picked = np.sort(rng.choice(len(present), min(SAMPLE_VALUES, len(present)), replace=False))
    return {"edges": edges.tolist(), "shares": _shares(present, edges),
            "quantiles": dict(zip(QUANTILES, quantiles.tolist(), strict=True)),
            "mean": float(present.mean()), "std": float(present.std()), "min": float(present.min()),
            "max": float(present.max()), "sample": present[picked].tolist()}


def _shares(present: np.ndarray, edges: np.ndarray) -> list[float]:
    """Share of `present` in each bin of `bin_index`; one comparison pass per edge beats a binary search."""
    at_least = np.array([len(present), *((present >= edge).sum() for edge in edges), 0])
    return (-np.diff(at_least) / len(present)).tolist()


def _categorical(series: pd.Series, bins: int) -> dict[str, Any]:
    """Shares of the TOP_LEVELS most frequent levels among the non-missing rows, and of all the others."""
    counts = level_counts(series)
    present = int(counts.sum())
    return {"kind": "categorical", "missing_rate": _share(len(series) - present, len(series)),
            "frequencies": {name: _share(count, present) for name, count in counts.iloc[:TOP_LEVELS].items()},
            "other_share": _share(int(counts.iloc[TOP_LEVELS:].sum()), present)}


def _share(part: int, whole: int) -> float:
    return float(part / whole) if whole else 0.0


_STATS = {"numeric": _numeric, "categorical": _categorical, "datetime": _datetime}
