"""Load a tabular file into a cleaned DataFrame, with a content hash and notes on what was cleaned.

Reading the bytes (format, compression, encoding, delimiter, ragged lines) is tools/reading.py; this module
cleans the values, checks the shape and caches frames by content hash (shared by every session: locked).
"""

import hashlib
import json
import os
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tools import formats, reading
from tools.errors import DataError

MIN_ROWS = 10
NA_MARKERS = frozenset({"", "?", "??", "na", "n/a", "nan", "null", "none", "nil", "#n/a", "<na>", "missing"})
FLOAT32_EXACT = 2**24  # integers beyond this lose precision in float32 (e.g. large ids)
FLOAT32_MAX = float(np.finfo(np.float32).max)  # beyond this a value would become infinite in float32
LRU_SIZE = 4

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$"
)
_YEAR_FIRST = re.compile(r"^\d{4}")

_MEMORY: "OrderedDict[str, Dataset]" = OrderedDict()  # frames are never modified in place: safe to share
_HASHES: dict[tuple[str, int, int], str] = {}
_LOCK = threading.Lock()  # UI sessions load in parallel threads


@dataclass
class Dataset:
    """A loaded, cleaned table: the frame, where it came from, its content hash and cleaning notes."""

    frame: pd.DataFrame
    path: str
    sha256: str
    notes: list[str] = field(default_factory=list)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of the file's bytes (memoised by path, size and modification time)."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError as error:
        raise DataError(_missing_message(p, error)) from None
    if not p.is_file():
        raise DataError(f"`{p.name}` is not a file; give the path of a data file: {formats.DESCRIPTION}.")
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        known = _HASHES.get(key)
    if known:
        return known
    digest = hashlib.sha256()
    try:
        with p.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise DataError(_missing_message(p, error)) from None
    with _LOCK:
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def load_dataset(path: str | os.PathLike, min_rows: int = MIN_ROWS) -> Dataset:
    """Read a CSV/TSV/Parquet/Feather/JSON/Excel file, clean it and check it is usable; DataError if not.

    `min_rows` is what training needs; new rows to predict may be fewer (pass 1).
    """
    return _load(Path(path), min_rows, cells=False)[0]


def load_with_cells(path: str | os.PathLike, min_rows: int = MIN_ROWS) -> tuple[Dataset, pd.DataFrame]:
    """`load_dataset`, plus its rows and columns as the file writes them (text files: every cell as text,
    nothing converted or treated as missing)."""
    return _load(Path(path), min_rows, cells=True)


def load_cached(
    path: str | os.PathLike, sha256: str | None = None, cache_dir: str | os.PathLike | None = None
) -> Dataset:
    """`load_dataset` through a small in-process LRU and an optional parquet cache keyed by content hash."""
    p = Path(path)
    current = file_sha256(p)
    if sha256 is not None and sha256 != current:
        raise DataError(
            f"`{p.name}` changed since it was loaded (its content hash differs); "
            "load it again to use the new content."
        )
    with _LOCK:
        cached = _MEMORY.get(current)
        if cached is not None:
            _MEMORY.move_to_end(current)
    if cached is not None:
        return Dataset(cached.frame.copy(deep=False), str(p), current, list(cached.notes))
    disk = Path(cache_dir) / f"{current}.parquet" if cache_dir is not None else None
    dataset = _read_cache(disk, p, current) if disk is not None else None
    if dataset is None:
        dataset = load_dataset(p)
        if disk is not None:
            _write_cache(disk, dataset)
    with _LOCK:
        _MEMORY[current] = dataset
        while len(_MEMORY) > LRU_SIZE:
            _MEMORY.popitem(last=False)
    return Dataset(dataset.frame.copy(deep=False), str(p), current, list(dataset.notes))


def _load(p: Path, min_rows: int, cells: bool) -> tuple[Dataset, pd.DataFrame | None]:
    """The cleaned dataset and, with `cells`, the same rows and columns read a second time as written."""
    sha = file_sha256(p)
    if p.stat().st_size == 0:
        raise DataError(f"`{p.name}` is empty (0 bytes); export the table again or choose another file.")
    notes: list[str] = []
    source = reading.inspect(p, notes)
    frame = reading.read(source, notes)
    names = reading.unique_columns(frame.columns, source.header, notes)
    frame.columns = names
    kept = frame.notna().any(axis=1).to_numpy()  # rows without any value carry nothing
    frame = _clean(_keep_rows(frame, kept), notes)
    _check_shape(frame, p.name, min_rows)
    dataset = Dataset(frame=frame, path=str(p), sha256=sha, notes=notes)
    if not cells:
        return dataset, None
    text = reading.read(source, [], text=True)  # same source, so the same lines are skipped
    text.columns = names
    return dataset, _keep_rows(text, kept)[list(frame.columns)]


