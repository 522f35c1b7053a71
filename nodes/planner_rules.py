"""The `rules` planner: an offline, deterministic reading of a chat message into CONTRACT.md plan steps.

How it reads: the message is cut into clauses (commas, "then", an "and" that starts a new request); a clause
with no request of its own ("logreg and SVM", "50 trials") continues the one before it. A clause may load a
file and set the target, then does at most one main action; steps keep the order the user wrote them in.

Choices:
- It asks (a reply, no steps) only when the words themselves are unclear: an unknown model, an unknown or
  ambiguous target column, "load" with no file, "predict" with no new data, tuning "the best" model when
  nothing is trained or planned, or "go back" (that is a fork from a checkpoint, not a plan).
- Column names are matched against the loaded dataset's schema (case, spaces and punctuation ignored, then
  containment or a close spelling, with a note); while no schema is known, or a new file is about to be
  loaded, the user's words are taken as they are and the eda node resolves them.
- "Tune the best one" names the best model so far when the state holds experiments, and leaves the model
  out (the tuner's default: the best trained so far) when this same message trains first.
- "load titanic" (no extension) loads a data file of that name from the working folder or samples/.
- It does not refuse for want of a dataset: "train classifiers" with nothing loaded is still planned,
  because `app.py plan` shows plans without running them and `--data` queues the load outside the message;
  the nodes check their inputs and say "load a file first", so that check lives in one place.
- Counts beyond the vocabulary's bounds (trials, seconds, rows, limit) are clamped with a note, not
  refused: the rest of a multi-step message still runs, and the note states the limit.
- A time budget without a trial count ("tune it for 5 minutes") plans the most trials allowed, so that the
  time is what ends the search.
"""

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.context import Context
from graph.protocols import PlanResult
from graph.state import AgentState
from graph.vocabulary import ACTIONS, help_text, validate_step
from nodes import phrases
from nodes.phrases import METRIC_CATALOG, MODEL_CATALOG, PATH_MARK, Mention
from tools.keys import MODELS, PRIMARY_METRIC

PLANNER = "rules"
_COLUMNS_SHOWN = 25  # column names listed when asking which column is meant
_I = re.IGNORECASE

_PREDICT_PATH = re.compile(
    rf"\b(?:predict\w*|scor(?:e|ing)|inference|(?:apply|run|use)\s+(?:the\s+|my\s+)?(?:best\s+|tuned\s+"
    rf"|trained\s+|final\s+)?model)\s+(?:(?:on|for|in|of|from|to|at|with|using|the|a|my|new|unseen|fresh|data"
    rf"|rows|file|dataset|best|model)\s+)*{PATH_MARK}\d", _I)
_PREDICT_NOTHING = re.compile(r"(?:please\s+)?(?:make\s+|run\s+|get\s+)?(?:some\s+)?predict(?:ions?)?"
                              r"(?:\s+(?:on|for)\s+(?:the\s+)?(?:new|unseen)\s+data)?", _I)
_REPORT = re.compile(r"\b(?:report|recap|session\s+summary|wrap[\s-]?up"
                     r"|summar\w*\s+(?:of\s+)?(?:the\s+|this\s+|our\s+|my\s+)?"
                     r"(?:session|work|results|experiments|everything|what\s+we\s+did|so\s+far))\b", _I)
_SUMMARY = re.compile(r"\bsummar\w*", _I)
_DATA_WORDS = re.compile(r"\b(?:data|dataset|table|file|columns?|features?|frame|it)\b", _I)
_TUNE = re.compile(r"\b(?:tun(?:e|es|ed|ing)|fine[\s-]?tun\w*|optimi[sz]\w*|maximi[sz]\w*|minimi[sz]\w*"
                   r"|hpo|optuna|hyper[\s-]?param\w*\s+(?:search|tuning|optimi[sz]\w*|sweep)"
                   r"|search\s+(?:the\s+)?hyper|(?:grid|random|bayesian)\s+search)\b", _I)
