"""The `llm` reporter: a phrased summary whose numbers come from the records, else the template."""

import pytest
from langchain_core.messages import HumanMessage

from graph.context import Context
from nodes import reporter
from nodes.reporter_llm import invented_numbers, run
from tests.llm.fake_server import error_reply, text_reply

RECORD = {"id": "r1", "thread_id": "t1", "node": "tuner", "model": "svc", "task": "classification",
          "n_trials": 50, "metrics": {"accuracy": 0.8123456, "f1": 0.8011}}


def _state() -> dict:
    return {"messages": [HumanMessage(content="optimize SVC with 50 trials")], "experiments": [RECORD],
            "best": RECORD, "reply": "",
            "steps": [{"id": "t1s1", "node": "tuner", "action": "tune", "status": "done", "seconds": 3.0,
                       "error": None, "log": [], "result": {"markdown": "Tuned **svc**: accuracy 0.8123."}}]}


def test_summary_with_record_numbers_goes_above_the_template(fake_llm, ctx: Context) -> None:
    summary = "SVC tuned over 50 trials reached accuracy 0.812 (81.23%)."
    server = fake_llm(text_reply(f"<think>x</think>{summary}"))
    reply = run(None, _state(), ctx)["reply"]
    assert reply == f"{summary}\n\n{reporter.compose(_state())}"
    (body,) = server.chat_requests
    assert "tools" not in body and "0.8123456" in body["messages"][1]["content"]


@pytest.mark.parametrize("script", [text_reply("SVC reached accuracy 0.93 after 50 trials."),
                                    error_reply(401)], ids=["invented-number", "unreachable"])
def test_template_when_the_summary_cannot_be_trusted(fake_llm, ctx: Context, script) -> None:
    fake_llm(script)
    assert run(None, _state(), ctx)["reply"] == reporter.compose(_state())


def test_invented_numbers_ignores_metric_names_and_accepts_roundings() -> None:
    facts = {"experiments": [{"metrics": {"f1": 0.8011, "r2": 0.5}, "n_trials": 1200}]}
    assert invented_numbers("f1 0.80, r2 50.0%, 1,200 trials", facts, "") == []
    assert invented_numbers("f1 0.95 in 7 trials", facts, "7 rows") == ["0.95"]
