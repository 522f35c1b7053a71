"""Shared fixtures: the bundled sample files and an isolated dsgraph home per test."""

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