_TRAIN = re.compile(r"\b(?:train\w*|fit|fits|fitting|build|create|try|trying|comparing|model(?:l)?ing"
                    r"|compare(?!\s+(?:the\s+)?(?:experiments|results|runs))|baselines?|classify"
                    r"|run\s+(?:\w+\s+)?(?:models|classifiers|regressors))\b", _I)
_HISTORY = re.compile(r"\b(?:history|experiments?|leaderboard|(?:runs|results)\s+so\s+far"
                      r"|(?:past|previous|recent|latest|last)\s+(?:\w+\s+)?(?:runs|results|models)"
                      r"|(?:list|show|display)\s+(?:all\s+|the\s+|my\s+)?(?:runs|results|models)"
                      r"|what\s+(?:have|did)\s+(?:we|i|you)\s+(?:tried|try|trained|train|done))\b", _I)
_BEST = re.compile(r"\b(?:best|top|winner|winning|strongest|lowest|highest|smallest|largest"
                   r"|which\s+(?:model|one|classifier|regressor|algorithm))\b", _I)
_DESCRIBE = re.compile(r"\b(?:describe|description|eda|exploratory|explore|profile|profiling|overview"
                       r"|statistics|stats|analy[sz]e|analysis|inspect|info|tell\s+me\s+about"
                       r"|what'?s\s+in|what\s+is\s+in|correlat\w*|distributions?|missing\s+values|plots?"
                       r"|shape|how\s+many\s+(?:rows|columns)"
                       r"|(?:show|list|what\s+are)\s+(?:me\s+)?(?:the\s+)?columns)\b", _I)
_PREVIEW = re.compile(r"\b(?:preview|head|peek|glimpse"
                      r"|(?:first|top|sample)\s+(?:\w+\s+)?(?:rows|lines|records)"
                      r"|show\s+(?:me\s+)?(?:the\s+|some\s+)?(?:data|dataset|table|rows|file)"
                      r"|look\s+at\s+the\s+data)\b", _I)
_HELP = re.compile(r"\b(?:help|commands|usage|what\s+can\s+(?:you|i)\s+(?:do|ask|say)|what\s+do\s+you\s+do"
                   r"|how\s+(?:do|can|should)\s+i\s+(?:use|start)|how\s+does\s+(?:this|it)\s+work"
                   r"|(?:what|which)\s+(?:models|metrics|algorithms)|available\s+(?:models|metrics))\b", _I)
_GO_BACK = re.compile(r"\b(?:go(?:ing)?\s+back|undo|revert|rewind|roll\s*back|fork)\b", _I)
_LOAD_VERB = re.compile(r"\b(?:load|open|read|import|upload)\b", _I)
_GREETING = re.compile(r"\s*(?:hi|hello|hey|hiya|howdy|good\s+(?:morning|afternoon|evening)|greetings)\b", _I)
_THANKS = re.compile(r"\s*(?:thanks|thank\s+you|thx|cheers)\b", _I)
_QUESTION = re.compile(r"\?\s*$|^\s*(?:what|why|how|when|who|where|is|are|can|could|should|does|do)\b", _I)
_USING = re.compile(r"\b(?:use|using|with)\b", _I)
_USING_THE = re.compile(r"\b(?:with|using|for)\s+(?:the\s+|a\s+|my\s+)?$", _I)
_IT = re.compile(r"\b(?:it|that(?:\s+one|\s+model)?|this(?:\s+one|\s+model)?|the\s+model)\b", _I)

_TARGET_AFTER = re.compile(r"\b(?:target|label|outcome)(?:\s+(?:column|variable|col|field|feature))?"
                           r"(?P<link>\s+(?:is|will\s+be|should\s+be|would\s+be|being|to|as)\s+"
                           r"|\s*(?:==?|:)\s*|\s+)"
                           r"(?P<rest>.*)", _I)
