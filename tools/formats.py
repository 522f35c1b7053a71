"""The table file types dsgraph reads: one list for the loader, the planner and the upload box."""

import re

KINDS = {  # extension -> the reader it names
    "csv": "delimited",
    "tsv": "delimited",
    "txt": "delimited",
    "parquet": "parquet",
    "pq": "parquet",
    "feather": "feather",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "xlsx": "xlsx",
    "xls": "xls",
}
EXTENSIONS = tuple(KINDS)
COMPRESSIONS = ("gz", "bz2", "zip", "xz", "zst")  # around any of them, mostly delimited text or JSON
PATTERN = rf"\.(?:{'|'.join(EXTENSIONS)})(?:\.(?:{'|'.join(COMPRESSIONS)}))?"
UPLOAD_SUFFIXES = tuple(f".{e}" for e in (*EXTENSIONS, *COMPRESSIONS))  # what a browser file picker offers
_NAME = re.compile(rf"\.({'|'.join(EXTENSIONS)})(?:\.({'|'.join(COMPRESSIONS)}))?$", re.IGNORECASE)
DESCRIPTION = "CSV, TSV, Parquet, Feather, JSON or Excel (optionally compressed: .gz, .bz2, .zip, .xz, .zst)"

# The first bytes of each container or binary table format: a file's content decides what it is, its
# extension is only a hint. The bytes after PAR1/FEA1 are binary, so a CSV header "PAR1,..." is still text.
SIGNATURES = (
    (re.compile(rb"PK\x03\x04"), "zip"),
    (re.compile(rb"\x1f\x8b\x08"), "gz"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bz2"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz"),
    (re.compile(rb"\x28\xb5\x2f\xfd"), "zst"),
    (re.compile(rb"PAR1[^\t\n\r\x20-\x7e]"), "parquet"),
    (re.compile(rb"(ARROW1\x00\x00|FEA1[^\t\n\r\x20-\x7e])"), "feather"),
    (re.compile(rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "xls"),  # OLE2, the container of old Excel files
)


def is_data_file(name: str) -> bool:
    """Whether `name` ends like a data file: a table format's extension, optionally compressed."""
    return re.search(PATTERN + "$", name, re.IGNORECASE) is not None


def split_name(name: str) -> tuple[str, str | None] | None:
    """(extension, compression or None) of a data file's name, lower-cased; None for other names."""
    found = _NAME.search(name)
    if found is None:
        return None
    compression = found.group(2)
    return found.group(1).lower(), compression.lower() if compression else None


def signature(head: bytes) -> str | None:
    """The format the leading bytes announce (a key of COMPRESSIONS or a reader of KINDS), None for text."""
    return next((kind for magic, kind in SIGNATURES if magic.match(head)), None)
