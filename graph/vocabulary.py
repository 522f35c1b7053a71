"""The plan vocabulary: every action, its node, its arguments and their bounds, in one place.

The rule planner, the LLM tool schemas, the CLI help and the UI all read this module.
"""

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.keys import METRICS, MODELS

MAX_TRIALS = 500
MAX_TIMEOUT_S = 6 * 3600
MAX_PREVIEW_ROWS = 100

ModelName = Enum("ModelName", {k: k for k in MODELS}, type=str)
MetricName = Enum("MetricName", {k: k for k in METRICS}, type=str)


class Args(BaseModel):
    """Base of every action's arguments: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class LoadArgs(Args):
    path: str = Field(description="Path of a CSV, TSV, Parquet, JSON or Excel file to load.")


class SetTargetArgs(Args):
    column: str = Field(description="Name of the column to predict.")


class PreviewArgs(Args):
    rows: int = Field(5, ge=1, le=MAX_PREVIEW_ROWS, description="Number of rows to show.")


class NoArgs(Args):
    pass


class TrainArgs(Args):
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="Learning task; auto detects it from the target.")
    models: list[ModelName] | None = Field(
        None, description="Model keys to train; omit for a default set chosen from the data size.")
    all_rows: bool | None = Field(
        None, description="Fit on every training row of a large dataset (slower); by default models fit on "
                          "a stratified sample of at most 200,000 training rows.")


class PredictArgs(Args):
    path: str = Field(description="Path of a file with new rows to predict.")


class TuneArgs(Args):
    model: ModelName | None = Field(
        None, description="Model key to tune; default: the best model trained so far.")
    n_trials: int = Field(20, ge=1, le=MAX_TRIALS, description="Number of Optuna trials.")
    timeout_s: int | None = Field(None, ge=1, le=MAX_TIMEOUT_S, description="Wall-clock budget in seconds.")
    metric: MetricName | None = Field(None, description="Metric to optimise; default the task's primary one.")


class BestArgs(Args):
    metric: MetricName | None = Field(None, description="Metric that ranks models; default the primary one.")


class HistoryArgs(Args):
    limit: int | None = Field(None, ge=1, le=1000, description="Show at most this many experiments.")


class Action(BaseModel):
    """One allowed action: the node that runs it, what it does, and its argument schema."""

    model_config = ConfigDict(frozen=True)
    name: str
    node: Literal["eda", "trainer", "tuner", "reporter"]
    description: str
    args: type[Args]
    examples: tuple[str, ...] = ()  # phrasings the rule planner understands (a test plans each one)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action(name="load", node="eda", args=LoadArgs, description="Load a data file.",
           examples=("load samples/titanic.csv",)),
    Action(name="set_target", node="eda", args=SetTargetArgs, description="Choose the target column.",
           examples=("the target is survived",)),
    Action(name="preview", node="eda", args=PreviewArgs, description="Show the first rows of the data.",
           examples=("show the first 10 rows",)),
    Action(name="describe", node="eda", args=NoArgs,
           description="Profile the data: types, missing values, target balance, leaks, plots.",
           examples=("describe the data",)),
    Action(name="train", node="trainer", args=TrainArgs,
           description="Train and evaluate models on a fixed held-out split.",
           examples=("train classifiers", "train a random forest and logreg")),
    Action(name="predict", node="trainer", args=PredictArgs,
           description="Predict new rows with the best model; writes predictions.csv.",
           examples=("predict on new.csv",)),
    Action(name="tune", node="tuner", args=TuneArgs,
           description="Tune one model's hyper-parameters with Optuna.",
           examples=("optimize SVC with 50 trials", "tune the best one for 5 minutes")),
    Action(name="best", node="reporter", args=BestArgs, description="Show the best model by a metric.",
           examples=("best model by F1", "which model has the lowest RMSE")),
    Action(name="history", node="reporter", args=HistoryArgs, description="List the experiments so far.",
           examples=("show the last 5 experiments",)),
    Action(name="report", node="reporter", args=NoArgs, description="Write a full report of the session.",
           examples=("write a report",)),
    Action(name="help", node="reporter", args=NoArgs, description="Explain what the agent can do."),
)}


def help_text() -> str:
    """What the agent understands: every action with its example phrasings, the model and metric keys."""
    lines = ["One message can chain several steps, e.g. `load samples/titanic.csv, the target is survived, "
             "train classifiers and tune the best one with 20 trials`. I understand:"]
    for action in ACTIONS.values():
        said = f" Say: {' or '.join(f'`{e}`' for e in action.examples)}." if action.examples else ""
        lines.append(f"- **{action.name}**: {action.description}{said}")
    lines.append(f"Models: {', '.join(MODELS)}. Metrics: {', '.join(METRICS)}.")
    return "\n".join(lines)


def validate_step(action: str, args: dict | None) -> dict:
    """Return a canonical plan step for `action`, raising ValueError/ValidationError on bad input."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    spec = ACTIONS[action]
    clean = spec.args.model_validate(args or {}).model_dump(exclude_none=True)
    return {"node": spec.node, "action": action, "args": clean}
