"""The whole lifecycle through `app.py ask` and a real gateway: train → register → deploy v1 (approved) →
register v2 at 20% → mirror v3 → drift of the served traffic → rollback, each visible over HTTP and in
/metrics."""

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd

from tests.serving.conftest import Gateway
from tools.deployments import Deployments

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"
NAME = "titanic/survival"


def ask(home: Path, message: str, *options: str) -> tuple[int, dict]:
    run = subprocess.run([sys.executable, "app.py", "--home", str(home), "ask", message, "--json", *options],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    return run.returncode, json.loads(run.stdout)


def versions_served(client: httpx.Client, rows: list[dict], times: int) -> Counter:
    """How often each version answered `times` one-row requests."""
    seen: Counter = Counter()
    for i in range(times):
        response = client.post(f"/v1/{NAME}/predict", json={"dataframe_records": [rows[i % len(rows)]]})
        assert response.status_code == 200, response.text
        seen[response.json()["version"]] += 1
        assert response.headers["X-Model-Version"] == str(response.json()["version"])
    return seen


def mirrored(client: httpx.Client, version: int) -> float:
    """dsgraph_requests_total of a shadow version's mirrored requests, read from /metrics."""
    total = 0.0
    text = client.get("/metrics").text
    for labels, value in re.findall(r"^dsgraph_requests_total\{(.*)\} (\S+)$", text, re.M):
        said = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if (said["model"], said["version"], said["mirrored"]) == (NAME, str(version), "true"):
            total += float(value)
    return total


def test_the_lifecycle_from_ask_is_visible_over_http(home: Path) -> None:
    status, first = ask(home, f"load {TITANIC}, the target is survived, train logistic regression, register "
                              f"it as {NAME} and deploy it")
    assert status == 1 and first["pending_approval"]["action"] == "deploy"  # waiting is exit 1
    thread = first["thread_id"]
    approved = subprocess.run([sys.executable, "app.py", "--home", str(home), "approve", "--thread", thread],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert approved.returncode == 0, approved.stderr[-2000:]

    rows = pd.read_csv(TITANIC, na_values=["?"]).drop(columns="survived").sample(300, random_state=0)
    records = json.loads(rows.to_json(orient="records"))
    gateway = Gateway(home)
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            assert versions_served(client, records, 5) == Counter({1: 5})

            canary = f"train a random forest, register it as {NAME}, deploy it with 20% of the traffic"
            for message in (canary, f"train knn, register it as {NAME}, then mirror traffic to v3"):
                status, result = ask(home, message, "--thread", thread, "--yes")
                assert status == 0 and result["error"] is None, result["reply"]
            time.sleep(2)  # the gateway rereads deployments.toml at most once a second
            seen = versions_served(client, records, 300)
            assert set(seen) == {1, 2} and 32 <= seen[2] <= 88  # 20% of 300 within 4 standard deviations
            deadline = time.monotonic() + 10
            while mirrored(client, 3) < 300 and time.monotonic() < deadline:  # copies run after the replies
                time.sleep(0.2)
            assert mirrored(client, 3) == 300

            status, checked = ask(home, f"check drift of {NAME} on the last 300 requests", "--thread", thread)
            assert status == 0 and checked["monitoring"][0]["rows"] == 300
            assert checked["monitoring"][0]["verdict"] in ("ok", "warn")  # titanic's own rows: no alert

            status, rolled = ask(home, "roll back the deployment", "--thread", thread, "--yes")
            assert status == 0 and [d["mode"] for d in Deployments(home).current(NAME)] == ["live", "live"]
            time.sleep(2)
            versions_served(client, records, 20)
            assert mirrored(client, 3) == 300  # no more shadow copies after the rollback
    finally:
        assert gateway.stop() == 0, gateway.log()
