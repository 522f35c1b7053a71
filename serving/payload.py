"""Request bodies (MLflow's scoring protocol as JSON, or CSV) to the DataFrame a pipeline predicts on."""

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tools.errors import ColumnError, DataError
from tools.loading import NA_MARKERS
from tools.preprocess import input_branches

SHAPES = ('{"dataframe_records": [{column: value, …}]} or '
          '{"dataframe_split": {"columns": […], "data": [[…]]}}')
CSV_TYPES = ("text/csv", "application/csv")
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default `str` dtype, which the loader gives text
MARKERS = pa.array(sorted(NA_MARKERS), type=pa.large_string())
# Roles of tools.preprocess's branches → how the gateway reads that column's cells.
ROLE_KINDS = {"numeric": "number", "flag": "number", "datetime": "datetime", "categorical": "text",
              "high_cardinality": "text"}


class BodyError(DataError):
    """The body cannot be read as a table (HTTP 400)."""


class TooManyRows(DataError):
    """The body has more rows than the gateway accepts in one request (HTTP 413)."""


@dataclass(frozen=True)
class Table:
    """The rows of a request body: `column(name)` gives one column's cells on demand (only the model's
    columns are ever converted; a list of JSON values, or for CSV an Arrow array of the cells as written),
    `sample(n)` the first n rows as {column: value} records."""

    names: frozenset[str]
    rows: int
    column: Callable[[str], Sequence]
    sample: Callable[[int], list[dict]]


def read(body: bytes, content_type: str | None, max_rows: int) -> Table:
    """Parse a request body: CSV for text/csv, else JSON in one of the MLflow shapes (SHAPES)."""
    if (content_type or "").split(";")[0].strip().lower() in CSV_TYPES:
        return _csv(body, max_rows)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(f"The body is not valid JSON ({error}). Send {SHAPES}, or CSV with the header "
                        "text/csv.") from None
    shapes = [key for key in ("dataframe_records", "dataframe_split") if key in document] \
        if isinstance(document, dict) else []
    if len(shapes) != 1:
        raise BodyError(f"The JSON body must have exactly one of dataframe_records or dataframe_split: "
                        f"{SHAPES}.")
    rows = document[shapes[0]]
    table = _records(rows) if shapes[0] == "dataframe_records" else _split(rows)
    _check_rows(table.rows, max_rows)
    return table


def frame(table: Table, kinds: dict[str, str]) -> pd.DataFrame:
    """The model's columns (`kinds`: column → number | datetime | text) read from `table`, in that order."""
    missing = [name for name in kinds if name not in table.names]
    if missing:
        raise ColumnError(f"Missing column{'s' if len(missing) > 1 else ''} {_names(missing)}; this model "
                          f"needs {_names(list(kinds))}.")
    readers = {"number": _numbers, "datetime": _dates, "text": _texts}
    columns = {name: readers.get(kind, _any)(name, table.column(name)) for name, kind in kinds.items()}
    return pd.DataFrame(columns, copy=False)


def input_kinds(pipeline: Any) -> dict[str, str]:
    """Column → kind of cells for each input column a fitted dsgraph pipeline uses, in input order."""
    used = {column: ROLE_KINDS.get(branch, "any") for column, branch in input_branches(pipeline).items()}
    names = [str(name) for name in getattr(pipeline, "feature_names_in_", used)]
    return {name: used[name] for name in names if name in used} if used else dict.fromkeys(names, "any")


def _records(rows: Any) -> Table:
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BodyError(f"dataframe_records must be a list of {{column: value}} objects: {SHAPES}.")
    _check_not_empty(len(rows))
    return Table(frozenset().union(*rows), len(rows), lambda name: [row.get(name) for row in rows],
                 lambda n: rows[:n])


def _split(split: Any) -> Table:
    columns = split.get("columns") if isinstance(split, dict) else None
    data = split.get("data") if isinstance(split, dict) else None
    if not isinstance(columns, list) or not isinstance(data, list) \
            or not all(isinstance(name, str) for name in columns):
        raise BodyError(f"dataframe_split needs \"columns\" (a list of names) and \"data\" (a list of rows): "
                        f"{SHAPES}.")
    if len(set(columns)) < len(columns):
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        raise BodyError(f"dataframe_split names {_names(repeated)} more than once; name each column once.")
    _check_not_empty(len(data))
    try:
        if not all(isinstance(row, list) for row in data) or len(data[0]) != len(columns):
            raise ValueError
        values = list(zip(*data, strict=True))
    except ValueError:
        raise BodyError(f"Every row of dataframe_split's data must be a list of {len(columns)} values, one "
                        "per column; some rows are not.") from None
    position = {name: i for i, name in enumerate(columns)}
    return Table(frozenset(columns), len(data), lambda name: values[position[name]],
                 lambda n: [dict(zip(columns, row, strict=True)) for row in data[:n]])


