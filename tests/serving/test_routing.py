"""Traffic follows the live weights, shadows only get copies, and deployment changes need no restart."""

import math
import time
from collections import Counter

from tests.serving import bodies
from tests.serving.conftest import deploy
from tools.request_log import RequestLog

REQUESTS = 2_000


def _one_row(models, name: str) -> bytes:
    return bodies.split(models[name][1].drop(columns="survived").iloc[:1])


def _wait_for(check, timeout_s: float = 30.0, every_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def test_live_weights_split_traffic_and_shadows_get_copies_they_never_answer(client, served_home, models):
    """credit/risk: v1 live 80%, v2 live 20%, v3 shadow."""
    body, since = _one_row(models, "numbers"), time.time()
    answered = Counter()
    for _ in range(REQUESTS):
        response = client.post("/v1/credit/risk/predict", content=body, headers=bodies.JSON)
        assert response.status_code == 200, response.text
        answered[response.json()["version"]] += 1
        assert response.headers["x-model-version"] == str(response.json()["version"])
    assert set(answered) == {1, 2}, "the shadow version must never answer"
    expected, spread = REQUESTS * 0.2, math.sqrt(REQUESTS * 0.2 * 0.8)
    assert abs(answered[2] - expected) <= 4 * spread, answered

    log = RequestLog(served_home)

    def mirrored():
        return [row for row in log.summary("credit/risk", since=since) if row["mirrored"]]
    copies = _wait_for(lambda: (found := mirrored()) and found[0]["requests"] == REQUESTS and found)
    assert [(row["version"], row["requests"], row["errors"]) for row in copies] == [(3, REQUESTS, 0)]
    live = {row["version"]: row["requests"] for row in log.summary("credit/risk", since=since)
            if not row["mirrored"]}
    assert live == dict(answered)
    shadow_entry = next(e for e in log.recent("credit/risk", limit=50) if e["mirrored"])
    assert shadow_entry["version"] == 3 and len(shadow_entry["outputs"]) == 1 and shadow_entry["inputs"]
    served_rows = log.inputs("credit/risk", last=10)  # what the drift monitor reads
    assert len(served_rows) == 10 and {"pclass", "age", "fare"} <= set(served_rows.columns)


def test_a_deployment_change_is_served_without_a_restart(client, gateway, served_home, models):
    body, pid = _one_row(models, "titanic"), gateway.process.pid

    def version() -> int:
        return client.post("/v1/credit/switch/predict", content=body, headers=bodies.JSON).json()["version"]
    assert version() == 1
    deploy(served_home, "credit/switch", 2)
    changed = time.monotonic()
    assert _wait_for(lambda: version() == 2, timeout_s=10, every_s=0.05)
    assert time.monotonic() - changed < 3, "the change must be picked up within about a second"
    assert {version() for _ in range(50)} == {2}
    assert gateway.process.pid == pid and gateway.process.poll() is None
