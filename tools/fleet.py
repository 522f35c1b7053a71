"""Every registered version at a glance: its test metric, where it is deployed and how it served lately."""

import os
import time
from typing import Any

from tools.deployments import catalog
from tools.request_log import RequestLog

WINDOW_S = 24 * 3600  # serving figures cover this last stretch of time


def overview(home: str | os.PathLike, name: str | None = None, window_s: float = WINDOW_S,
             projects: set[str] | None = None) -> list[dict]:
    """One row per registered version (of `name`, or all; of `projects` when given): model, version,
    experiment, metric, value, deployed ("80% live", "shadow" or ""), requests, errors, p50_ms and p99_ms."""
    log, since = RequestLog(home), time.time() - window_s
    rows = []
    for model in catalog(home):
        if name not in (None, model["name"]) or (projects is not None
                                                 and model["name"].split("/")[0] not in projects):
            continue
        deployed = {d["version"]: d for d in model["deployment"]}
        served = {(r["version"], r["mirrored"]): r for r in log.summary(model["name"], since)}
        rows += [_row(model["name"], v, deployed.get(v["version"]), served) for v in model["versions"]]
    return rows


def _row(name: str, version: dict[str, Any], deployed: dict | None, served: dict) -> dict[str, Any]:
    shadow = bool(deployed) and deployed["mode"] == "shadow"
    metric, value = next(iter((version.get("metrics") or {}).items()), (None, None))
    seen = served.get((version["version"], shadow)) or {}
    return {"model": name, "version": version["version"], "experiment": version["experiment"],
            "metric": metric, "value": value,
            "deployed": "shadow" if shadow else f"{deployed['traffic']:g}% live" if deployed else "",
            **{key: seen.get(key) for key in ("requests", "errors", "p50_ms", "p99_ms")}}