def _csv(body: bytes, max_rows: int) -> Table:
    """Every cell read as the text written (Arrow's C++ reader: 5x faster than pandas'); each model's
    reader then converts the columns it needs, so a code such as 02134 stays text where a model wants text."""
    try:
        names = next(csv.reader(io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", newline="")))
        options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.large_string()),
                                       strings_can_be_null=True)
        table = pacsv.read_csv(io.BytesIO(body), convert_options=options)
    except (StopIteration, UnicodeDecodeError, csv.Error, pa.ArrowInvalid) as error:
        problem = str(error).strip() or "it is empty"
        raise BodyError(f"The CSV body cannot be read ({problem}). Send a header row, then one line per row, "
                        "comma-separated.") from None
    if len(set(names)) < len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise BodyError(f"The CSV header names {_names(repeated)} more than once; name each column once.")
    _check_not_empty(table.num_rows)
    _check_rows(table.num_rows, max_rows)
    return Table(frozenset(names), table.num_rows, table.column, lambda n: table.slice(0, n).to_pylist())


def _check_not_empty(rows: int) -> None:
    if not rows:
        raise BodyError("The body has no rows to predict; send at least one.")


def _check_rows(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise TooManyRows(f"The request has more than {max_rows:,} rows, the most the gateway takes in one "
                          "request; send the rows in smaller batches.")


def _numbers(name: str, values: Sequence) -> np.ndarray:
    array = None
    if isinstance(values, pa.ChunkedArray):  # CSV cells
        try:
            array = pc.cast(values, pa.float64()).to_numpy()
        except pa.ArrowInvalid:  # spaces, markers or words: looked at cell by cell below
            values = values.to_pylist()
    if array is None:
        try:
            array = np.asarray(values, dtype=np.float64)  # one C loop for numbers, nulls and numeric text
        except (TypeError, ValueError):
            pass
    if array is None or array.ndim != 1:
        array = np.array([_number(name, value) for value in values], dtype=np.float64)
    infinite = np.isinf(array)
    return np.where(infinite, np.nan, array) if infinite.any() else array  # missing, as when training read it


def _number(name: str, value: Any) -> float:
    if value is None or isinstance(value, (int, float)):
        return math.nan if value is None else value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in NA_MARKERS:
            return math.nan
        try:
            return float(text)
        except ValueError:
            pass
    raise ColumnError(f"Column `{name}` holds numbers, but {_shown(value)} is not one; send a number, or "
                      "null for a missing value.")


def _texts(name: str, values: Sequence) -> pd.api.extensions.ExtensionArray:
    if isinstance(values, pa.ChunkedArray):  # CSV cells: cleaned in Arrow, as below
        trimmed = pc.utf8_trim_whitespace(values)
        marker = pc.is_in(pc.utf8_lower(trimmed), value_set=MARKERS)
        return pd.arrays.ArrowStringArray(pc.if_else(marker, pa.scalar(None, pa.large_string()), trimmed),
                                          dtype=TEXT)
    try:
        distinct = set(values)
    except TypeError:
        raise ColumnError(f"Column `{name}` holds a list or an object; each cell must be text, a number or "
                          "null.") from None
    # Cleaned as the training file was: spaces stripped, missing-value markers ("?", "NA") made missing.
    cleaned = {value: _text(value) for value in distinct if isinstance(value, str) and _text(value) != value}
    if cleaned:
        values = [cleaned.get(value, value) if isinstance(value, str) else value for value in values]
    # pandas' `str`, as in the training table: the pipeline labels those cells 2-3x faster than object ones.
    try:
        cells = pa.array(values, type=pa.large_string(), from_pandas=True)
        return pd.arrays.ArrowStringArray(cells, dtype=TEXT)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers among the text: pandas writes them as text
        return pd.array(values, dtype=TEXT)


def _text(value: str) -> str | None:
    text = value.strip()
    return None if text.lower() in NA_MARKERS else text


def _dates(name: str, values: Sequence) -> np.ndarray:
    cells = pd.Series(_texts(name, values))
    dates = pd.to_datetime(cells, errors="coerce", format="mixed")
    bad = cells.notna() & dates.isna()
    if bad.any():
        raise ColumnError(f"Column `{name}` holds dates, but {_shown(cells[bad].iloc[0])} is not one; send "
                          "a date such as 2024-05-31 or 2024-05-31T14:30:00, or null.")
    return dates.to_numpy()


def _any(name: str, values: Sequence) -> Any:
    cells = values.to_pylist() if isinstance(values, pa.ChunkedArray) else values
    return pd.Series(cells, name=name).to_numpy()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
