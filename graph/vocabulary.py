"""The plan vocabulary: every action, its node, arguments and bounds, and how people say it, in one place.

The rule planner, the LLM tool schemas, the CLI help and the UI all read this module.
"""

import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools import formats
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
    path: str = Field(description=f"Path of the file to load: {formats.DESCRIPTION}.")


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


class ExcludeArgs(Args):
    columns: list[str] = Field(min_length=1, description="Names of the columns to leave out of training.")


class HistoryArgs(Args):
    limit: int | None = Field(None, ge=1, le=1000, description="Show at most this many experiments.")


MODEL_NAME = r"[a-z0-9_-]+/[a-z0-9_-]+"  # a registered model: PROJECT/MODEL


class ModelArgs(Args):
    name: str = Field(pattern=f"^{MODEL_NAME}$", description="Registered model name PROJECT/MODEL, "
                                                               "lower-case letters, digits, - and _.")

    @field_validator("name", mode="before")
    @classmethod
    def _lower(cls, name):
        return name.strip().lower() if isinstance(name, str) else name


class RegisterArgs(ModelArgs):
    experiment: str | None = Field(None, description="Experiment record id; default the thread's best model.")
    model: ModelName | None = Field(None, description="Model key: the newest experiment of this model (a "
                                                      "tuned one when there is one); default the best model.")


class DeployArgs(ModelArgs):
    version: int | None = Field(None, ge=1, description="Version to deploy; default the newest registered.")
    traffic: float = Field(100.0, gt=0, le=100, description="Percent of live traffic (100 replaces the "
                                                             "live versions); ignored for shadow.")
    mode: Literal["live", "shadow"] = Field(
        "live", description="live: serve that share of requests; shadow: receive a copy of every request.")


class DriftArgs(ModelArgs):
    path: str | None = Field(None, description="New data to compare with the training data (a file).")
    last: int | None = Field(None, ge=10, le=1_000_000, description="Or: the last N requests the gateway "
                                                                     "served for this model.")
    hours: float | None = Field(None, gt=0, le=24 * 366, description="Or: the requests of the last N hours.")
    version: int | None = Field(None, ge=1, description="Version to compare with; default the one serving "
                                                          "most of the live traffic, else the newest.")


class EvaluateArgs(ModelArgs):
    path: str = Field(description="New data with the target column (known outcomes).")
    version: int | None = Field(None, ge=1, description="Version to evaluate; default as for drift.")


class RetrainArgs(ModelArgs):
    path: str = Field(description="New data with the target column to train the challenger on.")
    include_old: bool = Field(False, description="Train on the old training data plus the new data.")


class WhenArgs(Args):
    condition: Literal["drifted", "decayed", "promote"] = Field(
        description="Go on only if the last check found drift, found decay, or recommends the challenger; "
                    "otherwise stop the plan here and say why.")


class ModelsArgs(Args):
    name: str | None = Field(None, description="One registered model PROJECT/MODEL; default all of them.")

    @field_validator("name", mode="before")
    @classmethod
    def _lower(cls, name):
        return name.strip().lower() if isinstance(name, str) else name


# A phrase template is one way of saying an action, e.g. "show [me] [the|some|a few] rows":
#   words     match themselves in any case; a space matches any run of white space
#   [a|b c]   optional: one of the alternatives or nothing;  (a|b c)  one of the alternatives
#   word*     the word or a longer form of it ("train*": trains, trained, training)
#   *         any one word ("first * rows": first 10 rows, first few rows)
#   ' and -   an optional apostrophe ("what's", "whats"); a hyphen, a space or nothing ("fine-tune")
_TOKENS = re.compile(r"[\[\]()|* ]|[^\[\]()|* ]+")
_WHOLE_WORD = re.compile(r"(?<![\w')-])[a-z]{3,}(?![\w('-])")


def phrase_regex(template: str) -> str:
    """The regular expression (source) that one phrase template compiles to; whole words only."""
    tokens = _TOKENS.findall(" ".join(template.split()))
    body, end = _alternatives(tokens, 0)
    if end != len(tokens):
        raise ValueError(f"unbalanced bracket in the phrase {template!r}")
    regex = rf"(?<![\w'])(?:{body})(?![\w'])"
    if re.fullmatch(regex, ""):
        raise ValueError(f"the phrase {template!r} can match nothing at all")
    return regex


