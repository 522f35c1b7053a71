"""Profile a table: column kinds and roles, the task, target checks, leak flags and an EDA summary."""

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tools import columns, leaks, names
from tools.errors import ColumnError, DataError
from tools.loading import MIN_ROWS

SAMPLE_ROWS = 100_000  # costly statistics (uniques, associations, leaks) use at most this many rows
HIGH_CARDINALITY = 50  # more distinct strings than this do not one-hot encode well
HEATMAP_COLUMNS = 20  # a correlation heatmap stays readable up to about this many columns
TEXT_ROWS = 2_000  # rows whose words and lengths tell free text from labels
IDENTIFIER_RATIO = 0.5  # a string column with at least this share of distinct values names rows
MAX_CLASSES = 20  # an integer target with at most this many values is treated as class labels
MIN_ROWS_PER_CLASS = 5  # fewer labelled rows per class on average leave the classes unlearnable
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "t", "f"})
_ID_TOKENS = frozenset({"id", "pid", "uid", "uuid", "guid", "idx", "index", "key", "unnamed"})


def column_schema(frame: pd.DataFrame, examples: int = 3, max_chars: int = 40) -> list[dict[str, Any]]:
    """Per column: name, kind, dtype, missing (exact), unique (on a sample of large tables) and examples."""
    sample = _sample(frame)
    missing = frame.isna().sum().to_numpy()
    schema = []
    for position, (name, column) in enumerate(sample.items()):
        present = column.dropna()
        distinct = present.unique()
        schema.append(
            {
                "name": str(name),
                "kind": _kind(column, present, distinct),
                "dtype": str(column.dtype),
                "missing": int(missing[position]),
                "unique": len(distinct),
                "examples": [columns.truncate(v, max_chars) for v in distinct[:examples].tolist()],
            }
        )
    return schema