_TARGET_BEFORE = re.compile(r"^(?P<rest>.*?)\s+(?:is|as)\s+(?:the\s+|my\s+|our\s+)?"
                            r"(?:target|label|outcome)\b", _I)
_PREDICT_TARGET = re.compile(r"\bpredict(?:s|ing)?\s+(?P<rest>.+)", _I)
_TARGET_END = re.compile(r"\s+(?:with|using|via|by|then|for|on|in|from|so|because|while|when|given|based)\b"
                         r"|[,;]", _I)
_OBJECT_END = re.compile(r"\b(?:with|for|using|on|to|by|in|within|under|over|at|via|so|until|then"
                         r"|against|across|from|if|because|while|after|before|maximi[sz]\w*|minimi[sz]\w*)\b"
                         r"|[,;]", _I)
_ALL_ROWS = re.compile(r"\b(?:all|every|each)\s+(?:the\s+|of\s+the\s+)?(?:rows|data|records)"
                       r"|\b(?:full|whole|entire|complete)\s+(?:data(?:set)?|table|training\s+set)\b"
                       r"|\bno\s+(?:sub)?sampl\w*", _I)
_CLASSIFICATION = re.compile(r"\b(?:classif\w*|binary|multi-?class)\b", _I)
_REGRESSION = re.compile(r"\b(?:regress\w*|continuous)\b", _I)

# Words that may surround a target column name without being part of it.
_TARGET_FILLERS = frozenset("""
the a an column col variable field feature whether which if will would be is are was of my our this that it
its value values named called use using set make take with as to best better well them new data rows what
how who many much
""".split())
# Words that may stand between "train"/"tune" and the models without naming a model.
_OBJECT_FILLERS = frozenset("""
a an the some few several all any my our its it them this that these those one ones both each every best
top good better different various default simple quick basic standard new another other more model models
classifier classifiers regressor regressors algorithm algorithms estimator estimators baseline baselines
learner learners method methods approach approaches trial trials n_trials iterations rounds evaluations
and or plus also as well please again now further bit little quickly fast just then too hyperparameters
hyperparameter hyper parameters parameters params param search sweep settings tuning tune optimization
optimisation classification regression classify regress classifying predictive supervised machine learning
ml data dataset me us let lets let's can you could would i we want like do run try compare evaluate test
fit train couple lot of everything anything something whole
""".split())
_FILE_FILLERS = frozenset("the a an my our this that data dataset file table sample samples set please up it"
                          .split())

class _Ask(Exception):
    """The user must be asked instead of planned for; the message is the question."""


def plan(message: str, state: AgentState | None, ctx: Context | None = None) -> PlanResult:
    """Read `message` into plan steps in the order written, or into a reply that asks or helps."""
    reader = _Reader(state or {}, phrases.mark(message))
    try:
        reader.read()
    except _Ask as ask:
        return PlanResult(steps=[], planner=PLANNER, notes=reader.notes, reply=str(ask), needs_input=True)
    if not reader.steps:
        return PlanResult(steps=[], planner=PLANNER, notes=reader.notes, reply=_no_action_reply(message))
    return PlanResult(steps=reader.steps, planner=PLANNER, notes=reader.notes)


def _no_action_reply(message: str) -> str:
    if _GREETING.match(message):
        opening = ("Hello! I am dsgraph, a data-science assistant: I load a table, profile it, "
                   "train and tune models.")
    elif _THANKS.match(message):
        opening = "You're welcome!"
    elif _QUESTION.search(message):
        opening = ("I can't answer general questions: I plan data-science steps on your data. "
                   "Here is what you can ask me.")
    else:
        opening = "I did not find a request I know in that. Here is what you can ask me."
    return f"{opening}\n\n{help_text()}"


