"""Telling questions from requests, sentence by sentence."""

import pytest

from nodes import questions


@pytest.mark.parametrize("sentence", [
    "train a random forest", "let's see how well we can predict Status", "can you train a random forest?",
    "could you tune it?", "would you describe the data?", "hey, could you load titanic.csv?",
    "why not try boosting?", "please can you show the history?", "is it possible to tune knn?",
])
def test_requests(sentence: str) -> None:
    assert questions.kind(sentence) == "request"


@pytest.mark.parametrize("sentence", [
    "which model is best?", "how many rows are there?", "what are the columns?", "is the data balanced?",
    "what's the best model by accuracy", "does knn need scaled features?", "can random forest be tuned?",
])
def test_questions(sentence: str) -> None:
    assert questions.kind(sentence) == "question"


@pytest.mark.parametrize("sentence", [
    "should I use random forest or gradient boosting in general?", "is random forest better than svm?",
    "why did the svm do so badly?", "what is the difference between bagging and boosting?",
    "can you explain the difference between rf and svm?", "do you recommend xgboost?", "should we drop boat",
])
def test_requests_for_advice(sentence: str) -> None:
    assert questions.kind(sentence) == "advice"


def test_sentences_keep_their_closing_mark() -> None:
    assert questions.sentences("load data.csv. is it balanced? train rf!\ndone") == [
        "load data.csv.", "is it balanced?", "train rf!", "done"]
    assert questions.sentences("tune for 0.5 hours") == ["tune for 0.5 hours"]