def _keep_rows(frame: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    return (frame if kept.all() else frame[kept]).reset_index(drop=True)


def _missing_message(p: Path, error: OSError) -> str:
    if not p.exists():
        return f"`{p.name}` was not found at {p}; check the path (it is resolved from {Path.cwd()})."
    return f"`{p.name}` cannot be opened: {error.strerror or error}."


def _check_shape(frame: pd.DataFrame, name: str, min_rows: int = MIN_ROWS) -> None:
    if frame.shape[1] == 0:
        raise DataError(f"`{name}` has no columns; it needs a header row and at least {min_rows} data rows.")
    rows = len(frame)
    if rows == 0:
        raise DataError(f"`{name}` has a header but no data rows; at least {min_rows} rows are needed.")
    if rows < min_rows:
        raise DataError(
            f"`{name}` has {rows} row{'s' if rows != 1 else ''}; at least {min_rows} rows are needed."
        )


def _clean(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    frame = _drop_index_column(frame, notes)
    marker_columns: Counter[str] = Counter()
    converted: dict = {"numbers": [], "dates": [], "float32": [], "infinite": Counter()}
    out = {}
    for name in frame.columns:
        series = frame[name]
        if _is_text(series):
            series, distinct = _clean_strings(series, marker_columns)
            if len(distinct):
                series = _coerce_numeric(series, distinct, name, notes, converted)
            if _is_text(series):
                series = _coerce_dates(series, converted)
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            series = _to_float32(series, name, converted)
        out[name] = series.array  # arrays, not Series: no per-column index alignment (1,000-column files)
    frame = pd.DataFrame(out, index=frame.index)
    for marker, count in sorted(marker_columns.items()):
        notes.append(f"treated {marker!r} as missing in {count} column{'s' if count > 1 else ''}")
    if converted["numbers"]:
        notes.append(f"coerced {_names(converted['numbers'])} from text to numbers")
    if converted["dates"]:
        notes.append(f"parsed {_names(converted['dates'])} as dates")
    if converted["float32"]:
        notes.append(f"stored {len(converted['float32'])} numeric columns as float32")
    if converted["infinite"]:
        count = sum(converted["infinite"].values())
        notes.append(
            f"treated {count} infinite value{'s' if count > 1 else ''} (inf, -inf) as missing "
            f"in {_names(list(converted['infinite']))}"
        )
    return frame


def _names(columns: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{c}`" for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _drop_index_column(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    first = frame.columns[0] if len(frame.columns) else None
    if first is None or not (first == "" or first.startswith("Unnamed: 0")):
        return frame
    values = frame[first]
    if pd.api.types.is_integer_dtype(values) and len(values) > 1:
        start = values.iloc[0]
        if start in (0, 1) and np.array_equal(values.to_numpy(), np.arange(start, start + len(values))):
            notes.append(f"dropped the unnamed row-number column `{first}`")
            return frame.drop(columns=first)
    return frame


def _clean_strings(series: pd.Series, marker_columns: Counter) -> tuple[pd.Series, pd.Index]:
    """Strip whitespace and turn missing-value markers into NaN, working on the distinct values only;
    also the distinct values that are left."""
    codes, distinct = pd.factorize(series)
    texts = pd.Index(distinct.astype("str"))
    cleaned = texts.str.strip()
    is_marker = cleaned.str.lower().isin(NA_MARKERS)
    present = cleaned[~is_marker].unique()
    if series.dtype == "str" and not is_marker.any() and (cleaned == texts).all():
        return series, present
    for marker in cleaned[is_marker]:
        marker_columns[marker if marker else "empty text"] += 1
    table = np.append(cleaned.where(~is_marker).to_numpy(dtype=object), np.nan)
    return pd.Series(table[codes], index=series.index, name=series.name, dtype="str"), present


def _coerce_numeric(
    series: pd.Series, values: pd.Index, name: str, notes: list[str], converted: dict
) -> pd.Series:
    distinct = pd.Series(values)
    probe = distinct if len(distinct) <= 2000 else distinct.sample(2000, random_state=0)
    if not _share(probe.tolist(), _NUMBER, _THOUSANDS, _DECIMAL_COMMA) > 0.98:
        return series
    plain = distinct.str.match(_NUMBER)
    thousands = distinct.str.match(_THOUSANDS)
    decimal_comma = distinct.str.match(_DECIMAL_COMMA) & ~thousands
    if (plain & distinct.str.match(reading.LEADING_ZERO)).any():
        return series  # codes such as zip codes keep their leading zeros
    if decimal_comma.any() and thousands.any():
        return series  # "1,234" and "1,5" in one column: ambiguous, leave it as text
    bad = distinct[~(plain | thousands | decimal_comma)]
    if len(bad) > 3 or (series.isin(set(bad)).mean() > 0.01):
        return series
    text = series.where(~series.isin(set(bad)))
    if decimal_comma.any():
        text = text.str.replace(",", ".", regex=False)
    elif thousands.any():
        text = text.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    if len(bad):
        notes.append(f"treated {', '.join(map(repr, bad.tolist()))} as missing in `{name}`")
    converted["numbers"].append(name)
    return numbers


def _coerce_dates(series: pd.Series, converted: dict) -> pd.Series:
    probe = _probe(series, 500)
    if not probe or _share(probe, _DATE) < 0.95:
        return series
    iso = _share(probe, _YEAR_FIRST) > 0.95
    dayfirst = not iso and _day_first(pd.Series(probe, dtype="str"))
    dates = pd.to_datetime(series, errors="coerce", format="ISO8601" if iso else None, dayfirst=dayfirst)
    if dates.notna().sum() < 0.95 * series.notna().sum():
        return series
    converted["dates"].append(series.name)
    return dates


def _probe(series: pd.Series, size: int) -> list[str]:
    """A fixed random sample of at most `size` of the column's present values."""
    if len(series) <= size:  # all of them: skip pandas' per-call overhead on short columns
        return [v for v in series.tolist() if isinstance(v, str)]
    present = series.dropna()
    return (present if len(present) <= size else present.sample(size, random_state=0)).tolist()


def _share(values: list[str], *patterns: re.Pattern) -> float:
    """Share of `values` that one of `patterns` matches (plain `re`: on samples of at most 2,000 values it
    costs far less than pandas' set-up per call, which dominated loading 1,000-column files)."""
    return sum(any(p.match(v) for p in patterns) for v in values) / max(len(values), 1)


def _day_first(probe: pd.Series) -> bool:
    first = pd.to_numeric(probe.str.extract(r"^(\d{1,2})[-/.]")[0], errors="coerce")
    return bool((first > 12).any())


def _to_float32(series: pd.Series, name: str, converted: dict) -> pd.Series:
    """float32 where that is exact enough; ±inf (`inf`, `Infinity`, `1e999` in the file) becomes missing,
    since no model can fit on infinity."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        converted["infinite"][name] = int(infinite.sum())
        series, values = series.mask(infinite), np.where(infinite, np.nan, values)
    if series.dtype == np.float32:
        return series
    largest = np.nanmax(np.abs(values), initial=0)
    if largest >= FLOAT32_EXACT and pd.api.types.is_integer_dtype(series):
        return series  # large integers (ids, money in cents) stay exact
    if largest > FLOAT32_MAX:
        return series  # float32 would turn these values into infinities
    converted["float32"].append(name)
    return series.astype("float32")


def _read_cache(disk: Path, p: Path, sha: str) -> Dataset | None:
    if not disk.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(disk)
        meta = table.schema.metadata or {}
        notes = json.loads(meta.get(b"dsgraph.notes", b"[]"))
        return Dataset(table.to_pandas(), str(p), sha, notes)
    except Exception:  # a corrupt or foreign cache file is rebuilt from the source
        return None


def _write_cache(disk: Path, dataset: Dataset) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        disk.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(dataset.frame, preserve_index=False)
        meta = {**(table.schema.metadata or {}), b"dsgraph.notes": json.dumps(dataset.notes).encode()}
        tmp = disk.with_suffix(f".{os.getpid()}.tmp")
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        os.replace(tmp, disk)
    except (OSError, pa.ArrowException):
        pass  # the cache is an optimisation: a read-only or full disk must not fail the load
