"""The vocabulary's phrase templates and the exclude action."""

import re

import pytest
from pydantic import ValidationError

from graph.vocabulary import ACTIONS, GO_BACK, Action, NoArgs, phrase_regex, phrase_words, validate_step


@pytest.mark.parametrize(("template", "matching", "not_matching"), [
    ("show [me] [the|some|a few] rows", ["show rows", "Show me a few rows", "show  the rows"],
     ["show me", "shows rows", "show me the"]),
    ("[please] describe", ["please describe", "describe"], ["pleasedescribe"]),
    ("[a] [b] c", ["a b c", "b c", "a c", "c"], ["a b"]),
    ("x [a] [b]", ["x a b", "x b", "x"], ["x a a"]),
    ("experiment[s]", ["experiment", "experiments"], ["experimentss"]),
    ("train*", ["train", "training", "trained"], ["retrain"]),
    ("optimi(s|z)e", ["optimise", "optimize"], ["optimie"]),
    ("first * rows", ["first 10 rows", "first few rows"], ["first rows"]),
    ("what's in", ["what's in", "whats in"], ["what is in"]),
    ("[fine-](tune|tuning)", ["fine-tune", "fine tune", "finetuning", "tuning"], ["fine"]),
])
def test_templates_compile_to_whole_word_regexes(template: str, matching: list[str],
                                                 not_matching: list[str]) -> None:
    pattern = re.compile(phrase_regex(template), re.IGNORECASE)
    assert [s for s in matching if not pattern.fullmatch(s)] == []
    assert [s for s in not_matching if pattern.fullmatch(s)] == []


def test_templates_match_whole_words_only() -> None:
    pattern = re.compile(phrase_regex("train*"))
    assert pattern.search("please train it") and pattern.search("training, then")
    assert not pattern.search("retrain") and not pattern.search("strain")


@pytest.mark.parametrize("template", ["[a", "(a|b", "a]", "[a]", "[a|b] [c]"])
def test_broken_templates_are_refused(template: str) -> None:
    with pytest.raises(ValueError):
        phrase_regex(template)
    with pytest.raises(ValidationError):
        Action(name="x", node="eda", description="x", args=NoArgs, phrases=(template,))


def test_phrase_words_are_the_whole_words_spelt_out() -> None:
    assert phrase_words("show [me] [the|a few] rows* optimi(s|z)e what's") == {"show", "the", "few", "rows"}
    assert {"go", "back", "rewind", "undo"} - phrase_words(GO_BACK) == {"go"}


def test_every_action_but_help_says_how_people_ask_for_it() -> None:
    assert [name for name, action in ACTIONS.items() if not action.phrases] == []


def test_exclude_needs_at_least_one_column() -> None:
    assert validate_step("exclude", {"columns": ["boat"]}) == {
        "node": "eda", "action": "exclude", "args": {"columns": ["boat"]}}
    with pytest.raises(ValidationError):
        validate_step("exclude", {"columns": []})
    assert "later train, tune and predict" in ACTIONS["exclude"].description
