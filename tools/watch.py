"""Checks of a registered model on new data, each kept in its monitoring log: drift against its training
reference (new rows from a file or from the gateway's request log), performance decay, and a retrained
challenger against the champion. The monitor node, the trainer node and `app.py monitor` call these."""

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from tools import decay, retrain
from tools import drift as drift_check
from tools.deployments import Deployments
from tools.errors import DataError
from tools.model_registry import ModelRegistry
from tools.monitoring import MonitoringLog
from tools.request_log import RequestLog

DEFAULT_REQUESTS = 1_000  # a drift check on served traffic looks at this many recent requests by default


def serving_version(home: str | os.PathLike, name: str, version: int | None = None) -> int:
    """`version` (checked to exist), else the version serving most of the live traffic, else the newest."""
    registry = ModelRegistry(home)
    if version is None:
        live = [d for d in Deployments(home).current(name) if d["mode"] == "live"]
        if live:
            return max(live, key=lambda d: d["traffic"])["version"]
    return registry.get(name, version)["version"]


def served_rows(home: str | os.PathLike, name: str, last: int | None = None,
                hours: float | None = None) -> tuple[pd.DataFrame, str]:
    """The input rows the gateway logged for `name` (the last N requests, or the last hours) and a label."""
    if last is None and hours is None:
        last = DEFAULT_REQUESTS
    since = time.time() - hours * 3600 if hours else None
    rows = RequestLog(home).inputs(name, last=last, since=since)
    window = f"the last {last:,} requests" if last else f"the last {hours:g} hours"
    if rows.empty:
        raise DataError(f"The gateway has logged no requests for {name} in {window}: send it traffic "
                        "(`python app.py gateway`), or check drift on a file (`check drift of NAME on "
                        "new.csv`).")
    return rows, f"{len(rows):,} rows served in {window}"


def check_drift(home: str | os.PathLike, name: str, frame: pd.DataFrame, version: int, source: str,
                out_dir: Path | None = None) -> dict[str, Any]:
    """Drift of `frame` against `version`'s training reference, as a stored monitoring record."""
    found = drift_check.drift(ModelRegistry(home).reference(name, version), frame, out_dir=out_dir)
    return MonitoringLog(home).add({"kind": "drift", "model": name, "version": version, "source": source,
                                    **found})


def check_decay(home: str | os.PathLike, name: str, frame: pd.DataFrame, version: int,
                source: str) -> dict[str, Any]:
    """`version`'s metrics on labelled new rows beside its training-time metrics, as a stored record."""
    registry = ModelRegistry(home)
    meta = registry.get(name, version)
    experiment = meta["experiment"]
    found = decay.evaluate(registry.load(name, version), frame, meta["dataset"]["target"], experiment["task"],
                           experiment["metrics"])
    return MonitoringLog(home).add({"kind": "evaluate", "model": name, "version": version, "source": source,
                                    **found})


def check_retrain(home: str | os.PathLike, name: str, new: pd.DataFrame, version: int, *,
                  old: pd.DataFrame | None, out_dir: Path, record_id: str, source: str,
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train `version`'s recipe on new data (or old + new) and compare it with the champion on one fresh
    holdout: (the stored retrain record, the challenger's experiment fields)."""
    registry = ModelRegistry(home)
    meta = registry.get(name, version)
    found = retrain.retrain(meta, registry.load(name, version), new, old=old, out_dir=out_dir,
                            record_id=record_id)
    record = {"kind": "retrain", "model": name, "version": version, "source": source,
              "metric": found["metric"],
              "champion": {"version": version, "value": found["champion"]["value"]},
              "challenger": {"experiment": record_id, "value": found["challenger"]["value"]},
              "holdout_rows": found["holdout_rows"], "recommendation": found["recommendation"],
              "reason": found["reason"]}
    return MonitoringLog(home).add(record), found["challenger"]["fields"]


def training_data(home: str | os.PathLike, name: str, version: int) -> pd.DataFrame:
    """The table `version` was trained on (its columns the user excluded left out), for old + new."""
    from tools.loading import load_cached

    dataset = ModelRegistry(home).get(name, version)["experiment"]["dataset"]
    frame = load_cached(dataset["path"], dataset.get("sha256")).frame
    return frame.drop(columns=dataset.get("excluded") or [], errors="ignore")
