"""The speller on its own: which misspellings it reads, which words it leaves alone, and its notes."""

import pytest

from nodes.spelling import PROTECTED, Speller

WORDS = ["the", "with", "show", "best", "train", "trial", "target", "optimize", "describe", "history",
         "accuracy", "trials", "stats", "print", "leak"]


@pytest.mark.parametrize(("said", "meant"), [
    ("teh", "the"), ("wiht", "with"), ("shwo", "show"), ("bset", "best"),  # short: a swap of neighbours
    ("trian", "train"), ("targt", "target"), ("trails", "trials"),  # one edit inside the word
    ("optimze", "optimize"), ("descibe", "describe"), ("hisotry", "history"), ("acuracy", "accuracy"),
])
def test_misspellings_are_read_as_the_word_meant(said: str, meant: str) -> None:
    note = f'Read "{said}" as "{meant}".'
    assert Speller(WORDS).correct(f"please {said} it") == (f"please {meant} it", [note])


@pytest.mark.parametrize("said", [
    "bext",  # a short word with a wrong letter: too many words are that close
    "brint",  # the first letter differs
    "prinx",  # the last letter differs
    "leaks",  # another form of a known word
    "stats",  # a known word
    "status",  # protected: a word of its own, one letter from "stats"
    "xyzzy",  # nothing close
])
def test_words_that_are_not_misspellings_stay(said: str) -> None:
    assert Speller(WORDS).correct(f"say {said}") == (f"say {said}", [])


def test_a_tie_between_two_words_corrects_nothing() -> None:
    assert Speller(["stats", "status"]).correct("staus") == ("staus", [])


def test_a_swap_wins_over_another_edit_at_the_same_distance() -> None:
    assert Speller(["train", "trial"]).correct("trian")[0] == "train"


def test_column_names_are_read_as_the_dataset_spells_them() -> None:
    text, notes = Speller(WORDS).correct("set the target to Staus", ["Loan_ID", "Status"])
    assert text == "set the target to Status" and notes == ['Read "Staus" as "Status".']
    assert Speller(WORDS).correct("drop garaeg area", ["Garage Area"])[0] == "drop garage area"


def test_a_capitalised_word_inside_a_sentence_is_only_read_as_a_column() -> None:
    assert Speller(WORDS).correct("the target is Stast") == ("the target is Stast", [])
    assert Speller(WORDS).correct("the target is stast")[0] == "the target is stats"
    assert Speller(WORDS).correct("Descibe it. Shwo it")[0] == "describe it. show it"


def test_identifiers_paths_and_contractions_are_not_words() -> None:
    text = "teh_col home.dest x/teh.csv what'd teh-ish"
    assert Speller(WORDS).correct(text) == (text, [])


def test_the_protected_list_holds_the_words_named_in_the_issue() -> None:
    assert {"test", "rest", "tree", "fit", "set"} <= PROTECTED
