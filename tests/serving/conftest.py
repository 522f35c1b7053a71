"""The gateway as a real subprocess on a free loopback port, over homes with real registered models."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest

from tools.deployments import Deployments
from tools.experiments import make_record
from tools.loading import file_sha256, load_dataset
from tools.model_registry import ModelRegistry
from tools.training import train

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
START_TIMEOUT_S = 90  # imports, MLflow and warming the deployed models on a busy 2-core machine


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outside_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (to call the gateway as another machine would)."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return address.address
    return None


class Gateway:
    """`python app.py --home HOME gateway …` in its own process group, with its output in a log file."""

    def __init__(self, home: Path, *, workers: int = 1, host: str = "127.0.0.1",
                 env: dict | None = None) -> None:
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = home.parent / f"gateway-{self.port}.log"
        command = [sys.executable, str(ROOT / "app.py"), "--home", str(home), "gateway", "--host", host,
                   "--port", str(self.port), "--workers", str(workers)]
        environment = {**os.environ, **(env or {})}
        with open(self.output, "wb") as output:
            self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the gateway exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the gateway did not answer /health within {START_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        """What the gateway printed so far."""
        return self.output.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        """Ctrl-C (SIGINT) to the whole group, as a terminal sends it; the exit status."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


def trained(path: Path, target: str, key: str, folder: Path, record_id: str,
            columns: list[str] | None = None) -> tuple[dict, pd.DataFrame]:
    """A real experiment record (as the trainer node makes it) and the frame (`columns` of the file) it was
    trained on."""
    frame = load_dataset(path).frame
    frame = frame[columns] if columns else frame
    fields = train(frame, target, key, out_dir=folder, record_id=record_id, plots=False, cv_folds=0)
    dataset = {"path": str(path), "sha256": file_sha256(path), "rows": len(frame), "cols": frame.shape[1],
               "target": target}
    record = make_record(id=record_id, thread_id="serving-tests", node="trainer", model=key,
                         task=fields["task"], params=fields["params"], metrics=fields["metrics"],
                         cv=fields["cv"], n_trials=None, seconds=fields["seconds"], device=fields["device"],
                         dataset=dataset, artifact=fields["artifact"])
    return record, frame


def deploy(home: Path, name: str, version: int, traffic: float = 100.0, mode: str = "live") -> None:
    """Deploy a registered version, as an approved deploy step does."""
    deployments = Deployments(home)
    deployments.apply(deployments.propose(name, version, traffic, mode), who="tests", why="serving tests")


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, tuple[dict, pd.DataFrame]]:
    """Trained once per session: logistic regressions on titanic's numbers (the cheapest single rows, for
    thousands of requests) and on all its columns, adult histogram boosting (the 10,000-row batches) and a
    penguins ridge regression."""
    folder = tmp_path_factory.mktemp("trained")
    numbers = ["pclass", "age", "sibsp", "parch", "fare", "survived"]
    return {"numbers": trained(SAMPLES / "titanic.csv", "survived", "logistic_regression", folder, "numbers",
                               numbers),
            "titanic": trained(SAMPLES / "titanic.csv", "survived", "logistic_regression", folder, "lr"),
            "adult": trained(SAMPLES / "adult.csv.gz", "income", "hist_gradient_boosting", folder, "hgb"),
            "penguins": trained(SAMPLES / "penguins.csv", "body_mass_g", "ridge", folder, "ridge")}


def register(home: Path, name: str, trained_model: tuple[dict, pd.DataFrame], times: int = 1) -> list[int]:
    """Register a trained model `times` times (versions 1, 2, … of the same pipeline)."""
    registry = ModelRegistry(home)
    return [registry.register(name, *trained_model)["version"] for _ in range(times)]


@pytest.fixture(scope="session")
def served_home(tmp_path_factory, models) -> Path:
    """credit/risk (titanic numbers): v1 live 80%, v2 live 20%, v3 shadow; credit/switch (all of titanic's
    columns) v1 live, v2 registered;
    census/income v1 live (adult); penguins/mass v1 live (regression); at most 20,000 rows a request."""
    home = tmp_path_factory.mktemp("served") / "home"
    home.mkdir()
    (home / "config.toml").write_text("[serving]\nmax_rows = 20000\n")
    register(home, "credit/risk", models["numbers"], times=3)
    register(home, "credit/switch", models["titanic"], times=2)
    register(home, "census/income", models["adult"])
    register(home, "penguins/mass", models["penguins"])
    deploy(home, "credit/risk", 1)
    deploy(home, "credit/risk", 2, traffic=20)
    deploy(home, "credit/risk", 3, mode="shadow")
    deploy(home, "credit/switch", 1)
    deploy(home, "census/income", 1)
    deploy(home, "penguins/mass", 1)
    return home


@pytest.fixture(scope="session")
def gateway(served_home) -> Iterator[Gateway]:
    """One gateway for most tests, listening on every interface (so a test can call it from outside)."""
    server = Gateway(served_home, host="0.0.0.0")
    yield server
    assert server.stop() == 0, server.log()


@pytest.fixture
def client(gateway) -> Iterator[httpx.Client]:
    """A keep-alive HTTP client of the session's gateway."""
    with httpx.Client(base_url=gateway.url, timeout=60) as http:
        yield http


def copy_home(source: Path, target: Path) -> Path:
    """A copy of a home's registry and deployments (no request log): a fresh gateway's own state."""
    target.mkdir(parents=True)
    shutil.copytree(source / "registry", target / "registry")
    for name in ("deployments.toml", "deployments-history.jsonl"):
        shutil.copy(source / name, target / name)
    return target