def _main_action(marked: phrases.Marked, clause: str, bare_models: bool = True) -> str | None:
    """The one action a clause asks for, by priority; None when it only loads, sets a target or continues.

    With `bare_models`, a clause that only names models ("random forest and logreg") means train them.
    """
    plain = marked.plain(clause)
    if _PREDICT_PATH.search(clause) or _PREDICT_NOTHING.fullmatch(plain.strip(" .!")):
        return "predict"
    if _REPORT.search(plain) or (_SUMMARY.search(plain) and not _DATA_WORDS.search(plain)):
        return "report"
    if _HISTORY.search(plain):
        return "history"
    if _TUNE.search(plain) or phrases.trials(plain) is not None:
        return "tune"
    if _TRAIN.search(plain):
        return "train"
    for action, pattern in (("best", _BEST), ("describe", _DESCRIBE)):
        if pattern.search(plain):
            return action
    if _SUMMARY.search(plain):
        return "describe"
    if _PREVIEW.search(plain) or phrases.rows(plain) is not None:
        return "preview"
    if _HELP.search(plain):
        return "help"
    mentions = MODEL_CATALOG.find(plain) if bare_models else []
    if mentions and not _unknown_words(plain, 0, len(plain), mentions):
        return "train"
    return None


def _has_request(marked: phrases.Marked, clause: str) -> bool:
    """Whether a clause asks for something itself, rather than continuing the previous one."""
    plain = marked.plain(clause)
    return bool(_main_action(marked, clause, bare_models=False) or PATH_MARK in clause
                or any(p.search(plain) for p in (_LOAD_VERB, _TARGET_AFTER, _TARGET_BEFORE, _PREDICT_TARGET)))


def _requests(marked: phrases.Marked) -> list[str]:
    """The clauses of a marked message, continuations ("50 trials", "and SVM") glued to their request."""
    merged: list[str] = []
    for clause in phrases.clauses(marked.text):
        action = _main_action(marked, clause)
        continues_tuning = (action == "tune" and merged and _main_action(marked, merged[-1]) == "tune"
                            and not MODEL_CATALOG.find(marked.plain(clause)))
        if merged and (continues_tuning or not _has_request(marked, clause)):
            merged[-1] = f"{merged[-1]}, {clause}"
        else:
            merged.append(clause)
    return merged


def _unknown_words(text: str, start: int, end: int | None, mentions: list[Mention]) -> list[str]:
    """Words in text[start:end] that are neither a known model or metric nor filler: an unknown model name."""
    chars = list(text)
    for mention in [*mentions, *METRIC_CATALOG.find(text, fuzzy=False)]:
        chars[mention.start:mention.end] = " " * (mention.end - mention.start)
    words = re.findall(r"[a-z][a-z0-9_'-]*", "".join(chars)[start:end].lower())
    return [w for w in words if w not in _OBJECT_FILLERS and not re.fullmatch(phrases.NUMBER_WORDS, w)]


def _unknown_object(text: str, start: int, mentions: list[Mention]) -> list[str]:
    """Unknown words in the object of the verb ending at `start` ("train a decision tree on …")."""
    stop = _OBJECT_END.search(text, start)
    return _unknown_words(text, start, stop.start() if stop else None, mentions)


def _task(text: str) -> str | None:
    """The task named by words like "classifiers" or "regression" (model names blanked out first)."""
    for mention in MODEL_CATALOG.find(text, fuzzy=False):
        text = text[:mention.start] + " " * (mention.end - mention.start) + text[mention.end:]
    classification, regression = _CLASSIFICATION.search(text), _REGRESSION.search(text)
    if bool(classification) != bool(regression):
        return "classification" if classification else "regression"
    return None


