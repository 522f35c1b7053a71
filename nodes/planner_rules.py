"""The `rules` planner: an offline, deterministic reading of a chat message into CONTRACT.md plan steps.

How it reads:
1. Paths and quoted strings are set aside (phrases.mark), then misspelt words are read as the vocabulary's
   words or the loaded dataset's column names, each with a note (nodes/spelling.py).
2. The message is cut into sentences, each a request, a question or a request for advice
   (nodes/questions.py), and the sentences into clauses (commas, "then", an "and" that starts a new request);
   a clause with no request of its own ("logreg and SVM", "50 trials") continues the one before it when
   that is of the same kind (nodes/intents.py).
3. A clause may load a file, set the target and leave columns out, then does at most one main action, found
   by the phrase templates of graph/vocabulary.py ("show [me] [the|some|a few] rows") in a fixed priority.
4. Steps keep the order the user wrote them in, with one exception: a target (or an exclusion that no later
   step would use) named after the train or tune step it is for moves to just before the first such step,
   never before a load ("train classifiers, the target is survived").

Choices:
- A question never starts a run. A question about the data or the results may plan read-only steps
  (describe, preview, best, history, report, help); any other question, and every request for advice, plans
  nothing and is answered with the words that would run it on the user's data ("train random forest and
  gradient boosting"). Polite requests ("can you train…?", "could you tune it?") are requests.
- It asks (a reply, no steps) only when the words themselves are unclear: an unknown model, an unknown or
  ambiguous column, "load" with no file, "predict" with no new data, tuning "the best" model when nothing is
  trained or planned, or "go back" (that is a fork from a checkpoint, not a plan).
- Column names (targets, excluded columns) are matched against the loaded dataset's schema (case, spaces and
  punctuation ignored, then containment or a close spelling, with a note); while no schema is known, or a
  new file is about to be loaded, the user's words are taken as they are and the eda node resolves them.
  Quoted names are kept verbatim.
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

import dataclasses
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.context import Context
from graph.protocols import PlanResult
from graph.state import AgentState
from graph.vocabulary import ACTIONS, GO_BACK, help_text, phrase_regex, phrase_words, validate_step
from nodes import intents, phrases, questions
from nodes.phrases import METRIC_CATALOG, MODEL_CATALOG, PATH_MARK
from nodes.spelling import Speller
from tools import formats, names
from tools.keys import METRICS, MODELS, PRIMARY_METRIC

PLANNER = "rules"
_COLUMNS_SHOWN = 25  # column names listed when asking which column is meant
_USES_COLUMNS = ("train", "tune")  # the steps a target or an exclusion must come before
_I = re.IGNORECASE

_GO_BACK = re.compile(phrase_regex(GO_BACK), _I)
_GREETING = re.compile(r"\s*(?:hi|hello|hey|hiya|howdy|good\s+(?:morning|afternoon|evening)|greetings)\b", _I)
_THANKS = re.compile(r"\s*(?:thanks|thank\s+you|thx|cheers)\b", _I)
_USING = re.compile(r"\b(?:use|using|with)\b", _I)
_USING_THE = re.compile(r"\b(?:with|using|for)\s+(?:the\s+|a\s+|my\s+)?$", _I)
_IT = re.compile(r"\b(?:it|that(?:\s+one|\s+model)?|this(?:\s+one|\s+model)?|the\s+model)\b", _I)

_TARGET_END = re.compile(r"\s+(?:with|using|via|by|then|for|on|in|from|so|because|while|when|given|based)\b"
                         r"|[,;]", _I)
_LIST_END = re.compile(r"\b(?:with|for|using|on|to|by|in|then|from|when|before|after|so|because|since|while"
                       r"|if|as)\b|[;:]", _I)
_LIST_SPLIT = re.compile(r"\s*(?:,|&|\b(?:and|or|plus|nor)\b)\s*", _I)
_VERSION = re.compile(r"\b(?:v|version\s*)(\d+)\b", _I)
_TRAFFIC = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s*cent\b)", _I)
_SHADOW = re.compile(r"\b(?:mirror\w*|shadow\w*)\b", _I)
_LAST_REQUESTS = re.compile(rf"\b(?:last|latest|past)\s+({phrases.NUMBER})\s+(?:requests|calls|predictions)",
                            _I)
_WITH_OLD = re.compile(r"\b(?:old|previous|original|existing|all)\s+(?:and\s+(?:the\s+)?new\s+)?"
                       r"(?:data|rows)\b|\bold\s*\+\s*new\b|\bplus\s+the\s+old\b", _I)
_NEW_VERSION = re.compile(r"\b(?:new|newest|latest|retrained)\s+(?:version|model|one)\b|\bchallenger\b", _I)
_CHECKS = ("drift", "evaluate", "retrain")
_ALL_ROWS = re.compile(r"\b(?:all|every|each)\s+(?:the\s+|of\s+the\s+)?(?:rows|data|records)"
                       r"|\b(?:full|whole|entire|complete)\s+(?:data(?:set)?|table|training\s+set)\b"
                       r"|\bno\s+(?:sub)?sampl\w*", _I)

# Words that may surround a target column name without being part of it.
_TARGET_FILLERS = frozenset("""
the a an column col variable field feature whether which if will would be is are was of my our this that it
its value values named called use using set make take with as to best better well them new data rows what
how who many much
""".split())
# Words around the names of columns to leave out.
_EXCLUDE_FILLERS = frozenset("""
the a an column columns col cols feature features variable variables field fields too also as well please
again it them both these those my our
""".split())
# Exclusion words that may also come before things other than columns ("train without sampling"): what
# follows them is left out only when it names a column.
_HEDGED = frozenset({"without", "except", "except for"})
_FILE_FILLERS = frozenset("the a an my our this that data dataset file table sample samples set please up it"
                          .split())
# The words the planner reads (what a misspelling is read as), and the model and metric names (left to the
# catalogs, which note "Read "bosting" as the model …").
_VOCABULARY = frozenset({w for a in ACTIONS.values() for p in a.phrases for w in phrase_words(p)}
                        | _TARGET_FILLERS | intents.OBJECT_FILLERS | phrases.COMMON_WORDS
                        | set(re.findall(r"[a-z]{3,}", phrases.NUMBER_WORDS)) | {"sampling", "timeout"})
_NAMES = {word for key, spec in [*MODELS.items(), *METRICS.items()] for synonym in (key, *spec.synonyms)
          for word in re.findall(r"[a-z]+", synonym)}
_SPELLER = Speller(_VOCABULARY, known=_NAMES | phrase_words(GO_BACK) | {"tries", "attempts"})


class _Ask(Exception):
    """The user must be asked instead of planned for; the message is the question."""


def plan(message: str, state: AgentState | None, ctx: Context | None = None) -> PlanResult:
    """Read `message` into plan steps in the order written, or into a reply that asks, answers or helps."""
    state = state or {}
    marked = phrases.mark(message)
    text, corrections = _SPELLER.correct(marked.text, _schema_names(state, marked))
    reader = _Reader(state, dataclasses.replace(marked, text=text), notes=corrections)
    try:
        reader.read()
    except _Ask as ask:
        return PlanResult(steps=[], planner=PLANNER, notes=reader.notes, reply=str(ask), needs_input=True)
    if not reader.steps:
        return PlanResult(steps=[], planner=PLANNER, notes=reader.notes,
                          reply=_no_action_reply(message, reader.asked))
    return PlanResult(steps=reader.steps, planner=PLANNER, notes=reader.notes)


def _schema_names(state: AgentState, marked: phrases.Marked) -> list[str]:
    """Column names a misspelling may mean: the loaded dataset's, unless another file is to replace it."""
    if marked.paths or any(s.get("action") == "load" for s in state.get("plan") or []):
        return []
    return [c["name"] for c in (state.get("dataset") or {}).get("columns") or [] if c.get("name")]


