"""Profile a table: column kinds and roles, the task, target checks, leak flags and an EDA summary."""

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tools.errors import ColumnError, DataError
from tools.loading import MIN_ROWS

SAMPLE_ROWS = 100_000  # costly statistics (uniques, associations, leaks) use at most this many rows
HIGH_CARDINALITY = 50  # more distinct strings than this do not one-hot encode well
IDENTIFIER_RATIO = 0.5  # a string column with at least this share of distinct values names rows
MAX_CLASSES = 20  # an integer target with at most this many values is treated as class labels
LEAK_ERROR_SHARE = 0.15  # a leak's error is below this share of the majority-class baseline error
LEAK_R2 = 0.98
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "t", "f"})
_ID_TOKENS = frozenset({"id", "pid", "uid", "uuid", "guid", "idx", "index", "key", "unnamed"})


def column_schema(frame: pd.DataFrame, examples: int = 3, max_chars: int = 40) -> list[dict[str, Any]]:
    """Per column: name, kind, dtype, missing (exact), unique (on a sample of large tables) and examples."""
    sample = _sample(frame)
    schema = []
    for name in frame.columns:
        column = sample[name]
        present = column.dropna()
        distinct = present.unique()
        shown = [
            _truncate(v, max_chars) for v in present.iloc[:1000].drop_duplicates().head(examples).tolist()
        ]
        schema.append(
            {
                "name": str(name),
                "kind": _kind(column, distinct),
                "dtype": str(frame[name].dtype),
                "missing": int(frame[name].isna().sum()),
                "unique": len(distinct),
                "examples": shown,
            }
        )
    return schema


