"""The LLM client: settings from the environment, ChatNVIDIA construction, our own retry, think-stripping."""

import email.utils
import os
import random
import re
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_BASE_URL = "https://integrate.api.nvidia.com/v1"
DEFAULT_MODEL = "nvidia/nvidia-nemotron-nano-9b-v2"
TELEMETRY_ENV = "NVIDIA_USAGE_TELEMETRY_ENABLED"

# settings field -> environment variable
ENV_NAMES = {
    "api_key": "NVIDIA_API_KEY",
    "base_url": "DSGRAPH_LLM_BASE_URL",
    "model": "DSGRAPH_LLM_MODEL",
    "thinking": "DSGRAPH_LLM_THINKING",
    "max_tokens": "DSGRAPH_LLM_MAX_TOKENS",
    "timeout_s": "DSGRAPH_LLM_TIMEOUT_S",
    "max_attempts": "DSGRAPH_LLM_MAX_ATTEMPTS",
    "max_retry_s": "DSGRAPH_LLM_MAX_RETRY_S",
    "retry_base_s": "DSGRAPH_LLM_RETRY_BASE_S",
    "context_tokens": "DSGRAPH_LLM_CONTEXT_TOKENS",
}

T = TypeVar("T")


class LLMSettings(BaseModel):
    """Everything needed to reach the chat model; `thinking` is "off", "on" or a thinking-token budget."""

    model_config = ConfigDict(frozen=True)
    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    thinking: str = "off"
    temperature: float = 0.0
    max_tokens: int = Field(2048, ge=64)
    timeout_s: float = Field(60.0, gt=0)
    max_attempts: int = Field(5, ge=1, le=20)
    max_retry_s: float = Field(60.0, ge=0)
    retry_base_s: float = Field(1.0, ge=0)
    retry_max_delay_s: float = Field(20.0, ge=0)
    context_tokens: int = Field(6000, ge=1500)

    @field_validator("thinking")
    @classmethod
    def _check_thinking(cls, value: str) -> str:
        value = value.strip().lower() or "off"
        if value in ("off", "on") or (value.isdigit() and int(value) > 0):
            return value
        raise ValueError(f"thinking must be 'off', 'on' or a positive token budget, got {value!r}")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value.startswith(("http://", "https://")):
            return value
        raise ValueError(f"base URL must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1), "
                         f"got {value!r}")

    @classmethod
    def resolve(cls, overrides: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None) -> "LLMSettings":
        """Settings from the environment (see ENV_NAMES), then `overrides` (e.g. `Context.llm`) on top."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {f: env[name] for f, name in ENV_NAMES.items() if env.get(name, "").strip()}
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls.model_validate(values)

    def configured(self) -> bool:
        """True when a key or a self-hosted endpoint is set: otherwise the rule planner is used."""
        return bool(self.api_key and self.api_key.get_secret_value()) or self.base_url != DEFAULT_BASE_URL

    @property
    def thinking_on(self) -> bool:
        return self.thinking != "off"

    @property
    def thinking_budget(self) -> int | None:
        return int(self.thinking) if self.thinking.isdigit() else None

    def directive(self) -> str:
        """Nemotron's reasoning switch, appended to the system prompt."""
        return "/think" if self.thinking_on else "/no_think"

    def describe(self) -> str:
        """One line for the step log: model, endpoint and reasoning mode (never the key)."""
        budget = f", thinking budget {self.thinking_budget} tokens" if self.thinking_budget else ""
        mode = "on" if self.thinking_on else "off"
        return f"model {self.model} at {self.base_url} (reasoning {mode}{budget})"


class LLMUnavailable(Exception):
    """The model could not be reached (after retries) or refused the request; str() says why."""


