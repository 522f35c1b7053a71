"""The real app on a free local port: in-process (prevent_thread_lock) or as an `app.py serve` subprocess."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    """Poll `url` until it answers; fail early when the server process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


class Server:
    """`python app.py --home HOME serve --port PORT` as a subprocess."""

    def __init__(self, home: Path, log: Path):
        self.home, self.port, self.log = home, free_port(), log
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "DSGRAPH_ACCEL": "cpu"}
        command = [sys.executable, "app.py", "--home", str(self.home), "serve", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_until_up(self.url, self.process, self.log)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """An `app.py serve` subprocess factory over a fresh home (started by the test, stopped at the end)."""
    made = Server(tmp_path / "home", tmp_path / "server.log")
    yield made
    made.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    """The app launched in this process over a fresh home with the real Agent: (url, agent)."""
    from graph.agent import Agent
    from ui.app import launch

    agent = Agent(home=tmp_path_factory.mktemp("ui") / "home", accel="cpu")
    port = free_port()
    demo = launch(agent, port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", agent
    demo.close()