def resolve_column(columns: list[str], name: str) -> str:
    """The column meant by `name`: exact, then ignoring case, spaces and underscores; else ColumnError."""
    if name in columns:
        return name
    wanted = _normal(name)
    matches = [c for c in columns if _normal(c) == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ColumnError(
            f"`{name}` matches several columns ({', '.join(f'`{c}`' for c in matches)}); use the exact name."
        )
    by_normal = {_normal(c): c for c in columns}
    close = [by_normal[m] for m in difflib.get_close_matches(wanted, list(by_normal), n=3, cutoff=0.6)]
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


def validate_target(frame: pd.DataFrame, target: str) -> None:
    """Raise ColumnError / DataError when `target` cannot be learned (absent, empty, one class, too few)."""
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
    task, _ = infer_task(y)
    classes = y.dropna().unique()
    if task == "classification" and len(classes) < 2:
        raise ColumnError(
            f"Target `{target}` has a single value ({_truncate(classes[0], 40)!r}) in every labelled "
            "row; a model needs at least two classes. Choose another target."
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


def _label(value: Any) -> str:
    """Text of a cell value: 1.0 → "1", 0.9167000055 → "0.9167"."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def _truncate(value: Any, max_chars: int) -> str:
    text = _label(value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name)).lower()


def _is_labels(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column)


def _kind(column: pd.Series, distinct: Any) -> str:
    """Schema kind of a (sampled) column with `distinct` present values: numeric, categorical, boolean, …"""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    present = column.dropna()
    if len(distinct) == 2 and _boolean_values(distinct):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "identifier" if _numeric_identifier(column.name, present, len(distinct)) else "numeric"
    if isinstance(column.dtype, pd.CategoricalDtype) or len(distinct) <= HIGH_CARDINALITY:
        return "categorical"
    text = present.astype(str)
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
        elif kind == "categorical" and _is_labels(frame[name]) and n_distinct > HIGH_CARDINALITY:
            roles[name] = ("high_cardinality", f"{n_distinct} distinct values")
        else:
            roles[name] = (kind, kind)
    if target is None or frame[target].notna().sum() < MIN_ROWS:
        return roles
    sample = _sample(frame)
    labelled = sample[sample[target].notna()]
    y = labelled[target]
    task, _ = infer_task(y)
    classes, labels = _class_codes(y) if task == "classification" else ([], np.empty(0, dtype=np.int64))
    for name, (kind, _) in roles.items():
        if kind in ("constant", "identifier", "text"):
            continue
        if task == "classification":
            reason = _class_leak(labelled[name], labels, classes)
        else:
            reason = _regression_leak(labelled[name], y.to_numpy(dtype="float64"))
        if reason:
            roles[name] = ("leak", reason)
    return roles


def _bins(column: pd.Series, n_bins: int) -> np.ndarray:
    """Integer codes grouping a column: quantile bins or top categories; missing gets its own code."""
    missing = column.isna().to_numpy()
    if missing.all():
        return np.zeros(len(column), dtype=np.int64)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        edges = np.unique(np.nanquantile(values[~missing], np.linspace(0, 1, n_bins + 1)[1:-1]))
        codes = np.searchsorted(edges, values, side="right")
        codes[missing] = len(edges) + 1
        return codes.astype(np.int64)
    codes, _ = pd.factorize(column)
    counts = np.bincount(codes[codes >= 0])
    top = np.argsort(counts)[::-1][: n_bins - 1]
    remap = np.full(len(counts), len(top), dtype=np.int64)  # rare categories share one code
    remap[top] = np.arange(len(top))
    return np.where(codes >= 0, remap[codes], len(top) + 1)


def _regression_leak(column: pd.Series, values: np.ndarray) -> str | None:
    """Why `column` alone determines the numeric target (|r| or held-out R² near 1), or None."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        pair = pd.DataFrame({"x": column.to_numpy(dtype="float64", na_value=np.nan), "y": values}).dropna()
        if len(pair) >= MIN_ROWS and pair["x"].std() > 0:
            corr = float(np.corrcoef(pair["x"], pair["y"])[0, 1])
            if abs(corr) > LEAK_R2:
                return f"correlates {corr:+.3f} with the target"
    codes = _bins(column, 50)
    predicted = _cross_fit(codes, values, _means)
    r2 = 1 - np.mean((values - predicted) ** 2) / max(float(np.var(values)), 1e-12)
    return f"alone explains R²={r2:.3f} of the target on held-out rows" if r2 >= LEAK_R2 else None


def _class_codes(y: pd.Series) -> tuple[list[str], np.ndarray]:
    """Class names (as text) and an integer code per row of a target without missing values."""
    labels, classes = pd.factorize(y, sort=True)
    return [_label(c) for c in classes], labels.astype(np.int64)


def _class_leak(column: pd.Series, labels: np.ndarray, classes: list[str]) -> str | None:
    """Why `column` alone predicts the class: a pure present/missing group or held-out accuracy near 1."""
    shares = np.bincount(labels) / len(labels)
    base_error = 1 - shares.max()
    present = column.notna().to_numpy()
    for group, label in ((present, "present"), (~present, "missing")):
        size = int(group.sum())
        if size < max(MIN_ROWS, 0.02 * len(labels)) or size == len(labels):
            continue
        counts = np.bincount(labels[group], minlength=len(classes))
        winner = int(counts.argmax())
        error = 1 - counts[winner] / size
        if error <= min(0.03, 0.1 * (1 - shares[winner])):
            return (
                f"when `{column.name}` is {label} ({size} rows) the target is {classes[winner]!r} "
                f"in {1 - error:.1%} of them"
            )
    codes = _bins(column, 30)
    predicted = _cross_fit(codes, labels, lambda c, v, size: _majority(c, v, size, len(classes)))
    error = float(np.mean(predicted != labels))
    if error <= min(0.05, LEAK_ERROR_SHARE * base_error):
        return f"alone predicts the target with {1 - error:.1%} accuracy on held-out rows"
    return None


def _majority(codes: np.ndarray, labels: np.ndarray, size: int, n_classes: int) -> np.ndarray:
    table = np.bincount(codes * n_classes + labels, minlength=size * n_classes).reshape(size, n_classes)
    return table.argmax(axis=1)


def _means(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=size) / np.maximum(
        np.bincount(codes, minlength=size), 1
    )


def _cross_fit(codes: np.ndarray, values: np.ndarray, fit: Callable) -> np.ndarray:
    """Predict each half from a per-code table `fit(codes, values, size)` learnt on the other half.

    Codes unseen in the learning half get the half's overall prediction.
    """
    order = np.random.default_rng(0).permutation(len(codes))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    predicted = np.empty(len(codes), dtype=values.dtype)
    size = int(codes.max()) + 1
    for learn, apply in (halves, halves[::-1]):
        table = fit(codes[learn], values[learn], size)
        seen = np.bincount(codes[learn], minlength=size) > 0
        overall = fit(np.zeros(len(learn), dtype=np.int64), values[learn], 1)[0]
        predicted[apply] = np.where(seen[codes[apply]], table[codes[apply]], overall)
    return predicted


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
        summary["counts"] = {_truncate(k, 40): int(v) for k, v in counts.head(MAX_CLASSES).items()}
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
    labels = _class_codes(y)[1] if task == "classification" else None
    found = []
    for name, (role, _) in roles.items():
        if role in ("constant", "identifier", "text", "datetime"):
            continue
        column = rows[name]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        if task == "regression" and numeric:
            pair = pd.DataFrame(
                {"x": column.to_numpy(dtype="float64", na_value=np.nan), "y": y.to_numpy(dtype="float64")}
            ).dropna()
            score = abs(pair["x"].corr(pair["y"])) if len(pair) > 2 else np.nan
            measure = "abs_pearson"
        elif task == "regression":
            score, measure = _eta(_bins(column, 50), y.to_numpy(dtype="float64")), "correlation_ratio"
        elif numeric:
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            keep = ~np.isnan(values)
            score, measure = _eta(labels[keep], values[keep]), "correlation_ratio"
        else:
            score, measure = _cramers_v(_bins(column, 50), labels), "cramers_v"
        if np.isfinite(score):
            found.append(
                {"column": str(name), "score": round(float(score), 4), "measure": measure, "role": role}
            )
    return sorted(found, key=lambda a: -a["score"])


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
        "correlations": plots.plot_correlations(sample, out / "correlations.png"),
    }
    if target is not None:
        written["target"] = plots.plot_target(frame[target], summary["task"], out / "target.png")
        scores = {a["column"]: a["score"] for a in summary["associations"]}
        written["top_features"] = plots.plot_top_features(scores, out / "top_features.png")
    return written


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
