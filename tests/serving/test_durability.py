"""kill -9 under load: deployments and the request log survive, and the gateway serves again on restart."""

import sqlite3
import threading
import time

import httpx

from tests.serving import bodies
from tests.serving.conftest import Gateway, copy_home
from tools.deployments import Deployments
from tools.request_log import RequestLog

LOST_AT_MOST = 5  # entries queued but not yet committed when the process dies


def test_kill_9_under_load_loses_at_most_the_last_few_log_entries(tmp_path, served_home, models):
    home = copy_home(served_home, tmp_path / "home")
    deployed = Deployments(home).all()
    body = bodies.split(models["numbers"][1].drop(columns="survived").iloc[:2])
    server = Gateway(home)
    answered, stop = [], threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while not stop.is_set():
                try:
                    response = http.post("/v1/credit/risk/predict", content=body, headers=bodies.JSON)
                except httpx.TransportError:
                    return  # the gateway is gone
                assert response.status_code == 200
                answered.append(response.json()["version"])
    client = threading.Thread(target=load)
    client.start()
    deadline = time.monotonic() + 30
    while len(answered) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    client.join(10)
    assert len(answered) >= 100, server.log()

    with sqlite3.connect(home / "requests.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    logged = [e for e in RequestLog(home).recent("credit/risk", limit=100_000) if not e["mirrored"]]
    assert len(answered) - LOST_AT_MOST <= len(logged) <= len(answered) + 1
    assert all(e["status"] == 200 and e["rows"] == 2 for e in logged)
    assert Deployments(home).all() == deployed

    server = Gateway(home)
    try:
        response = httpx.post(f"{server.url}/v1/credit/risk/predict", content=body, headers=bodies.JSON)
        assert response.status_code == 200
    finally:
        assert server.stop() == 0, server.log()
    after = [e for e in RequestLog(home).recent("credit/risk", limit=100_000) if not e["mirrored"]]
    assert len(after) == len(logged) + 1 and after[1:] == logged
