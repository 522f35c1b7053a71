"""Load a tabular file into a cleaned DataFrame, with a content hash and notes on what was cleaned."""

import csv
import gzip
import hashlib
import io
import json
import os
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tools.errors import DataError, ToolError

MIN_ROWS = 10
SUPPORTED = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".txt",
    ".parquet",
    ".pq",
    ".json",
    ".jsonl",
    ".ndjson",
    ".xlsx",
)
NA_MARKERS = frozenset({"", "?", "??", "na", "n/a", "nan", "null", "none", "nil", "#n/a", "<na>", "missing"})
FLOAT32_EXACT = 2**24  # integers beyond this lose precision in float32 (e.g. large ids)
LRU_SIZE = 4

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$"
)
_DELIMITERS = (",", ";", "\t", "|")

_MEMORY: "OrderedDict[str, Dataset]" = OrderedDict()
_HASHES: dict[tuple[str, int, int], str] = {}


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
        raise DataError(f"`{p.name}` is not a file; give the path of a data file ({', '.join(SUPPORTED)}).")
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        try:
            with p.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as error:
            raise DataError(_missing_message(p, error)) from None
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def load_dataset(path: str | os.PathLike, min_rows: int = MIN_ROWS) -> Dataset:
    """Read a CSV/TSV/Parquet/JSON/Excel file, clean it, and check it is usable; raise DataError if not.

    `min_rows` is what training needs; new rows to predict may be fewer (pass 1).
    """
    p = Path(path)
    sha = file_sha256(p)
    if p.stat().st_size == 0:
        raise DataError(f"`{p.name}` is empty (0 bytes); export the table again or choose another file.")
    suffix = _suffix(p)
    notes: list[str] = []
    try:
        frame = _read(p, suffix, notes)
    except ToolError:
        raise
    except Exception as error:  # parsers raise many types; the user only needs to know the file is unreadable
        raise DataError(
            f"`{p.name}` could not be read as {_kind_name(suffix)}: {_short(error)}. "
            "Check that the file is complete and matches its extension."
        ) from None
    frame = _clean(frame, notes)
    _check_shape(frame, p.name, min_rows)
    return Dataset(frame=frame, path=str(p), sha256=sha, notes=notes)


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
    if current in _MEMORY:
        _MEMORY.move_to_end(current)
        cached = _MEMORY[current]
        return Dataset(cached.frame.copy(deep=False), str(p), current, list(cached.notes))
    disk = Path(cache_dir) / f"{current}.parquet" if cache_dir is not None else None
    dataset = _read_cache(disk, p, current) if disk is not None else None
    if dataset is None:
        dataset = load_dataset(p)
        if disk is not None:
            _write_cache(disk, dataset)
    _MEMORY[current] = dataset
    while len(_MEMORY) > LRU_SIZE:
        _MEMORY.popitem(last=False)
    return Dataset(dataset.frame.copy(deep=False), str(p), current, list(dataset.notes))


