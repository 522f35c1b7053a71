"""The table file types dsgraph reads: one list for the loader, the planner and the upload box."""

import re

EXTENSIONS = ("csv", "tsv", "txt", "parquet", "pq", "feather", "json", "jsonl", "ndjson", "xlsx", "xls")
COMPRESSIONS = ("gz", "bz2", "zip", "xz", "zst")  # around delimited text and JSON lines
PATTERN = rf"\.(?:{'|'.join(EXTENSIONS)})(?:\.(?:{'|'.join(COMPRESSIONS)}))?"
UPLOAD_SUFFIXES = tuple(f".{e}" for e in (*EXTENSIONS, *COMPRESSIONS))  # what a browser file picker offers
DESCRIPTION = "CSV, TSV, Parquet, Feather, JSON or Excel (optionally compressed: .gz, .bz2, .zip, .xz, .zst)"


def is_data_file(name: str) -> bool:
    """Whether `name` ends like a data file: a table format's extension, optionally compressed."""
    return re.search(PATTERN + "$", name, re.IGNORECASE) is not None
