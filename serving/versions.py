"""Loaded versions (kept warm, loaded once) and traffic routes (re-read when deployments.toml changes)."""

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from serving import payload
from tools.deployments import Deployments
from tools.errors import ArtifactError, ColumnError, ToolError
from tools.model_registry import ModelRegistry

RELOAD_EVERY_S = 1.0  # how often the deployments file is looked at
# Fewer rows than this are predicted on one OpenMP thread: histogram boosting opens a parallel region per
# tree, and waking the other thread for each costs more than it saves on a few rows (one adult row: 16 ms
# on two threads, 10 ms on one; 10,000 rows: 64 ms on two, 73 ms on one).
SERIAL_BELOW_ROWS = 2_000
log = logging.getLogger(__name__)


class Unavailable(ArtifactError):
    """A registered version that cannot be loaded (HTTP 503: the gateway's problem, not the client's)."""


@dataclass(frozen=True)
class Served:
    """One loaded version: its pipeline, the columns it reads (and how), and a classifier's classes."""

    pipeline: Any
    kinds: dict[str, str]
    classes: np.ndarray | None
    threads: ThreadpoolController

    def predict(self, table: payload.Table) -> dict[str, Any]:
        """Predictions (and class probabilities) for the rows of `table`."""
        frame = payload.frame(table, self.kinds)
        # OpenMP's thread count is per calling thread: limiting it here leaves other requests alone.
        serial = table.rows < SERIAL_BELOW_ROWS
        try:
            with self.threads.limit(limits=1, user_api="openmp") if serial else nullcontext():
                if self.classes is None:
                    return {"predictions": _plain(self.pipeline.predict(frame))}
                probabilities = self.pipeline.predict_proba(frame)
        except (ValueError, TypeError) as error:
            raise ColumnError(f"The model cannot predict on these rows ({error}); check the values sent.") \
                from None
        # The most probable class is what predict() gives dsgraph's classifiers (ties aside): one pass.
        return {"predictions": _plain(self.classes[probabilities.argmax(axis=1)]),
                "probabilities": _plain(probabilities), "classes": self.classes.tolist()}


def _plain(values: np.ndarray) -> np.ndarray | list:
    """Numbers stay an array (orjson writes those without a Python loop), anything else becomes a list.

    float32 becomes float64 first: orjson writes float32 in its shortest form ("3732.8838"), which a client
    reads back as a different number than the model's (3732.8837890625).
    """
    if values.dtype.kind == "f":
        return np.ascontiguousarray(values, dtype=np.float64)
    return values if values.dtype.kind in "biu" else values.tolist()


class Versions:
    """Pipelines by (name, version), each loaded once per process and then kept warm (thread-safe)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._served: dict[tuple[str, int], Served] = {}
        self._locks: dict[tuple[str, int], threading.Lock] = {}
        self._lock = threading.Lock()
        self._threads: ThreadpoolController | None = None

    def get(self, name: str, version: int | str) -> tuple[int, Served]:
        """The version number and its loaded pipeline; ArtifactError (404) when it is not registered."""
        if str(version).isdigit() and (name, int(version)) in self._served:
            return int(version), self._served[name, int(version)]
        number = int(self.registry.get(name, version)["version"])
        with self._lock:
            lock = self._locks.setdefault((name, number), threading.Lock())
        with lock:  # one load per version, however many requests wait for it
            if (name, number) not in self._served:
                self._served[name, number] = self._load(name, number)
        return number, self._served[name, number]

    def _load(self, name: str, number: int) -> Served:
        try:
            pipeline = self.registry.load(name, number)
        except ArtifactError as error:
            raise Unavailable(str(error)) from None
        classes = getattr(pipeline, "classes_", None) if hasattr(pipeline, "predict_proba") else None
        with self._lock:  # made once a model is loaded: only then are scikit-learn's native libraries known
            self._threads = self._threads or ThreadpoolController()
        labels = None if classes is None else np.asarray(classes)
        return Served(pipeline, payload.input_kinds(pipeline), labels, self._threads)


@dataclass(frozen=True)
class Route:
    """A model's live versions with cumulative traffic weights, and its shadow versions."""

    live: list[int]
    weights: list[float]
    shadows: list[int]


class Traffic:
    """Routes per model from deployments.toml, re-read when the file changes (looked at ≤ once a second);
    `on_change(routes)` is called after each re-read."""

    def __init__(self, deployments: Deployments, on_change: Callable[[dict[str, Route]], None]) -> None:
        self.deployments, self.on_change = deployments, on_change
        self._routes: dict[str, Route] = {}
        self._stamp: Any = object()  # differs from any real stamp: the first look reads the file
        self._checked = -RELOAD_EVERY_S
        self._lock = threading.Lock()
        self._random = random.Random()

    def routes(self) -> dict[str, Route]:
        """Every deployed model's route, as of at most RELOAD_EVERY_S ago."""
        if time.monotonic() - self._checked >= RELOAD_EVERY_S:
            with self._lock:
                if time.monotonic() - self._checked >= RELOAD_EVERY_S:
                    self._reload()
        return self._routes

    def choose(self, name: str) -> tuple[int, list[int]] | None:
        """A live version drawn by traffic weight, and the shadow versions; None when none is live."""
        route = self.routes().get(name)
        if route is None or not route.live:
            return None
        return self._random.choices(route.live, cum_weights=route.weights)[0], route.shadows

    def _reload(self) -> None:
        self._checked = time.monotonic()
        try:
            stamp = self.deployments.stamp()  # mtime, inode and size: a change within one clock tick shows
            if stamp != self._stamp:
                self._routes, self._stamp = _routes(self.deployments.all()), stamp
                self.on_change(self._routes)
        except ToolError as error:  # e.g. a hand edit gone wrong: keep serving the last good routes
            log.warning("keeping the previous deployments: %s", error)


def _routes(deployed: dict[str, list[dict]]) -> dict[str, Route]:
    routes = {}
    for name, entries in deployed.items():
        live = [(int(e["version"]), float(e["traffic"])) for e in entries
                if e["mode"] == "live" and e["traffic"] > 0]
        routes[name] = Route([v for v, _ in live], np.cumsum([t for _, t in live]).tolist(),
                             [int(e["version"]) for e in entries if e["mode"] == "shadow"])
    return routes
