"""Request bodies in the shapes clients send: MLflow's dataframe_split / dataframe_records, and CSV."""

import orjson
import pandas as pd

JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}


def cells(frame: pd.DataFrame) -> list[list]:
    """The rows as JSON-ready values, missing cells as null."""
    return frame.astype(object).where(frame.notna(), None).to_numpy().tolist()


def split(frame: pd.DataFrame) -> bytes:
    return orjson.dumps({"dataframe_split": {"columns": list(frame.columns), "data": cells(frame)}})


def records(frame: pd.DataFrame) -> bytes:
    return orjson.dumps({"dataframe_records": [dict(zip(frame.columns, row, strict=True))
                                               for row in cells(frame)]})


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()
