"""The `llm` planner against a scripted OpenAI-compatible server on 127.0.0.1 (ChatNVIDIA with base_url)."""

import json
import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from graph.context import Context
from graph.vocabulary import MAX_TRIALS
from nodes.planner_llm import plan
from tests.llm.conftest import dataset_ref
from tests.llm.fake_server import Reply, error_reply, text_reply, tool_reply
from tools.keys import METRICS, MODELS

TITANIC = Path(__file__).resolve().parents[2] / "samples" / "titanic.csv"


def _state(message: str, **extra: object) -> dict:
    return {"messages": [HumanMessage(content=message)], "thread_id": "t1", **extra}


def _system(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "system")


def test_two_tool_calls_become_two_steps_in_order(fake_llm, ctx: Context) -> None:
    tune = {"model": "svc", "n_trials": 50, "metric": "f1"}
    server = fake_llm(tool_reply(("describe", {}), ("tune", tune)))
    message = "describe the data, then optimize SVC with 50 trials for F1"
    state = _state(message, dataset=dataset_ref(TITANIC, "survived", "classification"))

    result = plan(message, state, ctx)

    assert result.planner == "llm" and result.reply is None
    assert result.steps == [
        {"node": "eda", "action": "describe", "args": {}},
        {"node": "tuner", "action": "tune", "args": tune},
    ]
    assert any("nvidia/nvidia-nemotron-nano-9b-v2" in n and server.url in n for n in result.notes)
    (body,) = server.chat_requests
    assert body["model"] == "nvidia/nvidia-nemotron-nano-9b-v2" and body["temperature"] == 0
    assert _system(body).rstrip().endswith("/no_think")
    assert body["messages"][-1] == {"role": "user", "content": message}
    chat = next(r for r in server.requests if r.path.endswith("/chat/completions"))
    assert chat.headers["Authorization"] == "Bearer nvapi-dummy-test-key"


def test_request_tools_carry_enums_and_bounds(fake_llm, ctx: Context) -> None:
    server = fake_llm(tool_reply(("help", {})))
    plan("what can you do?", _state("what can you do?"), ctx)
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in server.chat_requests[0]["tools"]}
    assert set(tools) >= {"load", "set_target", "preview", "describe", "train", "predict", "tune", "best",
                          "history", "report", "help"}
    assert tools["tune"]["properties"]["n_trials"]["maximum"] == MAX_TRIALS
    assert tools["tune"]["properties"]["model"]["enum"] == list(MODELS)
    assert tools["best"]["properties"]["metric"]["enum"] == list(METRICS)


def test_thinking_budget_is_sent_when_configured(fake_llm, ctx: Context, monkeypatch) -> None:
    monkeypatch.setenv("DSGRAPH_LLM_THINKING", "256")
    server = fake_llm(tool_reply(("help", {})))
    plan("help", _state("help"), ctx)
    body = server.chat_requests[0]
    assert _system(body).rstrip().endswith("/think")
    assert body["nvext"] == {"max_thinking_tokens": 256}


def test_429_with_retry_after_is_retried_once_and_noted(fake_llm, ctx: Context) -> None:
    server = fake_llm(error_reply(429, retry_after="1"), tool_reply(("describe", {})))
    started = time.monotonic()
    result = plan("describe the data", _state("describe the data"), ctx)
    assert time.monotonic() - started >= 1.0
    assert [s["action"] for s in result.steps] == ["describe"] and result.planner == "llm"
    assert "HTTP 429 from server, retrying in 1.0 s (attempt 2/5)" in result.notes
    assert len(server.chat_requests) == 2


def test_503_three_times_then_success(fake_llm, ctx: Context) -> None:
    server = fake_llm(error_reply(503), error_reply(503), error_reply(503), tool_reply(("report", {})))
    result = plan("write a report", _state("write a report"), ctx)
    assert [s["action"] for s in result.steps] == ["report"] and result.planner == "llm"
    assert [n for n in result.notes if "HTTP 503" in n][-1].endswith("(attempt 4/5)")
    assert len(server.chat_requests) == 4


