"""What makes one home safe to share: thread ids are never paths, one turn at a time per thread, and reading
the checkpoint store never shares the saver's connection."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from graph.agent import Agent, AgentError
from graph.context import Context

ROOT = Path(__file__).resolve().parents[2]
PENGUINS = ROOT / "samples" / "penguins.csv"


@pytest.mark.parametrize("thread", ["../../escape", "/tmp/abs", "a/b", "x" * 65])
def test_a_thread_id_is_never_a_path(home: Path, thread: str) -> None:
    run = subprocess.run([sys.executable, "app.py", "--home", str(home), "ask", "help", "--thread", thread],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "invalid thread id" in run.stderr
    assert not (home.parent / "escape").exists() and not (home / "workspaces").exists()
    with pytest.raises(ValueError, match="invalid thread id"):
        Context(home=home).workspace(thread)


def test_a_second_turn_on_a_running_thread_is_refused_clearly(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    thread = agent.ask(f"load {PENGUINS}")["thread_id"]
    running = agent.stream("the target is species, train logistic regression", thread_id=thread)
    assert next(running)["type"] == "plan"  # the first turn holds the thread from here on
    with pytest.raises(AgentError, match="still running another turn"):
        agent.ask("describe the data", thread_id=thread)
    assert list(running)[-1]["type"] == "done"
    assert agent.ask("describe the data", thread_id=thread)["error"] is None  # free again afterwards


def test_listing_threads_while_turns_run_never_trips_over_the_savers_connection(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    errors: list[BaseException] = []

    def list_again() -> None:
        try:
            for _ in range(300):
                for row in agent.threads():
                    agent.checkpoint_sizes(row["thread_id"])
        except BaseException as error:  # noqa: BLE001 - any failure is what this test looks for
            errors.append(error)

    readers = [threading.Thread(target=list_again) for _ in range(8)]
    for reader in readers:
        reader.start()
    for _ in range(3):
        agent.ask(f"load {PENGUINS}, the target is species, preview 3 rows")
    for reader in readers:
        reader.join()
    assert not errors, errors
