"""The serving gateway: FastAPI routers over a `Service`, the app factory, and `serve` to run it."""

import os
import shutil
import tempfile
import time
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.config import HOME_ENV, is_loopback, load_settings
from serving.metrics import CONTENT_TYPE, MULTIPROCESS_ENV
from serving.schemas import ERRORS, PREDICT_BODY, Alive, Failure, Prediction, Ready, RegisteredModel
from serving.service import Service, error_response
from tools.deployments import catalog
from tools.errors import ArtifactError, ToolError

BEARER = {"WWW-Authenticate": "Bearer"}


def current(request: Request) -> Service:
    """The service the lifespan made (a Depends of every route)."""
    return request.state.service


Current = Annotated[Service, Depends(current)]


def project_access(request: Request, service: Current) -> None:
    """401 unless this client may call the project in the path (refusals are logged like any request)."""
    project, model = request.path_params["project"].lower(), request.path_params["model"].lower()
    if not service.settings.allows(request, project):
        service.record(f"{project}/{model}", None, False, 401, time.perf_counter())
        raise HTTPException(401, service.settings.refusal(request, project), headers=BEARER)


def local_or_keyed(request: Request, service: Current) -> None:
    """401 for clients on other machines while no API key is configured at all."""
    if not service.settings.api_keys and not is_loopback(request):
        raise HTTPException(401, service.settings.refusal(request, None), headers=BEARER)


predict_router = APIRouter(prefix="/v1", tags=["predict"], dependencies=[Depends(project_access)],
                           responses=ERRORS)
models_router = APIRouter(prefix="/v1", tags=["models"])
operations_router = APIRouter(tags=["operations"])


@predict_router.post("/{project}/{model}/predict", response_model=Prediction, openapi_extra=PREDICT_BODY)
async def predict_deployed(project: str, model: str, request: Request, service: Current) -> Response:
    """Predict with a live version drawn by traffic weight; shadow versions answer a copy, only logged."""
    started = time.perf_counter()
    body = await request.body()
    return await run_in_threadpool(service.predict, f"{project}/{model}", None, body,
                                   request.headers.get("content-type"), started)


@predict_router.post("/{project}/{model}/{version}/predict", response_model=Prediction,
                     openapi_extra=PREDICT_BODY)
async def predict_version(project: str, model: str, version: str, request: Request,
                          service: Current) -> Response:
    """Predict with one registered version, deployed or not."""
    started = time.perf_counter()
    body = await request.body()
    return await run_in_threadpool(service.predict, f"{project}/{model}", version, body,
                                   request.headers.get("content-type"), started)


@models_router.get("/models", response_model=list[RegisteredModel], responses={401: {"model": Failure}})
def models(request: Request, service: Current) -> list[dict]:
    """Registered models: versions (metrics, experiment, created) and deployment, of the projects this
    client may call."""
    settings = service.settings
    if not is_loopback(request) and not any(settings.allows(request, p) for p in settings.api_keys):
        raise HTTPException(401, settings.refusal(request, None), headers=BEARER)
    return [m for m in catalog(settings.home) if settings.allows(request, m["name"].split("/")[0])]


@operations_router.get("/health", response_model=Alive)
def health() -> dict:
    """Alive: the process answers."""
    return {"status": "alive"}


@operations_router.get("/ready", response_model=Ready, responses={503: {"model": Failure}},
                       dependencies=[Depends(local_or_keyed)])
def ready(service: Current) -> Any:
    """Ready: the home, the registry and the deployments can be read."""
    try:
        if not service.settings.home.is_dir():
            raise ArtifactError(f"The home folder {service.settings.home} does not exist.")
        registered = service.registry.names()
        deployed = service.deployments.all()
    except (ToolError, OSError) as error:
        return error_response(503, f"Not ready: {error}")
    return {"status": "ready", "models": len(registered), "deployed": len(deployed)}


@operations_router.get("/metrics", response_class=Response, dependencies=[Depends(local_or_keyed)])
def metrics(service: Current) -> Response:
    """Prometheus text format: requests, durations and predicted rows (summed over workers)."""
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    message = error.detail
    if error.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
        message = f"No endpoint {request.method} {request.url.path}; the API is described at /docs."
    return error_response(error.status_code, message, error.headers)


def create_app(home: str | os.PathLike | None = None) -> FastAPI:
    """The gateway app over `home` (default $DSGRAPH_HOME): what uvicorn runs in each worker."""
    settings = load_settings(home)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(settings)
        await run_in_threadpool(service.warm)
        try:
            yield {"service": service}
        finally:
            service.close()

    app = FastAPI(title="dsgraph gateway", summary="Registered dsgraph models over HTTP.", lifespan=lifespan)
    for router in (predict_router, models_router, operations_router):
        app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


def serve(home: str | os.PathLike | None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    """Run the gateway until stopped; with `workers` > 1 processes share the port and sum their metrics."""
    import uvicorn

    settings = load_settings(home)  # a bad config.toml fails here, before any worker starts
    os.environ[HOME_ENV] = str(settings.home)
    metrics_dir = tempfile.mkdtemp(prefix="dsgraph-metrics-") if workers > 1 else None
    if metrics_dir:  # read by prometheus_client when each (spawned) worker imports it
        os.environ[MULTIPROCESS_ENV] = metrics_dir
    try:
        uvicorn.run("serving.worker:create_app", factory=True, host=host, port=port, workers=workers,
                    access_log=False, timeout_graceful_shutdown=10)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it shut down on: for this command, that is the normal end
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROCESS_ENV, None)
    return 0
