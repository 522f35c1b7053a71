"""The gateway's Prometheus metrics; with PROMETHEUS_MULTIPROC_DIR set they add up over worker processes."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Single rows are answered in about a millisecond, so the buckets start well below the default 5 ms.
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNKNOWN = "(unknown)"  # the model label of requests for names that are not registered: clients choose those

# No `*_created` series: multiprocess mode cannot give them, so one worker and several expose the same names.
disable_created_metrics()


class Metrics:
    """Request counts, durations and predicted rows, labelled by model, version and the mirrored flag."""

    def __init__(self) -> None:
        # Our own registry: a second app in one process (tests, bench) must not collide in the global one.
        self.registry = CollectorRegistry()
        self.requests = Counter("dsgraph_requests", "Prediction requests answered, by HTTP status.",
                                ("model", "version", "status", "mirrored"), registry=self.registry)
        self.duration = Histogram("dsgraph_request_duration_seconds", "Time to answer a prediction request.",
                                  ("model", "version", "mirrored"), buckets=BUCKETS, registry=self.registry)
        self.rows = Counter("dsgraph_predicted_rows", "Rows predicted.", ("model", "version", "mirrored"),
                            registry=self.registry)

    def observe(self, *, model: str | None, version: int | None, status: int, mirrored: bool, seconds: float,
                rows: int) -> None:
        """Count one request (or shadow copy) and, when it succeeded, its rows."""
        labels = (model or UNKNOWN, "" if version is None else str(version), "true" if mirrored else "false")
        self.requests.labels(labels[0], labels[1], str(status), labels[2]).inc()
        self.duration.labels(*labels).observe(seconds)
        if status == 200:
            self.rows.labels(*labels).inc(rows)

    def exposition(self) -> bytes:
        """The Prometheus text format: every worker's values summed in multiprocess mode."""
        if os.environ.get(MULTIPROCESS_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
