"""Node implementations are swapped by entry point, config.toml or flag, with the wiring unchanged."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph import registry
from graph.context import Context

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = '''
from graph.state import step_log

def run(step, state, ctx):
    log = ["hello from the third-party trainer"]
    return {"steps": [step_log(step, log=log, result={"markdown": "fake"})]}
'''


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A folder holding an installed-looking distribution that registers `trainer.fake` (no pip involved)."""
    (tmp_path / "fake_trainer.py").write_text(PLUGIN)
    info = tmp_path / "fake_trainer-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-trainer\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[dsgraph.nodes]\ntrainer.fake = fake_trainer:run\n")
    return tmp_path


def test_entry_point_trainer_runs_in_the_same_graph(home: Path, plugin_path: Path) -> None:
    (home / "config.toml").write_text('[nodes]\ntrainer = "fake"\n')
    env = {**os.environ, "PYTHONPATH": str(plugin_path)}
    message = f"load {ROOT / 'samples' / 'penguins.csv'}, the target is species, train classifiers"
    run = subprocess.run([sys.executable, "app.py", "--home", str(home), "ask", message, "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    train = json.loads(run.stdout)["steps"][-1]
    assert train["action"] == "train" and train["status"] == "done"
    assert train["log"][0] == "implementation: trainer.fake"
    assert "hello from the third-party trainer" in train["log"]


def test_config_and_flags_choose_implementations(home: Path) -> None:
    assert registry.choose(home)["planner"] == "rules"
    (home / "config.toml").write_text('[nodes]\nplanner = "llm"\nreporter = "llm"\n')
    assert registry.choose(home) == {**registry.DEFAULTS, "planner": "llm", "reporter": "llm"}
    assert registry.choose(home, {"planner": "rules"})["planner"] == "rules"
    with pytest.raises(registry.RegistryError, match="unknown trainer implementation 'nope'"):
        registry.choose(home, {"trainer": "nope"})


def test_reporter_resolves_lazily_without_the_accelerator(home: Path) -> None:
    ctx = Context(home=home)
    assert registry.target("eda", ctx) == "nodes.eda:run"
    assert registry.resolve("reporter", ctx).__module__ == "nodes.reporter"
    probe = "import sys; from graph import registry; print('pandas' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "False"