def phrase_words(template: str) -> set[str]:
    """The whole words (three letters or more) a phrase template spells out: what a misspelling may mean."""
    return set(_WHOLE_WORD.findall(template.lower()))


def _alternatives(tokens: list[str], at: int) -> tuple[str, int]:
    options = []
    while True:
        option, at = _sequence(tokens, at)
        options.append(option)
        if at >= len(tokens) or tokens[at] != "|":
            return "|".join(options), at
        at += 1


def _sequence(tokens: list[str], at: int) -> tuple[str, int]:
    items: list[tuple[str, bool, bool]] = []  # (regex, optional, a space before it)
    spaced = False
    while at < len(tokens) and tokens[at] not in ("|", "]", ")"):
        token = tokens[at]
        if token in ("[", "("):
            inner, at = _alternatives(tokens, at + 1)
            if at >= len(tokens) or tokens[at] != {"[": "]", "(": ")"}[token]:
                raise ValueError(f"unbalanced bracket after {''.join(tokens[:at])!r}")
            items.append((f"(?:{inner})", token == "[", spaced))
        elif token == "*":
            items.append((r"\w*" if items and not spaced else r"[\w']+", False, spaced))
        elif token != " ":
            items.append(("".join(_CHARS.get(c, re.escape(c)) for c in token), False, spaced))
        spaced, at = token == " ", at + 1
    return _join(items), at


_CHARS = {"'": "'?", "-": r"[\s-]?"}


def _join(items: list[tuple[str, bool, bool]]) -> str:
    """Glue a sequence's items, each optional one taking a space with it so that leaving it out leaves one."""
    parts, first = [], True
    for n, (regex, optional, spaced) in enumerate(items):
        space = r"\s+" if spaced and not first else ""
        if optional and first and n + 1 < len(items) and items[n + 1][2]:
            parts.append(f"(?:{regex}\\s+)?")  # "[please] describe": the option takes the space after it
            continue
        parts.append(f"(?:{space}{regex})?" if optional else space + regex)
        first = False
    return "".join(parts)


# How people ask to go back in time: graph/rewind.py forks before the step they name, and the rule planner,
# which cannot fork, explains how.
GO_BACK = "(go back|going back|rewind|roll back|rollback|revert|undo|fork|return to)"


