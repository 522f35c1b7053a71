"""Questions told from requests: a question never starts a run, though one about the data may show it.

Each sentence is a request ("train a forest", "let's see…"), a polite request ("can you train…?", "could you
tune it?"), a question ("which model is best?", "how many rows are there?": it may plan only read-only
steps), or a request for advice ("should I…", "is X better than Y", "why…", "in general": it plans nothing).
"""

import re
from typing import Any, Literal

from graph.vocabulary import phrase_regex

Kind = Literal["request", "question", "advice"]
# Steps a question may run: they look at the data, results or models and change nothing.
READ_ONLY = frozenset({"describe", "preview", "best", "history", "report", "help", "models", "drift",
                       "evaluate"})


def _starting(*templates: str) -> re.Pattern:
    return re.compile(r"^\s*(?:" + "|".join(phrase_regex(t) for t in templates) + ")", re.IGNORECASE)


def _anywhere(*templates: str) -> re.Pattern:
    return re.compile("|".join(phrase_regex(t) for t in templates), re.IGNORECASE)


_QUESTION = _starting(
    "(what|what's|why|how|when|who|where|which|whose|whom)",
    "(is|are|was|were|isn't|aren't|does|did|doesn't|didn't|has|have|hasn't|haven't|should|shall|may|might)",
    "do (i|we|you|they|it|the|this|these|those|my|our)", "(can|could|would|will) *",
    "(i wonder|i'm wondering|i am wondering|wondering|not sure) [if|whether]")
_POLITE = _starting(
    "[please] (can|could|would|will|won't) (you|u|we) [please]", "(can|could|may) i (see|get|have)",
    "(how|what) about", "why not", "why (don't|do not) (you|we)", "is it possible to",
    "would it be possible to", "(would|do) you mind")
_ADVICE = _anywhere(
    "should (i|we|one)", "in general", "(generally|usually|typically|normally|theoretically)", "in theory",
    "difference between", "what's the difference", "(differ|differs|versus|vs)",
    "(better|worse|faster|slower) than", "pros and cons", "trade-off*", "when to use",
    "(recommend|recommended|advice|advise|suggest)", "good idea", "worth it", "how (does|do) (a|an) * work")
_WHY = _starting("why")
# Words that open a sentence without changing what it asks ("hey, could you…?" is a polite request).
_OPENER = re.compile(r"^\s*(?:(?:hi|hey|hello|ok|okay|so|well|hmm+|alright|right|now|oh|great|cool|nice"
                     r"|thanks|thank\s+you|and|also)\b[\s,!.:;-]*)+", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """The sentences of a marked message, each with its closing mark ("?" tells a question)."""
    parts = re.split(r"((?:\.(?=\s|$)|[!?\n])+)", text)
    joined = [body + mark for body, mark in zip(parts[::2], [*parts[1::2], ""], strict=True)]
    return [s.strip() for s in joined if s.strip(" .!?\n")]


def kind(sentence: str) -> Kind:
    """Whether a sentence asks for steps, asks a question about the data or results, or asks for advice."""
    sentence = _OPENER.sub("", sentence)
    questioning = sentence.rstrip().endswith("?") or bool(_QUESTION.search(sentence))
    polite = bool(_POLITE.search(sentence))
    if (questioning or polite) and (_ADVICE.search(sentence) or (_WHY.search(sentence) and not polite)):
        return "advice"
    if polite or not questioning:
        return "request"
    return "question"


def reply(suggestions: list[str]) -> str:
    """The opening of the answer to questions that ran nothing: why, and the words that would run it."""
    if not suggestions:
        return ("I can't answer general questions: I plan data-science steps on your data. Here is what you "
                "can ask me.")
    said = " or ".join(f"`{s}`" for s in suggestions)
    return (f"That is a question, so I ran nothing: I can't answer general questions, only run steps on "
            f"your data. To try it on your data, say {said}.")


def words_for(step: dict[str, Any], said: dict[str, str]) -> str:
    """Words that plan `step` again, models named as the user named them (`said`: model key → words)."""
    args = step["args"]

    def models(keys: list[str]) -> str:
        return " and ".join(said.get(k, k.replace("_", " ")) for k in keys)

    def path(value: str) -> str:
        return f'"{value}"' if " " in value else value

    match step["action"]:
        case "load":
            return f"load {path(args['path'])}"
        case "set_target":
            return f"the target is {args['column']}"
        case "exclude":
            return f"exclude {', '.join(args['columns'])}"
        case "train":
            every = {"classification": "classifiers", "regression": "regressors"}.get(args["task"], "models")
            return f"train {models(args['models']) if args.get('models') else every}"
        case "tune":
            model = models([args["model"]]) if args.get("model") else "the best one"
            return f"tune {model} with {args['n_trials']} trials"
        case "predict":
            return f"predict on {path(args['path'])}"
    return step["action"]  # "describe", "history", "report": the action's name plans it
