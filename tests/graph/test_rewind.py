"""Reading "go back to before X and …" requests."""

import pytest

from graph.rewind import Rewind, parse
from nodes.planner_rules import plan


@pytest.mark.parametrize("message, expected", [
    ("go back to before tuning and try random forest instead", Rewind("tune", "try random forest")),
    ("Go back to before the tuning step, then tune svc", Rewind("tune", "tune svc")),
    ("rewind to before training and train knn", Rewind("train", "train knn")),
    ("undo the training", Rewind("train", "")),
    ("go back to before the hyperparameter search", Rewind("tune", "")),
    ("revert to before the target and set the target to sex", Rewind("set_target", "set the target to sex")),
    ("roll back before describe", Rewind("describe", "")),
    ("fork before tuning and train knn", Rewind("tune", "train knn")),
    ("return to before training, then train svm", Rewind("train", "train svm")),
    ("go back to before excluding and train rf", Rewind("exclude", "train rf")),
])
def test_rewind_requests(message: str, expected: Rewind) -> None:
    assert parse(message) == expected


@pytest.mark.parametrize("message", ["train rf", "tune it again", "go back and train rf",
                                     "what does going back to before tuning do?"])
def test_other_messages_are_not_rewinds(message: str) -> None:
    assert parse(message) is None


@pytest.mark.parametrize("message", ["go back to before tuning", "rollback the training", "fork before eda",
                                     "undo the target"])
def test_the_rule_planner_reads_going_back_with_the_same_words(message: str) -> None:
    assert parse(message) is not None
    result = plan(message, {}, None)
    assert result.steps == [] and result.needs_input and "checkpoint" in result.reply
