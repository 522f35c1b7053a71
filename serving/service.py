"""What every request shares, and a prediction request from body to response (shadow copies after it)."""

import logging
import threading
import time
from typing import Any, NoReturn

import numpy as np
import orjson
from starlette.background import BackgroundTasks
from starlette.responses import Response

from serving import payload
from serving.config import Settings
from serving.metrics import UNKNOWN, Metrics
from serving.versions import Route, Traffic, Unavailable, Versions
from tools.deployments import Deployments
from tools.errors import ArtifactError, ColumnError, DataError, ModelError, ToolError
from tools.model_registry import ModelRegistry, check_name
from tools.request_log import SAMPLE_ROWS, RequestLog

# First match wins: subclasses before their bases.
STATUS = ((payload.TooManyRows, 413), (payload.BodyError, 400), (ColumnError, 422), (Unavailable, 503),
          (ArtifactError, 404), (ModelError, 404), (DataError, 400))
log = logging.getLogger(__name__)


class Service:
    """Settings, registry, routes, loaded versions, the request log and metrics of one worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = ModelRegistry(settings.home)
        self.deployments = Deployments(settings.home)
        self.versions = Versions(self.registry)
        self.traffic = Traffic(self.deployments, self._warm_later)
        self.log = RequestLog(settings.home)
        self.metrics = Metrics()

    def predict(self, name: str, pinned: str | None, body: bytes, content_type: str | None,
                started: float) -> Response:
        """Answer one request: a live version drawn by weight (or `pinned`), then shadow copies."""
        version, table, shadows = None, None, []
        try:
            name = check_name(name)
            if pinned is None:
                version, shadows = self.traffic.choose(name) or self._not_deployed(name)
            version, served = self.versions.get(name, pinned or version)
            table = payload.read(body, content_type, self.settings.max_rows)
            result = served.predict(table)
        except ToolError as error:
            return self._failure(name, version, http_status(error), str(error), started, table)
        except Exception:  # a bug, never bad input: say so, keep the details in the server's log
            log.exception("prediction failed for %s", name)
            return self._failure(name, version, 500, "The gateway failed on this request; its log has the "
                                 "details.", started, table)
        answer = result | {"model": name, "version": version}
        content = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
        self.record(name, version, False, 200, started, table, result["predictions"])
        mirrors = BackgroundTasks()  # run after the response is sent: the client never waits for a shadow
        for shadow in shadows:
            mirrors.add_task(self.mirror, name, shadow, table)
        return Response(content, media_type="application/json", headers={"X-Model-Version": str(version)},
                        background=mirrors)

    def mirror(self, name: str, version: int, table: payload.Table) -> None:
        """A shadow version answers a copy of a request; its answer is only logged."""
        started = time.perf_counter()
        try:
            result = self.versions.get(name, version)[1].predict(table)
        except ToolError as error:
            self.record(name, version, True, http_status(error), started, table)
            return
        except Exception:  # a bug: logged, and the shadow copy counted as failed
            log.exception("shadow prediction failed for %s version %s", name, version)
            self.record(name, version, True, 500, started, table)
            return
        self.record(name, version, True, 200, started, table, result["predictions"])

    def record(self, name: str, version: int | None, mirrored: bool, status: int, started: float,
               table: payload.Table | None = None, predictions: Any = None) -> None:
        """Write one request (or shadow copy) to the metrics and the request log."""
        seconds = time.perf_counter() - started
        rows = table.rows if table else 0
        known = version is not None or name in self.registry.names()
        self.metrics.observe(model=name if known else UNKNOWN, version=version, status=status,
                             mirrored=mirrored, seconds=seconds, rows=rows)
        outputs = None if predictions is None else np.asarray(predictions[:SAMPLE_ROWS]).tolist()
        self.log.add(model=name, version=version, mirrored=mirrored, status=status, latency_ms=seconds * 1e3,
                     rows=rows, inputs=table.sample(SAMPLE_ROWS) if table else None, outputs=outputs)

    def warm(self) -> None:
        """Load every deployed version now, so that no request waits for a load."""
        self._warm(self.traffic.routes())

    def close(self) -> None:
        """Write the queued request log entries."""
        self.log.close()

    def _warm(self, routes: dict[str, Route]) -> None:
        for name, route in routes.items():
            for version in {*route.live, *route.shadows}:
                try:
                    self.versions.get(name, version)
                except ToolError as error:
                    log.warning("%s version %s is deployed but cannot be served: %s", name, version, error)

    def _warm_later(self, routes: dict[str, Route]) -> None:
        threading.Thread(target=self._warm, args=(routes,), name="warm", daemon=True).start()

    def _not_deployed(self, name: str) -> NoReturn:
        registered = self.registry.names()
        if name in registered:
            versions = ", ".join(str(v["version"]) for v in self.registry.versions(name))
            raise ArtifactError(f"{name} has no live version (registered versions: {versions}); deploy one, "
                                f"or call /v1/{name}/VERSION/predict.")
        deployed = ", ".join(sorted(name for name, route in self.traffic.routes().items() if route.live))
        raise ArtifactError(f"No model named {name} is deployed (deployed: {deployed or 'none yet'}; "
                            f"registered: {', '.join(registered) or 'none yet'}).")

    def _failure(self, name: str, version: int | None, code: int, message: str, started: float,
                 table: payload.Table | None) -> Response:
        self.record(name, version, False, code, started, table)
        return error_response(code, message)


def http_status(error: ToolError) -> int:
    """The HTTP status of an expected failure."""
    return next((code for kind, code in STATUS if isinstance(error, kind)), 422)


def error_response(code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The JSON body of every error: {"error": message}."""
    return Response(orjson.dumps({"error": message}), status_code=code, media_type="application/json",
                    headers=headers)