def _no_action_reply(message: str, asked: list[tuple[str, str | None]]) -> str:
    if _GREETING.match(message):
        opening = ("Hello! I am dsgraph, a data-science assistant: I load a table, profile it, "
                   "train and tune models.")
    elif _THANKS.match(message):
        opening = "You're welcome!"
    elif asked:
        opening = questions.reply([said for _, said in asked if said])
    else:
        opening = "I did not find a request I know in that. Here is what you can ask me."
    return f"{opening}\n\n{help_text()}"


def _in_order_of_use(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps in the order written, except that a target, or an exclusion no later step would use, named after
    the train or tune step it is for moves to just before the first such step (never before a load)."""
    ordered: list[dict[str, Any]] = []
    for n, step in enumerate(steps):
        at = len(ordered)
        used_later = any(s["action"] in _USES_COLUMNS for s in steps[n + 1:])
        if step["action"] == "set_target" or (step["action"] == "exclude" and not used_later):
            loaded = max((i + 1 for i, s in enumerate(ordered) if s["action"] == "load"), default=0)
            at = next((i for i in range(loaded, at) if ordered[i]["action"] in _USES_COLUMNS), at)
        ordered.insert(at, step)
    return ordered


def _condition(said: str) -> str:
    """The condition a "when" phrase names: drifted, decayed or promote."""
    lowered = said.lower()
    if re.search(r"decay|degrad", lowered):
        return "decayed"
    if re.search(r"win|won|better|beat", lowered):
        return "promote"
    return "drifted"


_PERIODS = {"hour": 1, "day": 24, "week": 168, "month": 720}


def _hours(plain: str) -> float | None:
    """A time window in hours: "this week", "today", "the last 3 days", "in the past 12 hours"."""
    if found := re.search(rf"\b(?:last|past)\s+({phrases.NUMBER})\s+(hour|day|week|month)s?\b", plain, _I):
        return float(phrases.to_int(found.group(1)) * _PERIODS[found.group(2).lower()])
    if found := re.search(r"\b(?:this|last|past)\s+(hour|day|week|month)\b", plain, _I):
        return float(_PERIODS[found.group(1).lower()])
    return 24.0 if re.search(r"\btoday\b", plain, _I) else None


def _which(choices: list[str], purpose: str) -> str:
    return f"Which column {purpose}: {' or '.join(choices)}?"


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
    asked: list[tuple[str, str | None]] = field(default_factory=list)  # unrun questions, words that run them
    target_words: set[str] = field(default_factory=set)  # the words of the clause that named the target

    def read(self) -> None:
        """Plan every clause of the message in order; raises `_Ask` when the user must be asked."""
        clauses = phrases.clauses(self.marked.text)
        rollback = any(intents.serving_action(self.marked.plain(c)) == "rollback" for c in clauses)
        if _GO_BACK.search(self.marked.text) and not rollback:
            raise _Ask("Going back needs a conversation and the step to go back before: in one, say "
                       "e.g. `go back to before tuning and train a random forest` (CLI: add `--thread ID`), "
                       "or fork from one of its checkpoints (`python app.py checkpoints --thread ID`, then "
                       "`python app.py resume --thread ID --checkpoint CID`).")
        ignored = []
        for clause, kind in intents.requests(self.marked):
            before = len(self.steps)
            if kind != "request" and not self._question(clause, kind):
                continue
            if kind == "request":
                self._clause(clause)
            understood = len(self.steps) > before or intents.main_action(self.marked, clause) is not None
            if not (understood or _GREETING.match(clause) or _THANKS.match(clause)):
                ignored.append(self.marked.plain(clause).strip())
        if self.steps:
            self.notes += [f"Not understood, ignored: {text!r}" for text in ignored]
            self.notes += [f"Not run, a question: {text!r}." + (f" To run it, say `{said}`." if said else "")
                           for text, said in self.asked]
        self.steps = _in_order_of_use(self.steps)

    def _question(self, clause: str, kind: questions.Kind) -> bool:
        """Plan a question's clause if it only reads (True); else plan nothing and note the words that would
        run it (False). Advice plans nothing."""
        steps, notes = len(self.steps), len(self.notes)
        try:
            self._clause(clause)
        except _Ask:
            pass
        planned = self.steps[steps:]
        if kind == "question" and planned and all(s["action"] in questions.READ_ONLY for s in planned):
            return True
        del self.steps[steps:], self.notes[notes:]
        plain = self.marked.plain(clause)
        mentions = MODEL_CATALOG.find(plain)
        said = {m.key: plain[m.start:m.end] for m in reversed(mentions)}
        runs = [s for s in planned if s["action"] not in questions.READ_ONLY]
        if not runs and mentions:
            runs = [validate_step("train", {"models": list(dict.fromkeys(m.key for m in mentions))})]
        self.asked.append((plain.strip(), ", then ".join(questions.words_for(s, said) for s in runs) or None))
        return False

    def _clause(self, clause: str) -> None:
        if condition := intents.SAYS["when"].search(clause):  # "if it drifted, retrain …": a step, then more
            self._add("when", {"condition": _condition(condition.group())})
            clause = clause[:condition.start()] + clause[condition.end():]
            if not self.marked.plain(clause).strip(" ,."):
                return
        action = intents.main_action(self.marked, clause)
        self.target_words = set()
        if action not in ("predict", *_CHECKS):  # their file is new rows, not the table to work on
            clause, excluded = self._exclusion(clause)
            action = intents.main_action(self.marked, clause) if excluded is not None else action
            plain = self.marked.plain(clause)
            paths = self.marked.paths_in(clause)
            for path in paths:
                self._add("load", {"path": path})
            if not paths and action is None and intents.SAYS["load"].search(plain):
                self._add("load", {"path": self._named_file(plain)})
            if column := self._target(clause, action):
                self._add("set_target", {"column": column})
            if excluded:
                self._add("exclude", {"columns": excluded})
            if action is None and (column or _USING.search(plain)) and MODEL_CATALOG.find(plain):
                action = "train"  # "predict the price with boosted trees", "use RF"
        if action:
            getattr(self, f"_{action}")(clause, self.marked.plain(clause))

    def _add(self, action: str, args: dict[str, Any]) -> None:
        step = validate_step(action, args)
        if self.steps and self.steps[-1]["action"] == "exclude" == action:
            merged = list(dict.fromkeys([*self.steps[-1]["args"]["columns"], *step["args"]["columns"]]))
            self.steps[-1] = validate_step("exclude", {"columns": merged})
        elif not self.steps or self.steps[-1] != step:
            self.steps.append(step)

    # --- main actions -----------------------------------------------------------------------------------

    def _predict(self, clause: str, plain: str) -> None:
        paths = self.marked.paths_in(clause)
        if not paths:
            raise _Ask("Which file should I predict? Give its path, e.g. \"predict on new_customers.csv\".")
        for path in paths:
            self._add("predict", {"path": path})

    def _train(self, clause: str, plain: str) -> None:
        verb = intents.SAYS["train"].search(plain)
        models = self._model_keys(plain, verb.end() if verb else None)
        task = intents.task(plain) or intents.task(self.marked.plain(self.marked.text)) or "auto"
        every_row = {"all_rows": True} if _ALL_ROWS.search(plain) else {}
        self._add("train", {"task": task} | ({"models": models} if models else {}) | every_row)

    def _tune(self, clause: str, plain: str) -> None:
        verb = intents.SAYS["tune"].search(plain)
        metric = self._metric(plain)
        models = self._model_keys(plain, verb.end() if verb else 0) or [self._model_to_tune(plain, metric)]
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

    def _register(self, clause: str, plain: str) -> None:
        self._add("register", {"name": self._model_name(plain)} | self._registered_model(plain))

    def _deploy(self, clause: str, plain: str) -> None:
        args: dict[str, Any] = {"name": self._model_name(plain)}
        if _NEW_VERSION.search(plain) and any(s["action"] == "retrain" for s in self.steps):
            self._add("register", {"name": args["name"], "experiment": "latest"})  # "shadow the new version"
        if version := _VERSION.search(plain):
            args["version"] = int(version.group(1))
        if intents.SAYS["deploy"].search(plain) and _SHADOW.search(plain):
            args["mode"] = "shadow"
        elif traffic := _TRAFFIC.search(plain):
            args["traffic"] = min(max(float(traffic.group(1)), 0.01), 100.0)
        self._add("deploy", args)

    def _drift(self, clause: str, plain: str) -> None:
        args: dict[str, Any] = {"name": self._model_name(plain)}
        if path := self._new_data(clause, plain, required=False):
            args["path"] = path
        elif last := _LAST_REQUESTS.search(plain):
            args["last"] = phrases.to_int(last.group(1))
        elif hours := _hours(plain):
            args["hours"] = hours
        if version := _VERSION.search(plain):
            args["version"] = int(version.group(1))
        self._add("drift", args)

    def _evaluate(self, clause: str, plain: str) -> None:
        args: dict[str, Any] = {"name": self._model_name(plain), "path": self._new_data(clause, plain)}
        if version := _VERSION.search(plain):
            args["version"] = int(version.group(1))
        self._add("evaluate", args)

    def _retrain(self, clause: str, plain: str) -> None:
        self._add("retrain", {"name": self._model_name(plain), "path": self._new_data(clause, plain),
                              "include_old": bool(_WITH_OLD.search(plain))})

    def _rollback(self, clause: str, plain: str) -> None:
        self._add("rollback", {"name": self._model_name(plain)})

    def _models(self, clause: str, plain: str) -> None:
        named = intents.MODEL_NAME.search(plain)
        self._add("models", {"name": named.group().lower()} if named else {})

    # --- arguments ----------------------------------------------------------------------------------------

    def _new_data(self, clause: str, plain: str, required: bool = True) -> str | None:
        """The file of new rows a check or a retrain is about: named in the clause, else the file of this
        message's previous check ("retrain on it"); asks when required and there is none."""
        if paths := self.marked.paths_in(clause):
            return paths[0]
        earlier = [s["args"]["path"] for s in self.steps if s["action"] in _CHECKS and s["args"].get("path")]
        if earlier and _IT.search(plain):
            return earlier[-1]
        if required:
            raise _Ask("Which file of new data? Give its path, e.g. \"retrain credit/risk on april.csv\" or "
                       "\"evaluate credit/risk on april_outcomes.csv\" (it needs the target column).")
        return None

    def _model_name(self, plain: str) -> str:
        """The registered model a clause means: named as PROJECT/MODEL, else the one this conversation last
        registered or deployed (in this message or before); asks when there is none."""
        if named := intents.MODEL_NAME.search(plain):
            return named.group().lower()
        earlier = [s["args"]["name"] for s in self.steps if "name" in s["args"]]
        if earlier or (self.state.get("serving") or {}).get("name"):
            return earlier[-1] if earlier else self.state["serving"]["name"]
        raise _Ask("Which registered model? Name it as PROJECT/MODEL, e.g. \"register the best model as "
                   "credit/risk\" or \"deploy credit/risk v2 with 10% of the traffic\".")

    def _registered_model(self, plain: str) -> dict[str, str]:
        """Which model a "register" clause means: one it names ("register the svc as …"), or "it" after this
        message trained a single model; {} means the best one."""
        if _NEW_VERSION.search(plain):  # "register the challenger", "… the retrained model"
            return {"experiment": "latest"}
        keys = [m.key for m in MODEL_CATALOG.find(plain)]
        trained = [s for s in self.steps if s["action"] in _USES_COLUMNS]
        if not keys and _IT.search(plain) and trained:
            last = trained[-1]["args"]
            keys = [last["model"]] if last.get("model") else list(last.get("models") or [])
            keys = keys if len(keys) == 1 else []
        if not keys:
            return {}
        known = {r["model"] for r in self.state.get("experiments") or []}
        if keys[0] not in known and not trained:
            raise _Ask(f"No {keys[0]} is trained in this conversation yet: train it first, or register the "
                       "best model (\"register the best model as credit/risk\").")
        return {"model": keys[0]}


    def _bounded(self, action: str, name: str, value: int, what: str) -> int:
        low, high = _bounds(action, name)
        if low <= value <= high:
            return value
        clamped = min(max(value, low), high)
        self.notes.append(f"Asked for {value} {what}; the allowed range is {low}–{high}, "
                          f"so I planned {clamped}.")
        return clamped

    def _model_keys(self, plain: str, start: int | None) -> list[str]:
        """The model keys named in a clause; asks when the verb's object (after `start`) is no known model."""
        mentions = MODEL_CATALOG.find(plain)
        unknown = [] if start is None else intents.unknown_object(plain, start, mentions)
        if unknown := [w for w in unknown if w not in self.target_words]:  # "… how well we can predict churn"
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
        listed = [c["name"] for c in dataset.get("columns") or [] if c.get("name")]
        return listed if listed and not self._loading() else None

    def _loading(self) -> bool:
        """Whether a new file will be loaded before this message's steps run (queued or planned)."""
        return any(s.get("action") == "load" for s in [*(self.state.get("plan") or []), *self.steps])

    def _target(self, clause: str, action: str | None) -> str | None:
        """The target column a clause names, if any; asks when it is unknown or ambiguous."""
        plain = re.sub(f"{PATH_MARK}\\d+{PATH_MARK}", " ", clause)
        found, trigger = intents.TARGET_AFTER.search(plain), "target"
        if (found and not found.group("link").strip() and action is not None
                and not _USING_THE.search(plain[:found.start()])):
            found = None  # "describe the target distribution": a noun, unlike "train with the label survived"
        if not (found and found.group("rest").strip()):
            found = intents.TARGET_BEFORE.search(plain) or intents.PREDICT_TARGET.search(plain)
            trigger = "predict" if found and found.re is intents.PREDICT_TARGET else "target"
        if not found:
            return None
        parts = _TARGET_END.split(found.group("rest"))
        rest = parts[-1] if found.re is intents.TARGET_BEFORE else parts[0]  # "train with X as the target": X
        quoted = self.marked.quotes_in(rest)
        words = [w for w in _words(self.marked.plain(rest)) if w.lower() not in _TARGET_FILLERS]
        if not quoted and not words:
            return None
        self.target_words = {w.lower() for w in words}
        said = quoted[0] if quoted else " ".join(words)
        columns = self._columns()
        choices = [said] if quoted else re.split(r"\s+(?:or|and)\s+|\s*[/|]\s*", said)
        purpose = "is the target"
        if columns is None and len(choices) > 1:
            raise _Ask(_which(choices, purpose) + f" Say e.g. \"the target is {choices[0]}\".")
        if columns is None:
            return said if quoted or trigger == "target" else words[-1]
        named = phrases.columns_named(said, columns)
        if len(named) > 1:
            raise _Ask(_which(named, purpose) + f" Say e.g. \"the target is {named[0]}\".")
        return named[0] if named else self._closest_column(said, quoted[:1] or words, columns, purpose)

    def _exclusion(self, clause: str) -> tuple[str, list[str] | None]:
        """The clause without the columns it leaves out ("without boat, body"), and those columns (None when
        it names none; [] when they were only planner words, as in "without sampling")."""
        found = intents.SAYS["exclude"].search(clause)
        if not found:
            return clause, None
        stop = _LIST_END.search(clause, found.end())
        end = stop.start() if stop else len(clause)
        blanked = clause[:found.start()] + " " * (end - found.start()) + clause[end:]
        columns = self._columns()
        hedged = found.group().lower() in _HEDGED
        excluded: list[str] = []
        for item in _LIST_SPLIT.split(clause[found.end():end]):
            quoted = self.marked.quotes_in(item)
            words = [w for w in _words(self.marked.plain(item)) if w.lower() not in _EXCLUDE_FILLERS]
            said = " ".join(words)
            named = phrases.columns_named(said, columns) if columns and not quoted else []
            if quoted or named:
                excluded += quoted or named
            elif not words or all(w.lower() in _VOCABULARY for w in words):
                continue
            elif columns is None:
                excluded.append(said)
            elif not hedged or len(names.columns_like(said, columns)) == 1:
                excluded.append(self._closest_column(said, words, columns, "should I leave out"))
        return blanked, list(dict.fromkeys(excluded))

    def _closest_column(self, said: str, words: list[str], columns: list[str], purpose: str) -> str:
        """The one column close to what the user said (with a note); asks when there are several or none."""
        similar = list(dict.fromkeys(c for w in words for c in names.columns_like(w, columns)))
        if len(similar) == 1:
            self.notes.append(f"No column is called \"{said}\"; using the closest, {similar[0]}.")
            return similar[0]
        if similar:
            raise _Ask(f"\"{said}\" could be several columns: {', '.join(similar)}. Which one {purpose}?")
        shown = ", ".join(columns[:_COLUMNS_SHOWN]) + (", …" if len(columns) > _COLUMNS_SHOWN else "")
        raise _Ask(f"The dataset has no column \"{said}\". Its columns are: {shown}. Which one {purpose}?")

    def _named_file(self, plain: str) -> str:
        """A file named without its extension ("load titanic"), looked up here and in samples/; else ask."""
        after = intents.SAYS["load"].split(plain, maxsplit=1)[-1]
        words = [w for w in re.findall(r"[\w.-]+", after) if w.lower() not in _FILE_FILLERS]
        if words:
            for folder in (Path.cwd(), Path.cwd() / "samples"):
                found = sorted(p for p in folder.glob(glob.escape(words[0]) + ".*")
                               if formats.is_data_file(p.name))
                if found:
                    path = str(found[0].relative_to(Path.cwd()))
                    self.notes.append(f"Read \"{words[0]}\" as the file {path}.")
                    return path
        raise _Ask("Which file should I load? Give its path, e.g. \"load samples/titanic.csv\" "
                   f"({formats.DESCRIPTION}).")
