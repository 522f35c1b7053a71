"""Read a table file as what its bytes are: magic numbers and a look at the text decide the format (the
extension is a hint), decompress, sniff encoding and delimiter, skip a few ragged lines, name every column."""

import bz2
import csv
import gzip
import io
import lzma
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from tools import formats
from tools.errors import DataError, ToolError

# Lines with too many fields are skipped up to this share of the rows (one line always), else refused.
MAX_SKIPPED_SHARE = 0.01
SAMPLE_BYTES = 1 << 16
_JSON_START = re.compile(r"\s*(\{\s*[\"}]|\[\s*[{\]])")
_TOO_MANY_FIELDS = re.compile(r"Expected \d+ fields in line \d+, saw \d+")
_DELIMITERS = (",", ";", "\t", "|")
_BINARY_KINDS = ("parquet", "feather", "xlsx", "xls")
_KIND_NAMES = {
    "delimited": "delimited text",
    "json": "JSON",
    "jsonl": "JSON lines",
    "parquet": "Parquet",
    "feather": "Feather",
    "xlsx": "Excel",
    "xls": "old Excel (.xls)",
}
_NOUNS = {
    **_KIND_NAMES,
    "parquet": "Parquet file",
    "feather": "Feather file",
    "xlsx": "Excel workbook",
    "xls": "old Excel (.xls) workbook",
}
_COMPRESSED = {"gz": "gzip", "bz2": "bzip2", "zip": "zip", "xz": "xz", "zst": "zstd"}
_SUPPORTED = (
    f"{', '.join('.' + e for e in formats.EXTENSIONS)}, "
    f"optionally compressed ({', '.join('.' + c for c in formats.COMPRESSIONS)})"
)
LEADING_ZERO = re.compile(r"^[+-]?0\d")


@dataclass
class Source:
    """What a file really holds and how to parse it, as found from its bytes (and its first parse)."""

    path: Path
    kind: str | None = None  # a reader of formats.KINDS
    compression: str | None = None  # a key of formats.COMPRESSIONS
    member: str | None = None  # the table file inside a zip archive
    encoding: str = "utf-8-sig"
    sep: str = ","
    header: list[str] | None = None  # column names as the file writes them, before pandas renames any
    codes: dict[int, type] = field(default_factory=dict)  # columns read as text to keep leading zeros
    skip: list[int] = field(default_factory=list)  # records (0 = header) with too many fields


def _hint(p: Path) -> tuple[str, str | None]:
    """(extension, compression) that the file's name claims; DataError for names that are no data file."""
    parts = formats.split_name(p.name)
    if parts is None:
        raise DataError(
            f"`{p.name}` has an unsupported file type `{p.suffix or '(none)'}`; supported: {_SUPPORTED}."
        )
    return parts


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200].rstrip(".")


def inspect(p: Path, notes: list[str]) -> Source:
    """What `p` holds, judged from its bytes; a note when that is not what its name says."""
    extension, compression = _hint(p)
    source = Source(p)
    with p.open("rb") as handle:
        outer = formats.signature(handle.read(16))
    if outer == "zip":
        _inspect_zip(source)
    elif outer in formats.COMPRESSIONS:
        source.compression = outer
    elif outer:
        source.kind = outer
    if source.kind is None:
        head = _head_bytes(source)
        inner = formats.signature(head) if source.compression else None
        if inner in (*_BINARY_KINDS, "zip"):
            source.kind = "xlsx" if inner == "zip" else inner
        else:
            _inspect_text(source, head, extension)
    note = _disguise_note(source, formats.KINDS[extension], compression)
    if note:
        notes.append(note)
    return source


