"""What each clause of a message asks for: its main action, found by the phrase templates of
graph/vocabulary.py, and the clauses grouped into requests (a clause with no request of its own continues
the one before it)."""

import re

from graph.vocabulary import ACTIONS, phrase_regex
from graph.vocabulary import MODEL_NAME as MODEL_NAME_PATTERN
from nodes import phrases, questions
from nodes.phrases import METRIC_CATALOG, MODEL_CATALOG, PATH_MARK, Mention

_I = re.IGNORECASE


def _said(*templates: str) -> str:
    """One regular expression (source) for several phrase templates."""
    return "|".join(phrase_regex(t) for t in templates)


# Each action's phrase templates as one regular expression.
SAYS = {name: re.compile(_said(*action.phrases), _I) for name, action in ACTIONS.items() if action.phrases}
_PREDICT_PATH = re.compile(
    rf"(?:{SAYS['predict'].pattern})\s+(?:(?:on|for|in|of|from|to|at|with|using|the|a|my|new|unseen|fresh"
    rf"|data|rows|file|dataset|best|model)\s+)*{PATH_MARK}\d", _I)
_PREDICT_NOTHING = re.compile(_said("[please] [make|run|get] [some] (predict|prediction|predictions) "
                                   "[(on|for) [the] (new|unseen) data]"), _I)
_SUMMARY = re.compile(r"\bsummar\w*", _I)
_ON_NEW_DATA = re.compile(r"\bon\s+(?:it|that|them|this|the\s+new\s+data)\b", _I)
_HOW_IS = re.compile(r"\b(?:doing|performing|going|metrics|latency|status|stats)\b", _I)
MODEL_NAME = re.compile(rf"(?<![\w/.-]){MODEL_NAME_PATTERN}(?![\w/.-])", _I)
_DEPLOYMENT_WORDS = re.compile(r"\b(?:deploy\w*|release|rollout|canary|traffic|shadow|mirror\w*|serving)\b",
                               _I)
_DATA_WORDS = re.compile(r"\b(?:data|dataset|table|file|columns?|features?|frame|it)\b", _I)

_TARGET = SAYS["set_target"].pattern
TARGET_AFTER = re.compile(rf"(?:{_TARGET})(?P<link>\s+(?:is|will\s+be|should\s+be|would\s+be|being|to|as)\s+"
                          r"|\s*(?:==?|:)\s*|\s+)(?P<rest>.*)", _I)
TARGET_BEFORE = re.compile(rf"^(?P<rest>.*?)\s+(?:is|as)\s+(?:the\s+|my\s+|our\s+)?(?:{_TARGET})", _I)
PREDICT_TARGET = re.compile(r"\bpredict(?:s|ing)?\s+(?P<rest>.+)", _I)
_OBJECT_END = re.compile(r"\b(?:with|for|using|on|to|by|in|within|under|over|at|via|so|until|then"
                         r"|against|across|from|if|because|while|after|before|maximi[sz]\w*|minimi[sz]\w*)\b"
                         r"|[,;]", _I)
_CLASSIFICATION = re.compile(r"\b(?:classif\w*|binary|multi-?class)\b", _I)
_REGRESSION = re.compile(r"\b(?:regress\w*|continuous)\b", _I)

# Words that may stand between "train"/"tune" and the models without naming a model.
OBJECT_FILLERS = frozenset("""
a an the some few several all any my our its it them this that these those one ones both each every best
top good better different various default simple quick basic standard new another other more model models
classifier classifiers regressor regressors algorithm algorithms estimator estimators baseline baselines
learner learners method methods approach approaches trial trials n_trials iterations rounds evaluations
and or plus also as well please again now further bit little quickly fast just then too hyperparameters
hyperparameter hyper parameters parameters params param search sweep settings tuning tune optimization
optimisation classification regression classify regress classifying predictive supervised machine learning
ml data dataset me us let lets let's can you could would i we want like do run try compare evaluate test
fit train couple lot of everything anything something whole performance out juice score results extra how
what about
""".split())