def test_always_500_falls_back_to_the_rule_planner(fake_llm, ctx: Context) -> None:
    server = fake_llm(then=error_reply(500))
    result = plan("help", _state("help"), ctx)
    assert result.planner == "rules (fallback)"
    assert result.steps == [{"node": "reporter", "action": "help", "args": {}}]  # the rule planner's plan
    assert "LLM unreachable after 5 attempts (HTTP 500); used the rule planner" in result.notes
    assert len(server.chat_requests) == 5


def test_unreachable_server_falls_back_after_connection_errors(ctx: Context) -> None:
    result = plan("help", _state("help"), ctx)  # the default test URL is a closed local port
    assert result.planner == "rules (fallback)"
    assert "LLM unreachable after 5 attempts (connection error); used the rule planner" in result.notes


def test_rejected_key_falls_back_without_retrying(fake_llm, ctx: Context) -> None:
    server = fake_llm(then=error_reply(401))
    result = plan("help", _state("help"), ctx)
    assert result.planner == "rules (fallback)" and len(server.chat_requests) == 1
    assert "LLM request failed (HTTP 401); used the rule planner" in result.notes


def test_no_key_and_no_endpoint_uses_the_rule_planner(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NVIDIA_API_KEY")
    monkeypatch.delenv("DSGRAPH_LLM_BASE_URL")
    result = plan("help", _state("help"), Context(home=tmp_path, planner="llm"))
    assert result.planner == "rules (fallback)"
    assert result.notes[0].startswith("No LLM configured (set NVIDIA_API_KEY or DSGRAPH_LLM_BASE_URL)")


@pytest.mark.parametrize("encode", [True, False], ids=["json-string", "object"])
def test_tool_arguments_are_parsed(fake_llm, ctx: Context, encode: bool) -> None:
    args = {"model": "random_forest", "n_trials": 30, "timeout_s": 120}
    server = fake_llm(tool_reply(("tune", args), encode=encode))
    sent = server.script[0].body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert isinstance(sent, str) == encode
    result = plan("tune the forest", _state("tune the forest"), ctx)
    assert result.steps == [{"node": "tuner", "action": "tune", "args": args}]


@pytest.mark.parametrize(("call", "error"), [
    (("delete_files", {"path": "/"}), "unknown tool 'delete_files'"),
    (("tune", {"model": "svc", "n_trials": 100000}), "n_trials: Input should be less than or equal to 500"),
    (("tune", {"model": "xgboost_turbo", "n_trials": 10}), "model: Input should be"),
    (("tune", '{"model": "svc", "n_trials": '), "arguments are not valid JSON"),
], ids=["unknown-tool", "too-many-trials", "unknown-model", "broken-json"])
def test_invalid_call_gets_one_correction_then_a_question(fake_llm, ctx: Context, call, error: str) -> None:
    server = fake_llm(tool_reply(("describe", {}), call), tool_reply(call))
    result = plan("do it", _state("do it"), ctx)

    assert result.steps == [] and result.planner == "llm"
    assert result.reply and error in result.reply and "nothing was executed" in result.reply
    assert result.reply.rstrip().endswith(f"trials: 1–{MAX_TRIALS}.")
    first, second = server.chat_requests
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 2 and error in tool_messages[1]["content"]
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert any("sent back to the model once" in n for n in result.notes)


def test_corrected_calls_are_accepted(fake_llm, ctx: Context) -> None:
    server = fake_llm(tool_reply(("tune", {"model": "svc", "n_trials": 100000})),
                      tool_reply(("tune", {"model": "svc", "n_trials": 500})))
    result = plan("tune svc forever", _state("tune svc forever"), ctx)
    assert result.steps == [{"node": "tuner", "action": "tune", "args": {"model": "svc", "n_trials": 500}}]
    assert len(server.chat_requests) == 2


def test_model_that_cannot_do_the_task_is_sent_back(fake_llm, ctx: Context) -> None:
    server = fake_llm(tool_reply(("tune", {"model": "ridge"})), tool_reply(("tune", {"model": "svc"})))
    state = _state("tune ridge", dataset=dataset_ref(TITANIC, "survived", "classification"))
    result = plan("tune ridge", state, ctx)
    assert result.steps == [{"node": "tuner", "action": "tune", "args": {"model": "svc", "n_trials": 20}}]
    assert "ridge cannot do classification" in server.chat_requests[1]["messages"][-2]["content"]


def test_plain_text_reply_is_shown_without_think(fake_llm, ctx: Context) -> None:
    fake_llm(text_reply("<think>The user did not say which column.</think>\nWhich column is the target?"))
    result = plan("train something", _state("train something"), ctx)
    assert result.steps == [] and result.reply == "Which column is the target?"


def test_think_text_beside_tool_calls_is_not_sent_back(fake_llm, ctx: Context) -> None:
    thinking = "<think>secret plan</think>ok"
    server = fake_llm(tool_reply(("tune", {"model": "svc", "n_trials": 0}), content=thinking),
                      tool_reply(("tune", {"model": "svc", "n_trials": 1})))
    result = plan("tune", _state("tune"), ctx)
    assert result.steps[0]["args"]["n_trials"] == 1
    assert "secret plan" not in json.dumps(server.chat_requests[1])


def test_history_is_recent_and_think_free(fake_llm, ctx: Context) -> None:
    old = [m for i in range(300) for m in (HumanMessage(content=f"question {i} " + "x" * 400),
                                           AIMessage(content=f"<think>hidden {i}</think>answer {i}"))]
    server = fake_llm(tool_reply(("best", {})))
    plan("best model?", {"messages": [*old, HumanMessage(content="best model?")]}, ctx)
    body = server.chat_requests[0]
    texts = [m["content"] for m in body["messages"][1:]]
    assert texts[-1] == "best model?" and texts[-2] == "answer 299" and "hidden" not in json.dumps(body)
    assert 2 < len(texts) < 100
    assert len(json.dumps(body)) / 4 <= 6000


def test_html_502_from_a_proxy_is_retried(fake_llm, ctx: Context) -> None:
    proxy_page = Reply(status=502, body="<html><body>Bad gateway</body></html>")
    server = fake_llm(proxy_page, tool_reply(("help", {})))
    result = plan("help", _state("help"), ctx)
    assert result.planner == "llm" and any(n.startswith("HTTP 502 from server") for n in result.notes)
    assert len(server.chat_requests) == 2


def test_slow_server_times_out_and_is_retried(fake_llm, ctx: Context, monkeypatch) -> None:
    monkeypatch.setenv("DSGRAPH_LLM_TIMEOUT_S", "0.3")

    def slow(request: object) -> Reply:
        time.sleep(0.8)
        return tool_reply(("help", {}))

    fake_llm(slow, tool_reply(("describe", {})))
    result = plan("describe", _state("describe"), ctx)
    assert [s["action"] for s in result.steps] == ["describe"]
    assert any(n.startswith("timeout from server, retrying") for n in result.notes)


def test_retry_after_beyond_the_retry_budget_gives_up_at_once(fake_llm, ctx: Context) -> None:
    server = fake_llm(then=error_reply(429, retry_after="3600"))
    started = time.monotonic()
    result = plan("help", _state("help"), ctx)
    assert time.monotonic() - started < 5 and len(server.chat_requests) == 1
    assert result.planner == "rules (fallback)"
    assert ("LLM unreachable after 1 attempt(s) (HTTP 429; waiting 3600 s more would pass the 60 s retry "
            "budget); used the rule planner") in result.notes


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("DSGRAPH_LLM_BASE_URL", "localhost:8000", "LLM settings are invalid (base_url: Value error, base URL"),
    ("DSGRAPH_LLM_BASE_URL", "http://127.0.0.1:9/v1/chat/completions", "LLM client could not be built ("),
    ("DSGRAPH_LLM_THINKING", "lots", "LLM settings are invalid (thinking: Value error, thinking must be"),
])
def test_bad_settings_fall_back_with_the_reason(ctx: Context, monkeypatch, name: str, value: str,
                                                reason: str) -> None:
    monkeypatch.setenv(name, value)
    result = plan("help", _state("help"), ctx)
    assert result.planner == "rules (fallback)" and any(n.startswith(reason) for n in result.notes)
