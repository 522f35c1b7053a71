"""/metrics: Prometheus counters with the contract's labels, summed over worker processes."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.serving import bodies
from tests.serving.conftest import Gateway, copy_home

ROWS = 3


def samples(http: httpx.Client) -> dict[tuple, float]:
    """Every sample of /metrics: (name, sorted labels) → value."""
    response = http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_durations_and_rows_with_the_contract_labels(client, models):
    body = bodies.split(models["penguins"][1].drop(columns="body_mass_g").iloc[:ROWS])
    before = samples(client)
    for _ in range(4):
        assert client.post("/v1/penguins/mass/predict", content=body, headers=bodies.JSON).status_code == 200
    assert client.post("/v1/penguins/mass/predict", json={"dataframe_records": [{"x": 1}]}).status_code == 422
    assert client.post("/v1/credit/risk/predict", content=bodies.split(models["numbers"][1].iloc[:1]),
                       headers=bodies.JSON).status_code == 200
    time.sleep(0.5)  # the shadow copy is answered after the response
    after = samples(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    served = {"model": "penguins/mass", "version": "1", "mirrored": "false"}
    assert delta("dsgraph_requests_total", status="200", **served) == 4
    assert delta("dsgraph_requests_total", status="422", **served) == 1
    assert delta("dsgraph_predicted_rows_total", **served) == 4 * ROWS
    assert delta("dsgraph_request_duration_seconds_count", **served) == 5
    assert delta("dsgraph_request_duration_seconds_bucket", le="+Inf", **served) == 5
    shadow = {"model": "credit/risk", "version": "3", "mirrored": "true"}
    assert delta("dsgraph_requests_total", status="200", **shadow) == 1


def test_with_two_workers_the_metrics_add_up(tmp_path, served_home, models):
    home = copy_home(served_home, tmp_path / "home")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = Gateway(home, workers=2, env={"TMPDIR": str(scratch)})
    body = bodies.split(models["penguins"][1].drop(columns="body_mass_g").iloc[:ROWS])

    def post(_) -> int:  # a new connection each time, so that both workers take some
        response = httpx.post(f"{server.url}/v1/penguins/mass/predict", content=body, headers=bodies.JSON)
        return response.status_code
    try:
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(post, range(40))) == {200}
        workers = {path.name for path in scratch.glob("dsgraph-metrics-*/counter_*.db")}
        assert len(workers) == 2, f"both workers should have answered some requests: {workers}"
        for _ in range(10):  # whichever worker answers the scrape, it reports both workers' counts
            with httpx.Client(base_url=server.url) as http:
                found = samples(http)
            served = {"model": "penguins/mass", "version": "1", "mirrored": "false"}
            assert value(found, "dsgraph_requests_total", status="200", **served) == 40
            assert value(found, "dsgraph_predicted_rows_total", **served) == 40 * ROWS
    finally:
        assert server.stop() == 0, server.log()
    assert not list(scratch.glob("dsgraph-metrics-*")), "serve removes its metrics folder when it stops"
