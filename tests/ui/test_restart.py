"""Restart the real `app.py serve` process and reopen the earlier thread from the checkpoint picker."""

import re

from gradio_client import Client, handle_file

from tests.ui.clients import SAMPLES, panels, text


def test_an_earlier_thread_reopens_with_its_history_after_a_restart(server):
    server.start()
    before = Client(server.url, verbose=False)
    chat = before.predict({"text": "the target is species, train logistic regression",
                           "files": [handle_file(str(SAMPLES / "penguins.csv"))]}, api_name="/chat")[0]
    first = panels(before)
    assert len(first["table"]["data"]) == 1
    server.stop()

    server.start()
    after = Client(server.url, verbose=False)
    fresh = panels(after)
    assert fresh["thread"] != first["thread"] and fresh["table"]["data"] == []
    assert first["thread"] in [value for _, value in fresh["picker"]["choices"]]

    reopened = after.predict(first["thread"], api_name="/open_thread")
    texts = [text(m) for m in reopened]
    assert re.search("the target is species, train logistic regression", texts[0])
    assert texts[-1] == text(chat[-1])
    assert "✓ trainer · train" in [m["metadata"].get("title") for m in reopened]
    restored = panels(after)
    assert restored["thread"] == first["thread"] and restored["table"]["data"] == first["table"]["data"]
    assert len(restored["checkpoints"]["data"]) == len(first["checkpoints"]["data"])
