"""LLMSettings, think-stripping, token budgeting and the generated tool schemas."""

import pytest
from pydantic import ValidationError

from graph.vocabulary import ACTIONS, MAX_TIMEOUT_S, MAX_TRIALS
from nodes.llm_client import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    LLMSettings,
    build_chat_model,
    estimate_tokens,
    strip_think,
    truncate_to_tokens,
)
from nodes.tool_schemas import tool_schemas
from tools.keys import METRICS, MODELS


def test_settings_come_from_the_environment_and_overrides() -> None:
    env = {"NVIDIA_API_KEY": "nvapi-secret-123", "DSGRAPH_LLM_MODEL": "meta/llama-3.1-8b-instruct",
           "DSGRAPH_LLM_THINKING": "512", "DSGRAPH_LLM_MAX_ATTEMPTS": "3"}
    settings = LLMSettings.resolve({"max_attempts": 2}, env=env)
    assert settings.model == "meta/llama-3.1-8b-instruct" and settings.base_url == DEFAULT_BASE_URL
    assert settings.max_attempts == 2 and settings.temperature == 0
    assert settings.thinking_on and settings.thinking_budget == 512 and settings.directive() == "/think"
    assert "secret" not in repr(settings) and "secret" not in settings.describe()


def test_defaults_reasoning_off_and_configured_only_with_a_key_or_own_endpoint() -> None:
    bare = LLMSettings.resolve(env={})
    assert bare.model == DEFAULT_MODEL and bare.directive() == "/no_think" and not bare.configured()
    assert LLMSettings.resolve(env={"NVIDIA_API_KEY": "k"}).configured()
    assert LLMSettings.resolve(env={"DSGRAPH_LLM_BASE_URL": "http://127.0.0.1:8000/v1"}).configured()


def test_bad_thinking_setting_is_rejected_with_the_allowed_values() -> None:
    with pytest.raises(ValidationError, match="'off', 'on' or a positive token budget"):
        LLMSettings.resolve(env={"DSGRAPH_LLM_THINKING": "lots"})


@pytest.mark.parametrize(("raw", "shown"), [
    ("<think>plan the steps</think>Loaded the data.", "Loaded the data."),
    ("<think>\nfirst\n</think>\n\nA<think>again</think>B", "AB"),
    ("reasoning without an opening tag</think>Answer", "Answer"),
    ("<think>cut off before the answer", ""),
    ("No reasoning here.", "No reasoning here."),
])
def test_strip_think_removes_reasoning_from_user_visible_text(raw: str, shown: str) -> None:
    assert strip_think(raw) == shown


def test_truncate_to_tokens_marks_the_cut() -> None:
    text = "x" * 1000
    cut = truncate_to_tokens(text, 50)
    assert cut.endswith("(truncated)") and estimate_tokens(cut) <= 50
    assert truncate_to_tokens("short", 50) == "short"


def test_one_tool_per_action_with_enums_bounds_and_required_fields() -> None:
    tools = {t["function"]["name"]: t["function"] for t in tool_schemas()}
    assert list(tools) == list(ACTIONS)
    tune = tools["tune"]["parameters"]
    assert tune["additionalProperties"] is False
    assert tune["properties"]["model"]["enum"] == list(MODELS)
    assert tune["properties"]["metric"]["enum"] == list(METRICS)
    trials = tune["properties"]["n_trials"]
    assert (trials["minimum"], trials["maximum"]) == (1, MAX_TRIALS)
    assert tune["properties"]["timeout_s"]["maximum"] == MAX_TIMEOUT_S
    assert tools["train"]["parameters"]["properties"]["models"]["items"]["enum"] == list(MODELS)
    for name, action in ACTIONS.items():
        required = [f for f, info in action.args.model_fields.items() if info.is_required()]
        assert tools[name]["parameters"].get("required", []) == required
    assert tools["load"]["parameters"]["required"] == ["path"]
    assert "$ref" not in str(tools) and "anyOf" not in str(tools)


def test_client_telemetry_is_off_unless_the_user_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = LLMSettings.resolve(env={"DSGRAPH_LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    assert build_chat_model(settings)._client.usage_telemetry_enabled is False
    monkeypatch.setenv("NVIDIA_USAGE_TELEMETRY_ENABLED", "true")
    assert build_chat_model(settings)._client.usage_telemetry_enabled is True
