"""Reading "go back to before X and …" requests."""

import pytest

from graph.rewind import Rewind, parse


@pytest.mark.parametrize("message, expected", [
    ("go back to before tuning and try random forest instead", Rewind("tune", "try random forest")),
    ("Go back to before the tuning step, then tune svc", Rewind("tune", "tune svc")),
    ("rewind to before training and train knn", Rewind("train", "train knn")),
    ("undo the training", Rewind("train", "")),
    ("go back to before the hyperparameter search", Rewind("tune", "")),
    ("revert to before the target and set the target to sex", Rewind("set_target", "set the target to sex")),
    ("roll back before describe", Rewind("describe", "")),
])
def test_rewind_requests(message: str, expected: Rewind) -> None:
    assert parse(message) == expected


@pytest.mark.parametrize("message", ["train rf", "tune it again", "go back and train rf",
                                     "what does going back to before tuning do?"])
def test_other_messages_are_not_rewinds(message: str) -> None:
    assert parse(message) is None