def main_action(marked: phrases.Marked, clause: str, bare_models: bool = True) -> str | None:
    """The one action a clause asks for, by priority; None when it only loads, sets a target or continues.

    With `bare_models`, a clause that only names models ("random forest and logreg") means train them.
    """
    plain = marked.plain(clause)
    if serving := serving_action(plain, with_file=PATH_MARK in clause):
        return serving
    if _PREDICT_PATH.search(clause) or _PREDICT_NOTHING.fullmatch(plain.strip(" .!")):
        return "predict"
    if SAYS["report"].search(plain) or (_SUMMARY.search(plain) and not _DATA_WORDS.search(plain)):
        return "report"
    if SAYS["history"].search(plain):
        return "history"
    if SAYS["tune"].search(plain) or phrases.trials(plain) is not None:
        return "tune"
    if SAYS["train"].search(plain):
        return "train"
    if SAYS["preview"].search(plain) and phrases.rows(plain) is not None:
        return "preview"  # "the top 5 rows" names rows, not the best model
    for action in ("best", "describe"):
        if SAYS[action].search(plain):
            return action
    if _SUMMARY.search(plain):
        return "describe"
    if SAYS["preview"].search(plain) or phrases.rows(plain) is not None:
        return "preview"
    if SAYS["help"].search(plain):
        return "help"
    mentions = MODEL_CATALOG.find(plain) if bare_models else []
    if mentions and not unknown_words(plain, 0, len(plain), mentions):
        return "train"
    return None


def serving_action(plain: str, with_file: bool = False) -> str | None:
    """An MLOps action when a clause asks for one: retrain, drift, evaluate, register, rollback, models or
    deploy (a rollback names a model or a deployment: "roll back to before tuning" is a fork)."""
    for action in ("retrain", "drift", "evaluate"):  # a retrain or an evaluation is of a registered model
        if SAYS[action].search(plain) and (action == "drift" or with_file or MODEL_NAME.search(plain)
                                           or _ON_NEW_DATA.search(plain)):
            return action
    if SAYS["register"].search(plain):
        return "register"
    if SAYS["rollback"].search(plain):
        return "rollback" if MODEL_NAME.search(plain) or _DEPLOYMENT_WORDS.search(plain) else None
    if SAYS["models"].search(plain) or (MODEL_NAME.search(plain) and _HOW_IS.search(plain)):
        return "models"  # before deploy: "which models are deployed?" asks, it does not deploy
    if SAYS["deploy"].search(plain):
        return "deploy"
    return None


def has_request(marked: phrases.Marked, clause: str) -> bool:
    """Whether a clause asks for something itself, rather than continuing the previous one."""
    plain = marked.plain(clause)
    return bool(main_action(marked, clause, bare_models=False) or PATH_MARK in clause
                or any(p.search(plain) for p in (SAYS["load"], SAYS["exclude"], TARGET_AFTER,
                                                 TARGET_BEFORE, PREDICT_TARGET)))


def requests(marked: phrases.Marked) -> list[tuple[str, questions.Kind]]:
    """The clauses of a marked message with the kind of their sentence, continuations ("50 trials", "and
    SVM") glued to the request before them when it is of the same kind."""
    merged: list[tuple[str, questions.Kind]] = []
    for sentence in questions.sentences(marked.text):
        kind = questions.kind(marked.plain(sentence))
        for clause in phrases.clauses(sentence):
            action = main_action(marked, clause)
            continues_tuning = (action == "tune" and merged and main_action(marked, merged[-1][0]) == "tune"
                                and not MODEL_CATALOG.find(marked.plain(clause)))
            if merged and merged[-1][1] == kind and (continues_tuning or not has_request(marked, clause)):
                merged[-1] = (f"{merged[-1][0]}, {clause}", kind)
            else:
                merged.append((clause, kind))
    return merged


def unknown_words(text: str, start: int, end: int | None, mentions: list[Mention]) -> list[str]:
    """Words in text[start:end] that are neither a known model or metric nor filler: an unknown model name."""
    chars = list(text)
    for mention in [*mentions, *METRIC_CATALOG.find(text, fuzzy=False)]:
        chars[mention.start:mention.end] = " " * (mention.end - mention.start)
    words = re.findall(r"[a-z][a-z0-9_'-]*", "".join(chars)[start:end].lower())
    return [w for w in words if w not in OBJECT_FILLERS and not re.fullmatch(phrases.NUMBER_WORDS, w)]


def unknown_object(text: str, start: int, mentions: list[Mention]) -> list[str]:
    """Unknown words in the object of the verb ending at `start` ("train a decision tree on …")."""
    stop = _OBJECT_END.search(text, start)
    return unknown_words(text, start, stop.start() if stop else None, mentions)


def task(text: str) -> str | None:
    """The task named by words like "classifiers" or "regression" (model names blanked out first)."""
    for mention in MODEL_CATALOG.find(text, fuzzy=False):
        text = text[:mention.start] + " " * (mention.end - mention.start) + text[mention.end:]
    classification, regression = _CLASSIFICATION.search(text), _REGRESSION.search(text)
    if bool(classification) != bool(regression):
        return "classification" if classification else "regression"
    return None
