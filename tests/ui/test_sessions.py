"""gradio_client against the real app and agent: sessions are disjoint, Stop ends a long tune cleanly."""

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
from gradio_client import Client, handle_file

from tests.ui.clients import SAMPLES, panels, sha, text


def test_two_concurrent_sessions_have_disjoint_threads_workspaces_and_downloads(app):
    url, agent = app
    a, b = Client(url, verbose=False), Client(url, verbose=False)
    jobs = [a.submit({"text": "the target is survived, train logistic regression",
                      "files": [handle_file(str(SAMPLES / "titanic.csv"))]}, api_name="/chat"),
            b.submit({"text": "the target is species, train logistic regression",
                      "files": [handle_file(str(SAMPLES / "penguins.csv"))]}, api_name="/chat")]
    chats = [job.result(timeout=240)[0] for job in jobs]
    for chat, data in zip(chats, ("titanic.csv", "penguins.csv"), strict=True):
        assert data in text(chat[0]) and "✓ trainer · train" in [m["metadata"].get("title") for m in chat]
    assert "penguins" not in str(chats[0]) and "titanic" not in str(chats[1])

    pa, pb = panels(a), panels(b)
    assert pa["thread"] != pb["thread"]
    workspaces = agent.home / "workspaces"
    assert [p.name for p in (workspaces / pa["thread"] / "uploads").iterdir()] == ["titanic.csv"]
    assert [p.name for p in (workspaces / pb["thread"] / "uploads").iterdir()] == ["penguins.csv"]
    for panel in (pa, pb):
        column = panel["table"]["headers"].index("thread")
        assert {row[column] for row in panel["table"]["data"]} == {panel["thread"]}
    names = [{Path(p).name for p in panel["downloads"]} for panel in (pa, pb)]
    assert "best_model.joblib" in names[0] & names[1]
    assert not {sha(p) for p in pa["downloads"]} & {sha(p) for p in pb["downloads"]}
    assert all(pb["thread"] not in Path(p).name for p in pa["downloads"])

    # The home is never an allowed path: no URL reaches another session's workspace.
    other = workspaces / pb["thread"] / "best_model.joblib"
    assert other.is_file()
    try:
        urllib.request.urlopen(f"{url}gradio_api/file={other}", timeout=10)
        raise AssertionError("another session's model was downloadable")
    except urllib.error.HTTPError as err:
        assert err.code == 403


def test_stop_ends_a_200_trial_tune_after_the_running_trial_and_keeps_the_trials(app):
    url, agent = app
    tuner, other = Client(url, verbose=False), Client(url, verbose=False)
    job = tuner.submit({"text": "the target is species, tune logistic regression with 200 trials",
                        "files": [handle_file(str(SAMPLES / "penguins.csv"))]}, api_name="/chat")
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 3 and time.monotonic() < deadline:
        seen = trials_reported(job)
        time.sleep(0.2)
    assert seen >= 3, "the tune never reported progress"

    # Another session is served while the tune runs (the long turn does not block it).
    reply = other.predict({"text": "help", "files": []}, api_name="/chat")[0]
    assert not job.done() and len(reply) >= 2

    seen = trials_reported(job)  # trials are fast: more have finished while the other session was served
    asked = time.monotonic()
    tuner.predict(api_name="/stop")
    chat, progress, _, _ = job.result(timeout=120)
    assert time.monotonic() - asked < 30
    assert "stopped on request" in progress
    finished = int(re.search(r"trial (\d+) of 200", progress).group(1))
    assert seen <= finished <= seen + 3 < 200  # the running trial ends, no new one starts

    tune_step = next(m for m in chat if (m.get("metadata") or {}).get("title") == "✓ tuner · tune")
    assert f"({finished} finished trials)" in text(tune_step)
    thread = panels(tuner)["thread"]
    record = next(r for r in agent.history(thread) if r["node"] == "tuner")
    assert record["n_trials"] == finished
    study = optuna.load_study(study_name=record["id"], storage=f"sqlite:///{agent.home / 'optuna.db'}")
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials) == finished


def trials_reported(job) -> int:
    """The newest "trial N of 200" a streaming chat job has shown (0 before the first)."""
    outputs = job.outputs()
    found = re.search(r"trial (\d+) of 200", outputs[-1][1]) if outputs else None
    return int(found.group(1)) if found else 0