def _inspect_zip(source: Source) -> None:
    """An Excel workbook (a zip of XML parts) or a zip archive holding exactly one table file."""
    name = source.path.name
    try:
        with zipfile.ZipFile(source.path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(
            f"`{name}` is not a valid zip file ({_short(error)}); export or download it again."
        ) from None
    if any(member.startswith("xl/") for member in members):
        source.kind = "xlsx"
        return
    tables = [m for m in members if not m.endswith("/") and not m.startswith("__MACOSX/")]
    if len(tables) != 1:
        listing = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise DataError(
            f"`{name}` is a zip archive of {len(tables)} files ({listing or 'none'}); dsgraph reads a zip "
            "that holds exactly one table file: unzip it and load the table you want."
        )
    source.compression, source.member = "zip", tables[0]


@contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    """The table's bytes, decompressed as its content (not its name) says."""
    if source.compression == "zip":
        with zipfile.ZipFile(source.path) as archive, archive.open(source.member) as handle:
            yield handle
        return
    opener = {None: open, "gz": gzip.open, "bz2": bz2.open, "xz": lzma.open, "zst": _open_zstd}
    with opener[source.compression](source.path, "rb") as handle:
        yield handle


def _open_zstd(path: Path, mode: str) -> BinaryIO:
    try:
        import zstandard
    except ImportError:  # not a declared dependency of dsgraph
        raise DataError(
            f"`{path.name}` is zstd-compressed; install the `zstandard` package or decompress the file."
        ) from None
    return zstandard.open(path, mode)


def _head_bytes(source: Source) -> bytes:
    """The first bytes of the (decompressed) table; DataError when the compressed stream is broken."""
    try:
        with _open(source) as handle:
            return handle.read(SAMPLE_BYTES)
    except ToolError:
        raise
    except Exception as error:  # each decompressor has its own error types; all mean a broken file
        kind = _COMPRESSED.get(source.compression, "data")
        raise DataError(
            f"`{source.path.name}` is not a valid {kind} file ({_short(error)}); "
            "it may be truncated: export or download it again."
        ) from None


def _inspect_text(source: Source, head: bytes, extension: str) -> None:
    """Encoding, JSON or delimited text, delimiter, header and code columns, from the first 64 KiB."""
    name = source.path.name
    source.encoding = _encoding(head)
    if source.encoding != "utf-16" and (b"\x00" in head or _binary_share(head) > 0.1):
        raise DataError(
            f"`{name}` does not look like a table (it holds binary data of no format dsgraph reads); "
            f"export it again as {formats.DESCRIPTION}."
        )
    text = head.decode(source.encoding, errors="ignore")
    if not text.strip():
        raise DataError(
            f"`{name}` holds only blank lines; it needs a header row and data rows."
        )
    if _JSON_START.match(text):
        source.kind = "jsonl" if formats.KINDS[extension] == "jsonl" else "json"
        return
    first_line = text.split("\n", 1)[0]
    sep = "\t" if extension == "tsv" and "\t" in first_line else _sniff_delimiter(text)
    if sep is None and formats.KINDS[extension] != "delimited":
        raise DataError(
            f"`{name}` is not JSON (it should start with `[` or `{{`) nor a delimited table; "
            "export the table again as JSON or CSV."
        )
    source.kind, source.sep = "delimited", sep or ","
    source.header = next(csv.reader(io.StringIO(text), delimiter=source.sep), [])
    source.codes = _code_columns(text, source.sep)


def _encoding(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text" export: tab-separated UTF-16 with a byte-order mark
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
            return "latin-1"
    return "utf-8-sig"


def _disguise_note(source: Source, claimed: str, compression: str | None) -> str | None:
    """`sales.csv` is really an Excel workbook: say what was read when the bytes contradict the name."""
    family = {"jsonl": "json"}
    same_kind = family.get(source.kind, source.kind) == family.get(claimed, claimed)
    if same_kind and source.compression == compression:
        return None
    packing = f"{_COMPRESSED[source.compression]}-compressed " if source.compression else ""
    if compression and not source.compression:
        packing = "uncompressed "
    what = packing + _NOUNS[source.kind]
    if source.kind in _BINARY_KINDS:
        what = ("an " if what[0].lower() in "aeiou" else "a ") + what
    return f"`{source.path.name}` is really {what}; read it as {_KIND_NAMES[source.kind]}"


def read(source: Source, notes: list[str], text: bool = False) -> pd.DataFrame:
    try:
        return _parse_table(source, notes, text)
    except ToolError:
        raise
    except Exception as error:  # parsers raise many types; the user only needs to know the file is unreadable
        raise DataError(
            f"`{source.path.name}` could not be read as {_KIND_NAMES[source.kind]}: {_short(error)}. "
            "Check that the file is complete, or export it again."
        ) from None


def _parse_table(source: Source, notes: list[str], text: bool) -> pd.DataFrame:
    """The table as pandas parses it; `text` keeps every cell as written (as far as the format allows)."""
    if source.kind == "delimited":
        return _read_delimited(source, notes, text)
    if source.kind in ("xlsx", "xls"):
        return _read_excel(source, text)
    data = _table_input(source)
    if source.kind == "parquet":
        return pd.read_parquet(_reopen(data))
    if source.kind == "feather":
        return pd.read_feather(_reopen(data))
    options = {"dtype": False, "convert_dates": False} if text else {}
    if source.kind == "json":
        try:
            return pd.read_json(_reopen(data), encoding=source.encoding, **options)
        except ValueError:
            pass  # not one JSON document: JSON lines
    return pd.read_json(_reopen(data), lines=True, encoding=source.encoding, **options)


def _table_input(source: Source) -> Path | bytes:
    """What a pandas reader can open: the path itself, or the decompressed bytes."""
    if source.compression is None:
        return source.path
    with _open(source) as handle:
        return handle.read()


def _reopen(data: Path | bytes) -> Path | BinaryIO:
    return io.BytesIO(data) if isinstance(data, bytes) else data


def _read_excel(source: Source, text: bool) -> pd.DataFrame:
    engine = "openpyxl" if source.kind == "xlsx" else "xlrd"
    data = _table_input(source)
    if text:
        return pd.read_excel(_reopen(data), engine=engine, dtype=str, keep_default_na=False)
    first = pd.read_excel(_reopen(data), engine=engine, header=None, nrows=1, dtype=object)
    source.header = ["" if pd.isna(v) else str(v) for v in first.iloc[0]] if len(first) else None
    return pd.read_excel(_reopen(data), engine=engine)


def _read_delimited(source: Source, notes: list[str], text: bool) -> pd.DataFrame:
    options = {"sep": source.sep, "low_memory": False}
    options.update({"dtype": str, "keep_default_na": False} if text else {"dtype": source.codes})
    try:
        frame = _read_csv(source, options, notes)
    except UnicodeDecodeError:  # a non-UTF-8 byte beyond the sampled head
        source.encoding = "latin-1"
        frame = _read_csv(source, options, notes)
    if source.encoding == "latin-1":
        notes.append("read the file as latin-1 (it is not valid UTF-8)")
    elif source.encoding == "utf-16":
        notes.append("read the file as UTF-16")
    if source.sep != ",":
        notes.append(f"detected the delimiter {source.sep!r}")
    return frame


def _read_csv(source: Source, options: dict, notes: list[str]) -> pd.DataFrame:
    """pandas' C parser; lines with too many fields are looked for only after it failed on one."""
    try:
        return _parse_csv(source, options)
    except pd.errors.ParserError as error:
        if source.skip or not _TOO_MANY_FIELDS.search(str(error)):
            raise
    source.skip = _ragged_records(source, notes)
    return _parse_csv(source, options)


def _parse_csv(source: Source, options: dict) -> pd.DataFrame:
    with _open(source) as handle:
        return pd.read_csv(handle, encoding=source.encoding, skiprows=source.skip or None, **options)


def _ragged_records(source: Source, notes: list[str]) -> list[int]:
    """Records with more fields than the header: skipped with a note when they are a small share of the
    rows, else a DataError naming them. Numbers are records as pandas counts them (0 = the header)."""
    records, lines, rows = [], [], 0
    with _open(source) as handle, io.TextIOWrapper(handle, encoding=source.encoding, newline="") as text:
        reader = csv.reader(text, delimiter=source.sep)
        width = len(next(reader, []))
        line = reader.line_num
        for record, fields in enumerate(reader, start=1):
            if len(fields) > width:
                records.append(record)
                lines.append(line + 1)
            rows += bool(fields)
            line = reader.line_num
    if not records:
        return records  # the csv module disagrees with pandas: let pandas' own error stand
    shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
    many = "s" if len(lines) > 1 else ""
    if len(lines) > max(1, MAX_SKIPPED_SHARE * rows):
        raise DataError(
            f"`{source.path.name}` has {len(lines)} line{many} with more fields than the {width} of its "
            f"header (line{many} {shown}): {len(lines)} of its {rows} rows, more than the "
            f"{MAX_SKIPPED_SHARE:.0%} dsgraph skips. Check the delimiter ({source.sep!r}) and the quoting of "
            "text containing it, or fix those lines."
        )
    notes.append(f"skipped {len(lines)} line{many} with more than {width} fields (line{many} {shown})")
    return records


def _code_columns(text: str, sep: str) -> dict[int, type]:
    """Columns whose sampled values have leading zeros ("007", zip codes): read as text to keep them."""
    rows = list(csv.reader(text.splitlines()[:2000], delimiter=sep))
    if len(rows) < 2:
        return {}
    codes = {}
    for i in range(len(rows[0])):
        if any(i < len(row) and LEADING_ZERO.match(row[i].strip()) for row in rows[1:]):
            codes[i] = str
    return codes


def _binary_share(raw: bytes) -> float:
    if not raw:
        return 0.0
    control = sum(1 for b in raw if b < 32 and b not in (9, 10, 13))
    return control / len(raw)


def _sniff_delimiter(text: str) -> str | None:
    """The delimiter that splits the sampled lines most consistently into most columns; None if none does."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last sampled line may be cut
    best, best_score = None, (-1.0, 0)
    for sep in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if not counts or counts[0] < 2:
            continue
        consistency = sum(c == counts[0] for c in counts) / len(counts)
        score = (consistency, counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def unique_columns(columns: pd.Index, header: list[str] | None, notes: list[str]) -> list[str]:
    """Stripped column names with duplicates made unique the way pandas does; a note names the renamed."""
    given = [str(c).strip() for c in columns]
    if header is not None and len(header) == len(given):  # the names as written, before pandas renamed any
        given = [h.strip() or g for h, g in zip(header, given, strict=True)]  # blank: pandas' `Unnamed: i`
    names = _dedupe(given)
    pairs = enumerate(zip(given, names, strict=True), start=1)
    renamed = [f"column {i} `{old}` → `{new}`" for i, (old, new) in pairs if old != new]
    if renamed:
        more = ", …" if len(renamed) > 6 else ""
        notes.append(f"renamed duplicate column names: {', '.join(renamed[:6])}{more}")
    return names


def _dedupe(names: list[str]) -> list[str]:
    """`score`, `score` -> `score`, `score.1`, skipping suffixes the file already uses (as pandas does)."""
    taken, seen, unique = set(names), set(), []
    for name in names:
        new = name
        if name in seen:
            suffix = 1
            while f"{name}.{suffix}" in taken:
                suffix += 1
            new = f"{name}.{suffix}"
            taken.add(new)
        seen.add(new)
        unique.append(new)
    return unique