def build_chat_model(settings: LLMSettings) -> Any:
    """A ChatNVIDIA client for `settings`; it never lists models at construction when a model is named."""
    from langchain_nvidia_ai_endpoints import ChatNVIDIA

    telemetry = os.environ.get(TELEMETRY_ENV)
    extra: dict[str, Any] = {}
    if settings.thinking_budget:
        extra["model_kwargs"] = {"nvext": {"max_thinking_tokens": settings.thinking_budget}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "unknown model" / "API key required" warnings: we report ourselves
        return ChatNVIDIA(
            model=settings.model,
            base_url=settings.base_url,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            temperature=settings.temperature,
            max_completion_tokens=settings.max_tokens + (settings.thinking_budget or 0),
            timeout=settings.timeout_s,
            usage_telemetry_enabled=None if telemetry is not None else False,
            **extra,
        )


_STATUS = re.compile(r"^\[(\d{3})\]")


def _retry_after(response: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if any."""
    value = (getattr(response, "headers", None) or {}).get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def classify_failure(error: Exception, response: Any = None) -> tuple[str, bool, float | None]:
    """(short reason, retryable, Retry-After seconds) for an exception raised by the client."""
    if isinstance(error, requests.Timeout | TimeoutError):
        return "timeout", True, None
    if isinstance(error, requests.ConnectionError | ConnectionError):
        return "connection error", True, None
    match = _STATUS.match(str(error))
    if match:
        status = int(match.group(1))
        same = getattr(response, "status_code", None) == status
        retryable = status == 429 or status >= 500
        return f"HTTP {status}", retryable, _retry_after(response) if same else None
    first_line = (str(error).splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}", False, None


def call_with_retry(call: Callable[[], T], settings: LLMSettings, notes: list[str], *,
                    last_response: Callable[[], Any] = lambda: None,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`, retrying 429, 5xx, timeouts and connection errors with jittered exponential backoff.

    Honours Retry-After; stops after `max_attempts` or when waiting would pass `max_retry_s`.
    Each retry is appended to `notes`; the final failure raises LLMUnavailable.
    """
    started = time.monotonic()
    for attempt in range(1, settings.max_attempts + 1):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the client raises bare Exception for HTTP errors
            reason, retryable, after = classify_failure(error, last_response())
        if not retryable:
            raise LLMUnavailable(f"LLM request failed ({reason})")
        if attempt == settings.max_attempts:
            break
        backoff = min(settings.retry_max_delay_s, settings.retry_base_s * 2 ** (attempt - 1))
        delay = after if after is not None else backoff * random.uniform(0.5, 1.0)
        if time.monotonic() - started + delay > settings.max_retry_s:
            budget = f"{settings.max_retry_s:g} s retry budget"
            raise LLMUnavailable(f"LLM unreachable after {attempt} attempt(s) ({reason}; waiting "
                                 f"{delay:.0f} s more would pass the {budget})")
        notes.append(f"{reason} from server, retrying in {delay:.1f} s "
                     f"(attempt {attempt + 1}/{settings.max_attempts})")
        sleep(delay)
    raise LLMUnavailable(f"LLM unreachable after {settings.max_attempts} attempts ({reason})")


def invoke(runnable: Any, chat: Any, messages: list[Any], settings: LLMSettings, notes: list[str]) -> Any:
    """`runnable.invoke(messages)` with our retry; `chat` is the ChatNVIDIA behind it (for Retry-After)."""
    def call() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ChatNVIDIA warns on every <think> it leaves in content
            return runnable.invoke(messages)

    def last_response() -> Any:  # ChatNVIDIA keeps it privately; its headers carry Retry-After
        return getattr(getattr(chat, "_client", None), "last_response", None)

    return call_with_retry(call, settings, notes, last_response=last_response)


_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def strip_think(text: str | None) -> str:
    """Remove reasoning from user-visible text: `<think>…</think>` blocks, text before a lone `</think>`,
    and an unterminated `<think>` with everything after it."""
    text = _THINK_BLOCK.sub("", text or "")
    lower = text.lower()
    if "</think>" in lower:
        text = text[lower.rindex("</think>") + len("</think>"):]
        lower = text.lower()
    if "<think>" in lower:
        text = text[:lower.index("<think>")]
    return text.strip()


def estimate_tokens(text: str) -> int:
    """Rough token count (characters / 4), good enough for budgeting prompts."""
    return (len(text) + 3) // 4


def truncate_to_tokens(text: str, budget: int) -> str:
    """`text` cut to about `budget` tokens, marked when cut."""
    limit = max(0, budget * 4)
    return text if len(text) <= limit else text[:max(0, limit - 15)].rstrip() + " … (truncated)"
