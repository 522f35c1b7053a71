"""LLM test fixtures: a scripted local server and an environment that can never reach the internet."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.context import Context
from nodes.llm_client import ENV_NAMES
from tests.llm.fake_server import FakeLLMServer, Script

CLOSED_PORT_URL = "http://127.0.0.1:9/v1"  # discard port, nothing listens: a forgotten server fails locally


@pytest.fixture(autouse=True)
def offline_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every LLM test gets a dummy key, a local base URL and fast retries."""
    for name in (*ENV_NAMES.values(), "NVIDIA_BASE_URL", "NVIDIA_USAGE_TELEMETRY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-dummy-test-key")
    monkeypatch.setenv("DSGRAPH_LLM_BASE_URL", CLOSED_PORT_URL)
    monkeypatch.setenv("DSGRAPH_LLM_RETRY_BASE_S", "0.01")
    monkeypatch.setenv("DSGRAPH_LLM_TIMEOUT_S", "20")


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeLLMServer]]:
    """Start a FakeLLMServer playing the given script and point DSGRAPH_LLM_BASE_URL at it."""
    servers: list[FakeLLMServer] = []

    def start(*script: Script, then: Script | None = None) -> FakeLLMServer:
        server = FakeLLMServer(*script, then=then).__enter__()
        servers.append(server)
        monkeypatch.setenv("DSGRAPH_LLM_BASE_URL", server.url)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    """A Context with LLM settings taken from the (test) environment."""
    return Context(home=tmp_path / "home", planner="llm")


def dataset_ref(path: Path, target: str | None = None, task: str | None = None) -> dict:
    """A DatasetRef for a real file, with the compact `columns` schema the loader and profiler produce."""
    from tools.loading import load_dataset
    from tools.profile import column_schema

    data = load_dataset(path)
    return {"path": str(path), "sha256": data.sha256, "rows": len(data.frame), "cols": data.frame.shape[1],
            "target": target, "task": task, "columns": column_schema(data.frame)}
