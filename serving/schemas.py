"""The gateway's response bodies and documented request bodies: what /docs shows."""

from typing import Any, Literal

from pydantic import BaseModel

from serving.payload import SHAPES


class Prediction(BaseModel):
    """Predictions, one per row; for classifiers also `probabilities` (one row per input row, in `classes`
    order). The header X-Model-Version repeats `version`."""

    predictions: list[Any]
    probabilities: list[list[float]] | None = None
    classes: list[Any] | None = None
    model: str
    version: int


class Failure(BaseModel):
    """Every error: what is wrong and what to do."""

    error: str


class RegisteredVersion(BaseModel):
    version: int
    experiment: str | None
    metrics: dict[str, float | None] | None
    created_at: str


class Deployed(BaseModel):
    version: int
    traffic: float
    mode: Literal["live", "shadow"]


class RegisteredModel(BaseModel):
    """A registered model (as `app.py models --json`): its versions and where traffic goes (percent)."""

    name: str
    versions: list[RegisteredVersion]
    deployment: list[Deployed]


class Alive(BaseModel):
    status: Literal["alive"]


class Ready(BaseModel):
    status: Literal["ready"]
    models: int
    deployed: int


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Failure, "description": text} for code, text in (
        (400, "unreadable body"), (401, "missing or wrong API key"), (404, "unknown model or version"),
        (413, "too many rows"), (422, "missing or invalid columns"), (503, "the version cannot be loaded"))}
PREDICT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": SHAPES}, "examples": {
        "records": {"value": {"dataframe_records": [{"age": 39, "workclass": "State-gov"}]}},
        "split": {"value": {"dataframe_split": {"columns": ["age", "workclass"],
                                                "data": [[39, "State-gov"]]}}}}},
    "text/csv": {"schema": {"type": "string"}, "example": "age,workclass\n39,State-gov\n"}}}}