class Action(BaseModel):
    """One allowed action: the node that runs it, what it does, its argument schema and how people say it."""

    model_config = ConfigDict(frozen=True)
    name: str
    node: Literal["eda", "trainer", "tuner", "deployer", "monitor", "reporter"]
    description: str
    args: type[Args]
    examples: tuple[str, ...] = ()  # phrasings shown in the help (a test plans each one)
    phrases: tuple[str, ...] = ()  # phrase templates (above) of the words that ask for this action

    @field_validator("phrases")
    @classmethod
    def _compiles(cls, phrases: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in phrases:
            phrase_regex(phrase)
        return phrases


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action(name="load", node="eda", args=LoadArgs, description="Load a data file.",
           examples=("load samples/titanic.csv",),
           phrases=("(load|open|read|import|upload)",)),
    Action(name="set_target", node="eda", args=SetTargetArgs, description="Choose the target column.",
           examples=("the target is survived",),
           # the nouns that name the target; "predict X" is read by the planner itself
           phrases=("(target|label|outcome) [column|variable|col|field|feature]",)),
    Action(name="exclude", node="eda", args=ExcludeArgs,
           description=("Leave columns out of training (e.g. suspected leaks); applies to later train, tune "
                        "and predict steps."),
           examples=("exclude boat and body",),
           # the words before the column names
           phrases=("(exclude|excluding|drop|dropping|ignore|ignoring|remove|removing|omit|omitting|without)",
                    "(leave|leaving) out", "except [for]", "(don't|do not) (use|include)", "get rid of",
                    "forget [about]")),
    Action(name="preview", node="eda", args=PreviewArgs, description="Show the first rows of the data.",
           examples=("show the first 10 rows",),
           phrases=("(preview|head|peek|glimpse)", "(first|top|sample|example) [*] (rows|lines|records)",
                    "show [me] [the|some|a few|a couple of] (data|dataset|table|rows|lines|records|file)",
                    "(see|view|print) [me] [the|some|a few|a couple of] (rows|lines|records)",
                    "[a] (few|couple [of]) (rows|lines|records|examples)", "look at the (data|dataset|table)",
                    "what (does|do) the (data|dataset|table|rows) look like")),
    Action(name="describe", node="eda", args=NoArgs,
           description="Profile the data: types, missing values, target balance, leaks, plots.",
           examples=("describe the data",),
           phrases=("(describe|description|eda|exploratory|explore|profile|profiling|overview|statistics|stats"
                    "|analyse|analyze|analysis|inspect|info|shape|correlation*|correlate*|distribution*|plot*)",
                    "tell me about", "what's in", "what is in", "missing values", "how many (rows|columns)",
                    "(show|list|what are) [me] [the] columns", "[class|target] (balance|imbalance)",
                    "(balanced|imbalanced|unbalanced)", "(column|feature|data) types", "leak*",
                    "(check|dig into|look into) [out] [the] (data|dataset|table|columns)",
                    "(get|have) a (feel|sense) (for|of)", "what are we working with", "duplicate*",
                    "(what|which) (kind|kinds|type|types) of (columns|data|features)",
                    "(what|which) columns")),
    Action(name="train", node="trainer", args=TrainArgs,
           description="Train and evaluate models on a fixed held-out split.",
           examples=("train classifiers", "train a random forest and logreg"),
           phrases=("(train*|retrain*|fit|fits|fitting|build|create|try|trying|compare|comparing|modeling"
                    "|modelling|baseline*|classify)",
                    "run [*] (models|classifiers|regressors)",
                    "make [me] [a|some] (model|models|classifier|classifiers|regressor|regressors)",
                    "how (well|accurately|good) [can] (we|i|you|it) [can|could] predict",
                    "give [*] [*] a (shot|go|whirl|spin|try)",
                    "see (which|what) [model|one|algorithm] (works|does|performs)")),
    Action(name="predict", node="trainer", args=PredictArgs,
           description="Predict new rows with the best model; writes predictions.csv.",
           examples=("predict on new.csv",),
           # the verbs before the file of new rows
           phrases=("(predict*|score|scoring|inference|forecast*)",
                    "(apply|run|use) [the|my] [best|tuned|trained|final] model")),
    Action(name="tune", node="tuner", args=TuneArgs,
           description="Tune one model's hyper-parameters with Optuna.",
           examples=("optimize SVC with 50 trials", "tune the best one for 5 minutes"),
           phrases=("[fine-](tune|tunes|tuned|tuning)", "(hpo|optuna|squeeze)",
                    "(optimize|optimise|optimizing|optimising|optimization|optimisation)",
                    "(maximize|maximise|maximizing|maximising|minimize|minimise|minimizing|minimising)",
                    "hyper-param* (search|tuning|optimization|optimisation|sweep)",
                    "search [the|for] [better] hyper-param*", "(grid|random|bayesian) search",
                    "(improve|boost|push) [up] (it|its|the|that|this|performance|accuracy|score|results)",
                    "make (it|them|that|this) (better|stronger|more accurate)",
                    "(find|search for|look for) better (params|parameters|hyperparameters|settings)",
                    "get more out of")),
    Action(name="register", node="deployer", args=RegisterArgs,
           description="Register a model (default the best) as the next version of PROJECT/MODEL: an MLflow "
                       "model package with its experiment and training statistics.",
           examples=("register the best model as credit/risk",),
           phrases=("(register|registering|publish|package)", "add [*] [*] to the registry")),
    Action(name="deploy", node="deployer", args=DeployArgs,
           description="Deploy a registered version: a share of live traffic (canary) or a shadow copy of "
                       "every request; asks for approval.",
           examples=("deploy credit/risk v2 with 10% of the traffic", "mirror traffic to credit/risk v3"),
           phrases=("(deploy*|release|promote|ship|canary|rollout|roll out)", "(mirror*|shadow*)",
                    "(send|route|give) [*] [*] [*] (traffic|requests)")),
    Action(name="rollback", node="deployer", args=ModelArgs,
           description="Return a model's deployment to what it was before its last change; asks for "
                       "approval.",
           examples=("roll back credit/risk",),
           phrases=("(roll back|rollback|revert|undo)",)),
    Action(name="drift", node="monitor", args=DriftArgs,
           description="Compare new data (a file, or the requests a model served) with a registered "
                       "version's training data, feature by feature: PSI, KS / chi-squared, unseen levels, "
                       "missing values.",
           examples=("check drift of credit/risk on march.csv", "has credit/risk drifted this week?"),
           phrases=("drift*", "(shift|shifted|shifting) [data|distribution*]",
                    "(changed|changing) (data|inputs|distribution*)")),
    Action(name="evaluate", node="monitor", args=EvaluateArgs,
           description="Score a registered version on new labelled data beside its training-time metrics: "
                       "has its performance decayed beyond noise?",
           examples=("evaluate credit/risk on april_outcomes.csv",),
           phrases=("(evaluate|evaluating|evaluation|decay*|degrad*)", "(still|how) (good|accurate|well)",
                    "(outcomes|labels|ground truth)")),
    Action(name="retrain", node="trainer", args=RetrainArgs,
           description="Train a registered version's recipe on new data (or old + new) and compare the "
                       "challenger with the champion on one fresh holdout: promote or keep.",
           examples=("retrain credit/risk on april.csv",),
           phrases=("(retrain|retraining|refresh)",)),
    Action(name="when", node="monitor", args=WhenArgs,
           description="Go on with the plan only if the last check found drift (or decay, or recommends "
                       "promoting); otherwise stop and say why: `… and if it drifted retrain on it`.",
           phrases=("(if|when|once|should) [it|there|they|the (data|model|performance|challenger)] "
                    "(drifted|drifts|drift|shifted|decayed|decays|degraded|wins|won|is better|beats)",)),
    Action(name="models", node="reporter", args=ModelsArgs,
           description="Registered models, their versions and deployments, and recent serving metrics.",
           examples=("how is credit/risk doing?", "show the model registry"),
           phrases=("[model] registry", "registered [models]", "(deployments|deployed|serving|in production)",
                    "how (is|are) [it|my|our|the] [model|models|deployment|deployments] (doing|performing)",
                    "live (traffic|metrics)")),
    Action(name="best", node="reporter", args=BestArgs, description="Show the best model by a metric.",
           examples=("best model by F1", "which model has the lowest RMSE"),
           phrases=("(best|top|winner|winning|strongest|lowest|highest|smallest|largest)",
                    "which (model|one|classifier|regressor|algorithm)", "(who|which|what) won")),
    Action(name="history", node="reporter", args=HistoryArgs, description="List the experiments so far.",
           examples=("show the last 5 experiments",),
           phrases=("(history|experiment*|leaderboard)", "(runs|results) so far",
                    "(past|previous|recent|latest|last) [*] (runs|results|models)",
                    "(list|show|display) [all|the|my] (runs|results|models)",
                    "compare [the|all|my] (runs|results|experiments)",
                    "what (have|did|has) (we|i|you) (tried|try|trained|train|done|do|run|ran)",
                    "how (did|do|are|were) [the|my|our] (models|runs|experiments) (do|doing|perform*|go)",
                    "what (were|are) [the|my|our] results")),
    Action(name="report", node="reporter", args=NoArgs, description="Write a full report of the session.",
           examples=("write a report",),
           phrases=("(report|recap|wrap-up|write-up)", "session summary",
                    "(summary|summarize|summarise) [of] [the|this|our|my] (session|work|results|experiments"
                    "|everything|what we did|so far)", "sum (it|everything|things) up")),
    Action(name="help", node="reporter", args=NoArgs, description="Explain what the agent can do.",
           phrases=("(help|commands|usage|capabilities)", "what can (you|i) (do|ask|say)",
                    "what (do|can) you (do|know|understand|support)", "who are you", "what are you",
                    "how (do|can|should) i (use|start|begin)", "how does (this|it) work",
                    "where do i (start|begin)", "(what|which) (models|metrics|algorithms)",
                    "available (models|metrics)")),
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