def resolve_column(columns: list[str], name: str) -> str:
    """The column meant by `name`: exact, then ignoring case, spaces and punctuation; else ColumnError."""
    if name in columns:
        return name
    matches = [c for c in columns if names.normalize(c) == names.normalize(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ColumnError(
            f"`{name}` matches several columns ({', '.join(f'`{c}`' for c in matches)}); use the exact name."
        )
    close = names.columns_like(name, columns)[:3]
    hint = f" Did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else ""
    shown = ", ".join(columns[:20]) + (f", … ({len(columns) - 20} more)" if len(columns) > 20 else "")
    raise ColumnError(f"There is no column `{name}`.{hint} Available columns: {shown}.")


def infer_task(y: pd.Series) -> tuple[str, str]:
    """("classification" | "regression", reason) for target `y`."""
    present = y.dropna()
    name = f"`{y.name}`" if y.name is not None else "the target"
    if pd.api.types.is_bool_dtype(present) or not pd.api.types.is_numeric_dtype(present):
        return (
            "classification",
            f"{name} holds labels ({present.nunique()} classes), so this is classification.",
        )
    values = present.to_numpy(dtype="float64")
    distinct = np.unique(values[np.isfinite(values)])
    integers = bool(np.all(distinct == np.round(distinct)))
    if integers and len(distinct) <= MAX_CLASSES and len(distinct) * 2 <= len(values):
        shown = ", ".join(f"{v:g}" for v in distinct[:6]) + (", …" if len(distinct) > 6 else "")
        return "classification", (
            f"{name} is numeric but has only {len(distinct)} distinct integer values "
            f"({shown}), so it is treated as class labels (classification)."
        )
    return "regression", f"{name} is numeric with {len(distinct)} distinct values, so this is regression."


def validate_target(frame: pd.DataFrame, target: str, task: str | None = None) -> None:
    """Raise ColumnError / DataError when `target` cannot be learned (absent, empty, one class, too few).

    `task` is the one asked for; None infers it from the values."""
    resolved = resolve_column(list(frame.columns), target)
    if resolved != target:
        raise ColumnError(f"There is no column `{target}`; did you mean `{resolved}`?")
    y = frame[target]
    labelled = int(y.notna().sum())
    if labelled == 0:
        raise ColumnError(
            f"Target `{target}` has no values (all {len(y)} rows are missing); choose another target."
        )
    if labelled < MIN_ROWS:
        raise DataError(
            f"Target `{target}` has {labelled} labelled row{'s' if labelled != 1 else ''}; "
            f"at least {MIN_ROWS} labelled rows are needed to train."
        )
    present = y.dropna()
    if (task or infer_task(present)[0]) == "classification":
        _check_classes(target, present)
    else:
        _check_not_row_numbers(target, present)


def _check_classes(target: str, present: pd.Series) -> None:
    """ColumnError when a class target has a single class, or too many classes for its rows to teach."""
    counts = present.value_counts()
    if len(counts) < 2:
        raise ColumnError(
            f"Target `{target}` has a single value ({columns.truncate(counts.index[0], 40)!r}) in every "
            "labelled row; a model needs at least two classes. Choose another target."
        )
    singles = int((counts == 1).sum())
    if 2 * singles > len(counts) or MIN_ROWS_PER_CLASS * len(counts) > len(present):
        numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
        raise ColumnError(
            f"Target `{target}` has {len(counts):,} classes over {len(present):,} labelled rows "
            f"({len(present) / len(counts):.1f} rows per class on average; {singles:,} classes have a "
            "single row), too few rows per class to learn them. Group rare classes into an 'other' class"
            + (", train it as regression (it is numeric)" if numeric else "")
            + " or choose a different target."
        )


def _check_not_row_numbers(target: str, present: pd.Series) -> None:
    """ColumnError when a numeric target holds a different consecutive integer in every row (a row id)."""
    values = present.to_numpy(dtype="float64")
    low, high = float(values.min()), float(values.max())
    if high - low + 1 != len(values) or not np.all(values == np.round(values)):
        return
    if np.bincount((values - low).astype(np.int64)).max() == 1:
        raise ColumnError(
            f"Target `{target}` holds a different consecutive integer in every row ({low:,.0f} to "
            f"{high:,.0f}): it numbers the rows rather than measuring something, so there is nothing to "
            "learn. Choose another target."
        )


def column_roles(frame: pd.DataFrame, target: str | None) -> dict[str, str]:
    """Role of every non-target column: a schema kind, or constant, high_cardinality, identifier, leak."""
    return {name: role for name, (role, _) in _roles_with_reasons(frame, target).items()}


def describe(
    frame: pd.DataFrame, target: str | None = None, out_dir: str | Path | None = None
) -> dict[str, Any]:
    """JSON-friendly EDA summary of `frame` (target analysis when given), PNG plots written to `out_dir`."""
    from tools import plots

    sample = _sample(frame)
    schema = column_schema(frame)
    missing = {c["name"]: c["missing"] for c in schema}
    summary: dict[str, Any] = {
        "rows": len(frame),
        "cols": frame.shape[1],
        "memory_mb": round(float(frame.memory_usage(deep=True).sum()) / 2**20, 2),
        "sample_rows": len(sample),
        "columns": schema,
        "missing": missing,
        "duplicated_rows": int(_duplicated(frame)),
        "target": None,
        "task": None,
        "task_reason": None,
        "associations": [],
    }
    roles = _roles_with_reasons(frame, target, schema)
    summary["constants"] = sorted(c for c, (r, _) in roles.items() if r == "constant")
    summary["flags"] = {
        "identifier": sorted(c for c, (r, _) in roles.items() if r == "identifier"),
        "high_cardinality": sorted(c for c, (r, _) in roles.items() if r == "high_cardinality"),
        "leak": [{"column": c, "reason": why} for c, (r, why) in roles.items() if r == "leak"],
        "constant": summary["constants"],
    }
    summary["roles"] = {c: r for c, (r, _) in roles.items()}
    if target is not None:
        task, reason = infer_task(frame[target])
        summary.update(task=task, task_reason=reason, target=_target_summary(frame[target], task))
        summary["associations"] = _associations(sample, target, task, roles)
    summary["plots"] = _plots(plots, frame, sample, target, summary, out_dir) if out_dir is not None else {}
    summary["markdown"] = _markdown(summary, target)
    return summary


def _sample(frame: pd.DataFrame, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame
    picked = np.sort(np.random.default_rng(0).choice(len(frame), size=rows, replace=False))
    return frame.take(picked)


def _kind(column: pd.Series, present: pd.Series, distinct: Any) -> str:
    """Schema kind of a (sampled) column with `distinct` present values: numeric, categorical, boolean, …"""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if len(distinct) == 2 and _boolean_values(distinct):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "identifier" if _numeric_identifier(column.name, present, len(distinct)) else "numeric"
    if isinstance(column.dtype, pd.CategoricalDtype) or len(distinct) <= HIGH_CARDINALITY:
        return "categorical"
    text = present.iloc[:TEXT_ROWS].astype(str)
    words = text.str.count(r"\s+").mean() + 1
    if words >= 6 or text.str.len().mean() >= 60:
        return "text"
    return "identifier" if len(distinct) >= IDENTIFIER_RATIO * len(column) else "categorical"


def _boolean_values(distinct: np.ndarray) -> bool:
    if all(isinstance(v, (bool, np.bool_)) for v in distinct):
        return True
    if all(isinstance(v, str) for v in distinct):
        return {v.lower() for v in distinct} <= _BOOL_WORDS
    try:
        return set(np.asarray(distinct, dtype="float64").tolist()) == {0.0, 1.0}
    except (TypeError, ValueError):
        return False


def _numeric_identifier(name: Any, present: pd.Series, n_distinct: int) -> bool:
    if len(present) < MIN_ROWS or n_distinct < 0.99 * len(present):
        return False
    values = present.to_numpy(dtype="float64")
    if not np.all(values == np.round(values)):
        return False
    tokens = {t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", str(name))}
    consecutive = values.max() - values.min() + 1 == n_distinct
    return bool(tokens & _ID_TOKENS) or consecutive or bool(np.all(np.diff(values) > 0))


def _roles_with_reasons(
    frame: pd.DataFrame, target: str | None, schema: list[dict[str, Any]] | None = None
) -> dict[str, tuple[str, str]]:
    """Role and the reason for it per non-target column; `schema` (from column_schema) saves a pass."""
    facts = {c["name"]: c for c in schema or column_schema(frame, examples=0)}
    roles: dict[str, tuple[str, str]] = {}
    for name in frame.columns:
        if name == target:
            continue
        kind, n_distinct = facts[str(name)]["kind"], facts[str(name)]["unique"]
        if n_distinct <= 1:
            roles[name] = ("constant", "a single value" if n_distinct else "no values")
        elif kind == "categorical" and columns.is_labels(frame[name]) and n_distinct > HIGH_CARDINALITY:
            roles[name] = ("high_cardinality", f"{n_distinct} distinct values")
        else:
            roles[name] = (kind, kind)
    if target is not None and frame[target].notna().sum() >= leaks.MIN_LABELLED_ROWS:
        sample = _sample(frame)
        labelled = sample[sample[target].notna()]
        found = leaks.find(labelled, target, infer_task(labelled[target])[0], roles)
        roles.update({name: ("leak", reason) for name, reason in found.items()})
    return roles


def _duplicated(frame: pd.DataFrame) -> int:
    """Exact count of repeated rows; only rows whose numeric part repeats are compared in full."""
    candidates = frame
    numeric = frame.select_dtypes("number")
    if numeric.shape[1]:
        candidates = frame[pd.util.hash_pandas_object(numeric, index=False).duplicated(keep=False).to_numpy()]
    try:
        return int(candidates.duplicated().sum())
    except TypeError:  # unhashable cells (lists from JSON): compare their text
        return int(candidates.astype(str).duplicated().sum())


def _target_summary(y: pd.Series, task: str) -> dict[str, Any]:
    present = y.dropna()
    summary: dict[str, Any] = {"name": str(y.name), "missing": int(y.isna().sum())}
    if task == "classification":
        counts = present.value_counts()
        summary["classes"] = int(len(counts))
        summary["counts"] = {columns.truncate(k, 40): int(v) for k, v in counts.head(MAX_CLASSES).items()}
        summary["majority_share"] = round(float(counts.iloc[0] / len(present)), 4)
        summary["minority_share"] = round(float(counts.iloc[-1] / len(present)), 4)
        return summary
    values = present.to_numpy(dtype="float64")
    quantiles = np.quantile(values, [0, 0.25, 0.5, 0.75, 1])
    summary.update(
        {k: round(float(v), 4) for k, v in zip(("min", "q1", "median", "q3", "max"), quantiles, strict=True)}
    )
    summary.update(
        mean=round(float(values.mean()), 4),
        std=round(float(values.std()), 4),
        skew=round(float(pd.Series(values).skew()), 4),
    )
    return summary


def _associations(sample: pd.DataFrame, target: str, task: str, roles: dict) -> list[dict[str, Any]]:
    """Strength of each usable column's link with the target, in [0, 1], strongest first."""
    rows = sample[sample[target].notna()]
    y = rows[target]
    labels = columns.class_codes(y)[1] if task == "classification" else None
    target_values = y.to_numpy(dtype="float64") if task == "regression" else None
    found = []
    for name, (role, _) in roles.items():
        if role in ("constant", "identifier", "text", "datetime"):
            continue
        column = rows[name]
        values = None if pd.api.types.is_datetime64_any_dtype(column) else columns.numbers(column)
        if task == "regression" and values is not None:
            score, measure = _abs_pearson(values, target_values), "abs_pearson"
        elif task == "regression":
            score, measure = _eta(columns.bins(column, 50), target_values), "correlation_ratio"
        elif values is not None:
            keep = ~np.isnan(values)
            score, measure = _eta(labels[keep], values[keep]), "correlation_ratio"
        else:
            score, measure = _cramers_v(columns.bins(column, 50), labels), "cramers_v"
        if np.isfinite(score):
            found.append(
                {"column": str(name), "score": round(float(score), 4), "measure": measure, "role": role}
            )
    return sorted(found, key=lambda a: -a["score"])


def _abs_pearson(values: np.ndarray, target: np.ndarray) -> float:
    """|Pearson r| over the rows where `values` is present; NaN when either side does not vary."""
    keep = ~np.isnan(values)
    x, y = values[keep], target[keep]
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return abs(float(np.corrcoef(x, y)[0, 1]))


def _eta(groups: np.ndarray, values: np.ndarray) -> float:
    """Correlation ratio: share of the spread of `values` explained by `groups` (square-rooted)."""
    if len(values) < 3 or np.var(values) == 0:
        return float("nan")
    counts = np.bincount(groups)
    means = np.bincount(groups, weights=values) / np.maximum(counts, 1)
    between = np.sum(counts * (means - values.mean()) ** 2)
    return float(np.sqrt(between / (np.var(values) * len(values))))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    table = np.bincount(a * (b.max() + 1) + b, minlength=(a.max() + 1) * (b.max() + 1)).reshape(
        a.max() + 1, -1
    )
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = table.sum()
    if min(table.shape) < 2 or n < 3:
        return float("nan")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    phi2 = float(np.sum((table - expected) ** 2 / expected)) / n
    rows, cols = table.shape  # Bergsma's bias correction: many categories inflate the raw statistic
    phi2 = max(0.0, phi2 - (rows - 1) * (cols - 1) / (n - 1))
    rows, cols = rows - (rows - 1) ** 2 / (n - 1), cols - (cols - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / max(min(rows - 1, cols - 1), 1e-12)))


def _plots(
    plots, frame: pd.DataFrame, sample: pd.DataFrame, target: str | None, summary: dict, out_dir: str | Path
) -> dict[str, str]:
    out = Path(out_dir)
    written = {
        "missingness": plots.plot_missingness(frame, out / "missingness.png"),
        "correlations": plots.plot_correlations(
            _heatmap_frame(sample, target, summary["associations"]), out / "correlations.png"
        ),
    }
    if target is not None:
        written["target"] = plots.plot_target(frame[target], summary["task"], out / "target.png")
        scores = {a["column"]: a["score"] for a in summary["associations"]}
        written["top_features"] = plots.plot_top_features(scores, out / "top_features.png")
    return written


def _heatmap_frame(sample: pd.DataFrame, target: str | None, associations: list[dict]) -> pd.DataFrame:
    """Numeric columns for the correlation heatmap: on a wide table with a target, the target and the
    columns most linked with it rather than the most varying ones."""
    numeric = sample.select_dtypes("number")
    if target is None or numeric.shape[1] <= HEATMAP_COLUMNS:
        return numeric
    by_name = {str(c): c for c in numeric.columns}
    chosen = [target] if target in numeric.columns else []
    chosen += [by_name[a["column"]] for a in associations if a["column"] in by_name]
    return numeric[chosen[:HEATMAP_COLUMNS]] if len(chosen) >= 2 else numeric


def _markdown(summary: dict, target: str | None) -> str:
    rows, cols = summary["rows"], summary["cols"]
    lines = [
        f"**{rows:,} rows × {cols} columns**, {summary['memory_mb']} MB in memory; "
        f"{summary['duplicated_rows']:,} duplicated rows."
    ]
    if summary["sample_rows"] < rows:
        lines.append(
            f"Uniques, associations and leak checks use a random sample of {summary['sample_rows']:,} rows."
        )
    kinds: dict[str, int] = {}
    for column in summary["columns"]:
        kinds[column["kind"]] = kinds.get(column["kind"], 0) + 1
    lines.append(
        "Column kinds: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1])) + "."
    )
    gaps = sorted(((n, c) for c, n in summary["missing"].items() if n), reverse=True)
    if gaps:
        shown = ", ".join(f"`{c}` {_share(n / rows)}" for n, c in gaps[:8])
        lines.append(
            f"Missing values in {len(gaps)} columns: {shown}" + (", …" if len(gaps) > 8 else "") + "."
        )
    else:
        lines.append("No missing values.")
    if target is not None:
        lines.append(f"Target `{target}`: {summary['task_reason']}")
        t = summary["target"]
        if summary["task"] == "classification":
            balance = ", ".join(f"{k} {v:,}" for k, v in list(t["counts"].items())[:6])
            share = t["majority_share"]
            lines.append(f"Class balance ({t['classes']} classes): {balance}; majority share {share:.1%}.")
        else:
            lines.append(
                f"Target range {t['min']:g} to {t['max']:g}, median {t['median']:g}, mean {t['mean']:g}, "
                f"skew {t['skew']:.2f}."
            )
        top = summary["associations"][:5]
        if top:
            lines.append(
                "Strongest links with the target: "
                + ", ".join(f"`{a['column']}` {a['score']:.2f}" for a in top)
                + "."
            )
    flags = summary["flags"]
    for leak in flags["leak"]:
        lines.append(f"⚠ Leak: `{leak['column']}` {leak['reason']}; it will be dropped before training.")
    for key, label in (
        ("identifier", "Identifier-like (dropped)"),
        ("high_cardinality", "High-cardinality text"),
        ("constant", "Constant (dropped)"),
    ):
        if flags[key]:
            lines.append(
                f"{label}: "
                + ", ".join(f"`{c}`" for c in flags[key][:10])
                + (", …" if len(flags[key]) > 10 else "")
                + "."
            )
    lines.append("")
    lines.append(_column_table(summary["columns"]))
    return "\n".join(lines)


def _share(fraction: float) -> str:
    return f"{fraction:.0%}" if fraction >= 0.01 else f"{fraction:.1%}" if fraction >= 0.001 else "<0.1%"


def _column_table(schema: list[dict], limit: int = 30) -> str:
    lines = ["| column | kind | missing | unique | examples |", "| --- | --- | --- | --- | --- |"]
    for c in schema[:limit]:
        examples = ", ".join(e.replace("|", "/") for e in c["examples"])
        lines.append(f"| {c['name']} | {c['kind']} | {c['missing']:,} | {c['unique']:,} | {examples} |")
    if len(schema) > limit:
        lines.append(f"| … {len(schema) - limit} more columns | | | | |")
    return "\n".join(lines)