def _suffix(p: Path) -> str:
    name = p.name.lower()
    for suffix in sorted(SUPPORTED, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise DataError(
        f"`{p.name}` has an unsupported file type `{p.suffix or '(none)'}`; "
        f"supported: {', '.join(SUPPORTED)}."
    )


def _kind_name(suffix: str) -> str:
    return {
        ".parquet": "Parquet",
        ".pq": "Parquet",
        ".json": "JSON",
        ".jsonl": "JSON lines",
        ".ndjson": "JSON lines",
        ".xlsx": "Excel",
    }.get(suffix, "delimited text")


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


def _missing_message(p: Path, error: OSError) -> str:
    if not p.exists():
        return f"`{p.name}` was not found at {p}; check the path (it is resolved from {Path.cwd()})."
    return f"`{p.name}` cannot be opened: {error.strerror or error}."


def _read(p: Path, suffix: str, notes: list[str]) -> pd.DataFrame:
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if suffix == ".xlsx":
        _check_excel_header(p)
        return pd.read_excel(p, engine="openpyxl")
    if suffix == ".json":
        head = p.read_bytes()[:4096].lstrip()
        if head[:1] != b"[" and head[:1] != b"{":
            raise DataError(f"`{p.name}` is not JSON (it should start with `[` or `{{`).")
        try:
            return pd.read_json(p)
        except ValueError:
            return pd.read_json(p, lines=True)
    if suffix in (".jsonl", ".ndjson"):
        return pd.read_json(p, lines=True)
    return _read_delimited(p, suffix, notes)


def _read_delimited(p: Path, suffix: str, notes: list[str]) -> pd.DataFrame:
    compression = "gzip" if suffix.endswith(".gz") else None
    raw = _head_bytes(p, compression)
    if b"\x00" in raw or _binary_share(raw) > 0.1:
        raise DataError(
            f"`{p.name}` does not look like a text table (it holds binary data); "
            "if it is an Excel or Parquet file, rename it with the matching extension."
        )
    encoding = "utf-8-sig"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as error:
        if error.start < len(raw) - 4:  # a multi-byte character cut at the end of the sample is fine
            encoding = "latin-1"
    text = raw.decode(encoding, errors="ignore")
    if not text.strip():
        raise DataError(
            f"`{p.name}` holds only blank lines; it needs a header row and at least {MIN_ROWS} rows."
        )
    sep = "\t" if suffix.startswith(".tsv") else _sniff_delimiter(text)
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    duplicates = sorted(n for n, c in Counter(h.strip() for h in header).items() if c > 1 and n)
    if duplicates:
        raise DataError(
            f"`{p.name}` has duplicate column names: {', '.join(map(repr, duplicates))}; "
            "rename them so each column has a unique name."
        )
    kwargs = {"sep": sep, "compression": compression, "low_memory": False, "dtype": _code_columns(text, sep)}
    try:
        frame = pd.read_csv(p, encoding=encoding, **kwargs)
    except UnicodeDecodeError:
        encoding = "latin-1"
        frame = pd.read_csv(p, encoding=encoding, **kwargs)
    if encoding == "latin-1":
        notes.append("read the file as latin-1 (it is not valid UTF-8)")
    if sep != ",":
        notes.append(f"detected the delimiter {sep!r}")
    return frame


def _code_columns(text: str, sep: str) -> dict[str, type]:
    """Columns whose sampled values have leading zeros ("007", zip codes): read as text to keep them."""
    rows = list(csv.reader(text.splitlines()[:2000], delimiter=sep))
    if len(rows) < 2:
        return {}
    codes = {}
    for i, name in enumerate(rows[0]):
        if any(i < len(row) and _LEADING_ZERO.match(row[i].strip()) for row in rows[1:]):
            codes[name] = str
    return codes


def _head_bytes(p: Path, compression: str | None, size: int = 1 << 16) -> bytes:
    try:
        if compression == "gzip":
            with gzip.open(p, "rb") as handle:
                return handle.read(size)
        with p.open("rb") as handle:
            return handle.read(size)
    except (OSError, EOFError) as error:
        raise DataError(
            f"`{p.name}` is not a valid gzip file ({_short(error)}); decompress it or fix the extension."
        ) from None


def _binary_share(raw: bytes) -> float:
    if not raw:
        return 0.0
    control = sum(1 for b in raw if b < 32 and b not in (9, 10, 13))
    return control / len(raw)


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last sampled line may be cut
    best, best_score = ",", (-1.0, 0)
    for sep in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if not counts or counts[0] < 2:
            continue
        consistency = sum(c == counts[0] for c in counts) / len(counts)
        score = (consistency, counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _check_excel_header(p: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(p, read_only=True)
    try:
        first = next(book.active.iter_rows(max_row=1, values_only=True), ())
    finally:
        book.close()
    names = [str(v).strip() for v in first if v is not None]
    duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
    if duplicates:
        raise DataError(
            f"`{p.name}` has duplicate column names: {', '.join(map(repr, duplicates))}; "
            "rename them so each column has a unique name."
        )


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
    frame = frame.rename(columns=lambda c: str(c).strip())
    frame = frame.dropna(axis=0, how="all").reset_index(drop=True)
    frame = _drop_index_column(frame, notes)
    marker_columns: Counter[str] = Counter()
    converted: dict[str, list[str]] = {"numbers": [], "dates": [], "float32": []}
    out = {}
    for name in frame.columns:
        series = frame[name]
        if _is_text(series):
            series = _clean_strings(series, marker_columns)
            series = _coerce_numeric(series, name, notes, converted) if series.notna().any() else series
            if _is_text(series):
                series = _coerce_dates(series, converted)
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            series = _to_float32(series, name, converted)
        out[name] = series
    frame = pd.DataFrame(out, index=frame.index)
    for marker, count in sorted(marker_columns.items()):
        notes.append(f"treated {marker!r} as missing in {count} column{'s' if count > 1 else ''}")
    if converted["numbers"]:
        notes.append(f"coerced {_names(converted['numbers'])} from text to numbers")
    if converted["dates"]:
        notes.append(f"parsed {_names(converted['dates'])} as dates")
    if converted["float32"]:
        notes.append(f"stored {len(converted['float32'])} numeric columns as float32")
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


def _clean_strings(series: pd.Series, marker_columns: Counter) -> pd.Series:
    """Strip whitespace and turn missing-value markers into NaN, working on the distinct values only."""
    codes, distinct = pd.factorize(series)
    texts = pd.Index(distinct.astype("str"))
    cleaned = texts.str.strip()
    is_marker = cleaned.str.lower().isin(NA_MARKERS)
    if series.dtype == "str" and not is_marker.any() and (cleaned == texts).all():
        return series
    for marker in cleaned[is_marker]:
        marker_columns[marker if marker else "empty text"] += 1
    table = np.append(cleaned.where(~is_marker).to_numpy(dtype=object), np.nan)
    return pd.Series(table[codes], index=series.index, name=series.name, dtype="str")


def _coerce_numeric(series: pd.Series, name: str, notes: list[str], converted: dict) -> pd.Series:
    distinct = pd.Series(series.dropna().unique())
    probe = distinct.sample(min(len(distinct), 2000), random_state=0)
    if (
        not (probe.str.match(_NUMBER) | probe.str.match(_THOUSANDS) | probe.str.match(_DECIMAL_COMMA)).mean()
        > 0.98
    ):
        return series
    plain = distinct.str.match(_NUMBER)
    thousands = distinct.str.match(_THOUSANDS)
    decimal_comma = distinct.str.match(_DECIMAL_COMMA) & ~thousands
    if (plain & distinct.str.match(_LEADING_ZERO)).any():
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
    present = series.dropna()
    if present.empty:
        return series
    probe = present.sample(min(len(present), 500), random_state=0)
    if probe.str.match(_DATE).mean() < 0.95:
        return series
    iso = probe.str.match(r"^\d{4}").mean() > 0.95
    dates = pd.to_datetime(
        series, errors="coerce", format="ISO8601" if iso else None, dayfirst=not iso and _day_first(probe)
    )
    if dates.notna().sum() < 0.95 * len(present):
        return series
    converted["dates"].append(series.name)
    return dates


def _day_first(probe: pd.Series) -> bool:
    first = pd.to_numeric(probe.str.extract(r"^(\d{1,2})[-/.]")[0], errors="coerce")
    return bool((first > 12).any())


def _to_float32(series: pd.Series, name: str, converted: dict) -> pd.Series:
    if series.dtype == np.float32:
        return series
    finite = series.to_numpy(dtype="float64", na_value=np.nan)
    if np.nanmax(np.abs(finite), initial=0) >= FLOAT32_EXACT and pd.api.types.is_integer_dtype(series):
        return series  # large integers (ids, money in cents) stay exact
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