def _targets_first(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A target named anywhere in a message applies to all of it: set it right after the load before it."""
    ordered: list[dict[str, Any]] = []
    for step in steps:
        at = len(ordered)
        if step["action"] == "set_target":
            at = max((i + 1 for i, s in enumerate(ordered) if s["action"] == "load"), default=0)
        ordered.insert(at, step)
    return ordered


def _which_target(choices: list[str]) -> str:
    return f"Which column is the target: {' or '.join(choices)}? Say e.g. \"the target is {choices[0]}\"."


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?()[]{}\"'") for w in text.split() if w.strip(".,;:!?()[]{}\"'")]


def _bounds(action: str, name: str) -> tuple[int, int]:
    """The (ge, le) bounds of an action's integer argument, read from the vocabulary."""
    metadata = ACTIONS[action].args.model_fields[name].metadata
    low = next(m.ge for m in metadata if hasattr(m, "ge"))
    high = next(m.le for m in metadata if hasattr(m, "le"))
    return low, high


@dataclass
class _Reader:
    """Reads one message clause by clause, appending validated steps and notes."""

    state: AgentState
    marked: phrases.Marked
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def read(self) -> None:
        """Plan every clause of the message in order; raises `_Ask` when the user must be asked."""
        if _GO_BACK.search(self.marked.text):
            raise _Ask("Going back needs a conversation and the step to go back before: in one, say "
                       "e.g. `go back to before tuning and train a random forest` (CLI: add `--thread ID`), "
                       "or fork from one of its checkpoints (`python app.py checkpoints --thread ID`, then "
                       "`python app.py resume --thread ID --checkpoint CID`).")
        ignored = []
        for clause in _requests(self.marked):
            before = len(self.steps)
            self._clause(clause)
            understood = len(self.steps) > before or _main_action(self.marked, clause) is not None
            if not (understood or _GREETING.match(clause) or _THANKS.match(clause)):
                ignored.append(self.marked.plain(clause).strip())
        if self.steps:
            self.notes += [f"Not understood, ignored: {text!r}" for text in ignored]
        self.steps = _targets_first(self.steps)

    def _clause(self, clause: str) -> None:
        plain = self.marked.plain(clause)
        action = _main_action(self.marked, clause)
        if action != "predict":
            paths = self.marked.paths_in(clause)
            for path in paths:
                self._add("load", {"path": path})
            if not paths and action is None and _LOAD_VERB.search(plain):
                self._add("load", {"path": self._named_file(plain)})
            if column := self._target(clause, action):
                self._add("set_target", {"column": column})
            if action is None and (column or _USING.search(plain)) and MODEL_CATALOG.find(plain):
                action = "train"  # "predict the price with boosted trees", "use RF"
        if action:
            getattr(self, f"_{action}")(clause, plain)

    def _add(self, action: str, args: dict[str, Any]) -> None:
        step = validate_step(action, args)
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)

    # --- main actions -----------------------------------------------------------------------------------

    def _predict(self, clause: str, plain: str) -> None:
        paths = self.marked.paths_in(clause)
        if not paths:
            raise _Ask("Which file should I predict? Give its path, e.g. \"predict on new_customers.csv\".")
        for path in paths:
            self._add("predict", {"path": path})

    def _train(self, clause: str, plain: str) -> None:
        verb = _TRAIN.search(plain)
        models = self._models(plain, verb.end() if verb else None)
        task = _task(plain) or _task(self.marked.plain(self.marked.text)) or "auto"
        every_row = {"all_rows": True} if _ALL_ROWS.search(plain) else {}
        self._add("train", {"task": task} | ({"models": models} if models else {}) | every_row)

    def _tune(self, clause: str, plain: str) -> None:
        verb = _TUNE.search(plain)
        metric = self._metric(plain)
        models = self._models(plain, verb.end() if verb else 0) or [self._model_to_tune(plain, metric)]
        args: dict[str, Any] = {"metric": metric} if metric else {}
        seconds, trials = phrases.seconds(plain), phrases.trials(plain)
        if seconds is not None:
            args["timeout_s"] = self._bounded("tune", "timeout_s", seconds, "seconds of tuning")
        if trials is not None:
            args["n_trials"] = self._bounded("tune", "n_trials", trials, "trials")
        elif seconds is not None:
            args["n_trials"] = _bounds("tune", "n_trials")[1]
            self.notes.append(f"A time budget and no trial count: up to {args['n_trials']} trials within "
                              f"{seconds} s, so the time ends the search.")
        for model in models:
            self._add("tune", args | ({"model": model} if model else {}))

    def _best(self, clause: str, plain: str) -> None:
        metric = self._metric(plain)
        self._add("best", {"metric": metric} if metric else {})

    def _history(self, clause: str, plain: str) -> None:
        limit = phrases.limit(plain)
        self._add("history", {"limit": self._bounded("history", "limit", limit, "experiments")} if limit
                  else {})

    def _report(self, clause: str, plain: str) -> None:
        self._add("report", {})

    def _help(self, clause: str, plain: str) -> None:
        self._add("help", {})

    def _describe(self, clause: str, plain: str) -> None:
        self._add("describe", {})

    def _preview(self, clause: str, plain: str) -> None:
        rows = phrases.rows(plain)
        self._add("preview", {"rows": self._bounded("preview", "rows", rows, "rows")} if rows else {})

    # --- arguments ----------------------------------------------------------------------------------------

    def _bounded(self, action: str, name: str, value: int, what: str) -> int:
        low, high = _bounds(action, name)
        if low <= value <= high:
            return value
        clamped = min(max(value, low), high)
        self.notes.append(f"Asked for {value} {what}; the allowed range is {low}–{high}, "
                          f"so I planned {clamped}.")
        return clamped

    def _models(self, plain: str, start: int | None) -> list[str]:
        """The model keys named in a clause; asks when the verb's object (after `start`) is no known model."""
        mentions = MODEL_CATALOG.find(plain)
        if start is not None and (unknown := _unknown_object(plain, start, mentions)):
            raise _Ask(f"I don't know a model called \"{' '.join(unknown)}\". Models I can train: "
                       f"{', '.join(f'{k} ({m.label})' for k, m in MODELS.items())}. Which one did you mean?")
        keys: list[str] = []
        for mention in mentions:
            if mention.fuzzy:
                self.notes.append(f"Read \"{plain[mention.start:mention.end]}\" as the model {mention.key}.")
            if mention.key not in keys:
                keys.append(mention.key)
        return keys

    def _metric(self, plain: str) -> str | None:
        mentions = METRIC_CATALOG.find(plain)
        keys = list(dict.fromkeys(m.key for m in mentions))
        for mention in mentions:
            if mention.fuzzy:
                self.notes.append(f"Read \"{plain[mention.start:mention.end]}\" as the metric {mention.key}.")
        if len(keys) > 1:
            self.notes.append(f"Several metrics named ({', '.join(keys)}); using {keys[0]}.")
        return keys[0] if keys else None

    def _model_to_tune(self, plain: str, metric: str | None) -> str | None:
        """The model meant by "it" or "the best one"; None means the best model of this plan's training."""
        trained = [s for s in self.steps if s["action"] == "train"]
        if _IT.search(plain) and trained and len(trained[-1]["args"].get("models") or []) == 1:
            return trained[-1]["args"]["models"][0]
        if trained:
            return None
        dataset = self.state.get("dataset") or {}
        records = [] if self._loading() else [
            r for r in self.state.get("experiments") or []
            if not dataset.get("sha256") or (r.get("dataset") or {}).get("sha256") == dataset["sha256"]]
        if records:
            from tools.experiments import best  # scikit-learn loads only when there are results to rank

            if record := best(records, metric, dataset.get("task")):
                ranked_by = metric or PRIMARY_METRIC[record["task"]]
                self.notes.append(f"The best model so far by {ranked_by} is {record['model']}: tuning it.")
                return record["model"]
        why = f"no experiment so far reports {metric}" if records else "nothing is trained on this data yet"
        raise _Ask(f"Which model should I tune? I can't tell the best one: {why}. Say e.g. \"tune random "
                   "forest with 30 trials\" or \"train classifiers and tune the best one\". "
                   f"Models: {', '.join(MODELS)}.")

    def _columns(self) -> list[str] | None:
        """The loaded dataset's column names; None when unknown or about to change (a load is planned)."""
        dataset = self.state.get("dataset") or {}
        names = [c["name"] for c in dataset.get("columns") or [] if c.get("name")]
        return names if names and not self._loading() else None

    def _loading(self) -> bool:
        """Whether a new file will be loaded before this message's steps run (queued or planned)."""
        return any(s.get("action") == "load" for s in [*(self.state.get("plan") or []), *self.steps])

    def _target(self, clause: str, action: str | None) -> str | None:
        """The target column a clause names, if any; asks when it is unknown or ambiguous."""
        plain = re.sub(f"{PATH_MARK}\\d+{PATH_MARK}", " ", clause)
        found, trigger = _TARGET_AFTER.search(plain), "target"
        if (found and not found.group("link").strip() and action is not None
                and not _USING_THE.search(plain[:found.start()])):
            found = None  # "describe the target distribution": a noun, unlike "train with the label survived"
        if not (found and found.group("rest").strip()):
            found = _TARGET_BEFORE.search(plain) or _PREDICT_TARGET.search(plain)
            trigger = "predict" if found and found.re is _PREDICT_TARGET else "target"
        if not found:
            return None
        parts = _TARGET_END.split(found.group("rest"))
        rest = parts[-1] if found.re is _TARGET_BEFORE else parts[0]  # "train with X as the target": X
        quoted = self.marked.quotes_in(rest)
        words = [w for w in _words(self.marked.plain(rest)) if w.lower() not in _TARGET_FILLERS]
        if not quoted and not words:
            return None
        said = quoted[0] if quoted else " ".join(words)
        columns = self._columns()
        choices = [said] if quoted else re.split(r"\s+(?:or|and)\s+|\s*[/|]\s*", said)
        if columns is None and len(choices) > 1:
            raise _Ask(_which_target(choices))
        if columns is None:
            return said if quoted or trigger == "target" else words[-1]
        return self._known_column(said, quoted[:1] or words, columns)

    def _known_column(self, said: str, words: list[str], columns: list[str]) -> str:
        named = phrases.columns_named(said, columns)
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise _Ask(_which_target(named))
        similar = list(dict.fromkeys(c for w in words for c in phrases.columns_like(w, columns)))
        if len(similar) == 1:
            self.notes.append(f"No column is called \"{said}\"; using the closest, {similar[0]}.")
            return similar[0]
        if similar:
            raise _Ask(f"\"{said}\" could be several columns: {', '.join(similar)}. Which one is the target?")
        shown = ", ".join(columns[:_COLUMNS_SHOWN]) + (", …" if len(columns) > _COLUMNS_SHOWN else "")
        raise _Ask(f"The dataset has no column \"{said}\". Its columns are: {shown}. "
                   "Which one is the target?")

    def _named_file(self, plain: str) -> str:
        """A file named without its extension ("load titanic"), looked up here and in samples/; else ask."""
        after = _LOAD_VERB.split(plain, maxsplit=1)[-1]
        words = [w for w in re.findall(r"[\w.-]+", after) if w.lower() not in _FILE_FILLERS]
        if words:
            for folder in (Path.cwd(), Path.cwd() / "samples"):
                found = sorted(p for p in folder.glob(glob.escape(words[0]) + ".*")
                               if phrases.is_data_file(p.name))
                if found:
                    path = str(found[0].relative_to(Path.cwd()))
                    self.notes.append(f"Read \"{words[0]}\" as the file {path}.")
                    return path
        raise _Ask("Which file should I load? Give its path, e.g. \"load samples/titanic.csv\" "
                   "(CSV, TSV, Parquet, JSON or Excel).")
