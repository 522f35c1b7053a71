"""Column helpers shared by profiling and the leak checks: cell labels, numbers, bins and class codes."""

from typing import Any

import numpy as np
import pandas as pd


def label(value: Any) -> str:
    """Text of a cell value: 1.0 → "1", 0.9167000055 → "0.9167"."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def truncate(value: Any, max_chars: int) -> str:
    text = label(value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def is_labels(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column)


def numbers(column: pd.Series) -> np.ndarray | None:
    """Float values of a numeric or datetime column (missing or infinite → NaN); None for labels and
    booleans."""
    if pd.api.types.is_bool_dtype(column):
        return None
    if pd.api.types.is_datetime64_any_dtype(column):
        ticks = column.array.asi8.astype("float64")
        ticks[column.isna().to_numpy()] = np.nan
        return ticks
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isinf(values), np.nan, values)  # a new array: the frame's own is never written
    return None


def order(values: np.ndarray) -> np.ndarray:
    """Positions of the present (not NaN) `values`, smallest value first."""
    return np.argsort(values)[: len(values) - int(np.isnan(values).sum())]


def bin_count(rows: int) -> int:
    """Bins for a one-column model: fine enough that the bin at a cut holds few rows, ~20 rows per bin."""
    return int(np.clip(rows // 40, 30, 200))


def bins(column: pd.Series, n_bins: int) -> np.ndarray:
    """Integer codes grouping a column: quantile bins or top categories; missing gets its own code."""
    values = numbers(column)
    if values is None:
        return category_bins(column, n_bins)
    return quantile_bins(values, order(values), n_bins)


def quantile_bins(values: np.ndarray, order: np.ndarray, n_bins: int) -> np.ndarray:
    """Codes of `n_bins` equal-count bins of `values` (`order` from order); missing gets its own code."""
    codes = np.full(len(values), n_bins + 1, dtype=np.int64)
    if len(order):
        ordered = values[order]
        edges = np.unique(ordered[(np.arange(1, n_bins) * (len(order) - 1)) // n_bins])
        codes[order] = np.searchsorted(edges, ordered, side="right")
    return codes


def category_bins(column: pd.Series, n_bins: int) -> np.ndarray:
    codes, _ = pd.factorize(column)
    if (codes < 0).all():
        return np.zeros(len(codes), dtype=np.int64)
    counts = np.bincount(codes[codes >= 0])
    top = np.argsort(counts)[::-1][: n_bins - 1]
    remap = np.full(len(counts), len(top), dtype=np.int64)  # rare categories share one code
    remap[top] = np.arange(len(top))
    return np.where(codes >= 0, remap[codes], len(top) + 1)


def class_codes(y: pd.Series) -> tuple[list[str], np.ndarray]:
    """Class names (as text) and an integer code per row of a target without missing values."""
    labels, classes = pd.factorize(y, sort=True)
    return [label(c) for c in classes], labels.astype(np.int64)
