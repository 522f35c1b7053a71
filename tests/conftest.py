"""Shared fixtures: the bundled sample files and an isolated dsgraph home per test."""

import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples() -> Path:
    """Folder of the bundled real datasets (titanic.csv, adult.csv.gz, …)."""
    return SAMPLES


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty dsgraph home, also exported as DSGRAPH_HOME for subprocesses."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("DSGRAPH_HOME", str(path))
    return path


@pytest.fixture(autouse=True)
def no_hosted_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a hosted LLM: a developer's own key or endpoint is hidden from every test."""
    for name in ("NVIDIA_API_KEY", "DSGRAPH_LLM_BASE_URL", "DSGRAPH_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NVIDIA_USAGE_TELEMETRY_ENABLED", "false")


@pytest.fixture(autouse=True)
def no_drawing_errors(caplog: pytest.LogCaptureFixture):
    """A chart that fails to draw shows a "could not draw" image to users; in a test it is a failure."""
    yield
    failed = [r.getMessage() for r in caplog.get_records("call")
              if r.name == "tools.plots" and r.levelno >= logging.ERROR]
    assert not failed, f"drawing errors: {failed}"
