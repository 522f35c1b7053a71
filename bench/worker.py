"""Subprocess entry of every measured job, so each has its own memory peak and its own accelerator.

`python -m bench.worker JOB.json RESULT.json`: the accelerator a job asks for ("cpu" is sklearnex, "gpu" is
cuDF + cuML) is switched on before pandas or scikit-learn is imported; reference jobs with "none" run stock
scikit-learn. dsgraph jobs pass their mode (None: dsgraph's default) to the Agent, which activates it.
"""

import json
import sys
from pathlib import Path
from typing import Any

IDENTIFIERS = ("name", "ticket")


def reference(job: dict[str, Any]) -> dict[str, Any]:
    """One stage of the reference pipeline on the job's file and dsgraph's split."""
    import pandas as pd

    from bench import reference as ref
    from tools.training import split

    frame = pd.read_parquet(job["data"])
    target, task, stage = job["target"], job["task"], job["stage"]
    train, test = split(frame, target, task)
    if stage == "all_columns":
        return ref.all_columns(frame, target, train, test, job["cap_s"])
    data = ref.prepare(frame.drop(columns=list(IDENTIFIERS)), target, train, test)
    if stage == "tuning":
        return ref.run_tuning(task, job["model"], data, job["n_trials"], job["cap_s"])
    return ref.run_models(task, data, job["cap_s"])


def ours(job: dict[str, Any]) -> dict[str, Any]:
    """dsgraph's requests through the Agent."""
    from bench import ours as dsgraph

    return dsgraph.run(Path(job["data"]), Path(job["home"]), job["n_trials"], job.get("accel"))


def scale(job: dict[str, Any]) -> dict[str, Any]:
    """Write the large file in chunks, then describe + classify it through the Agent."""
    import time

    from bench import ours as dsgraph
    from bench.data import write_parquet

    started = time.perf_counter()
    path = write_parquet(Path(job["data"]), job["rows"], seed=job["seed"])
    generated_s = time.perf_counter() - started
    result = dsgraph.scale(path, Path(job["home"]), job.get("accel"))
    return result | {"generate_s": generated_s, "rows": job["rows"]}


RUNNERS = {"reference": reference, "ours": ours, "scale": scale}


def main(argv: list[str]) -> int:
    """Run the job file `argv[0]`, write its result (with accelerator and memory) to `argv[1]`."""
    job = json.loads(Path(argv[0]).read_text())
    accelerator = {"mode": job.get("accel") or "dsgraph default"}
    if job["kind"] == "reference" and job.get("accel", "none") != "none":
        from tools import accel

        accelerator = accel.activate(job["accel"])
    result = RUNNERS[job["kind"]](job)
    from bench.measure import process_peak_rss_mb

    result |= {"accelerator": accelerator, "process_peak_rss_mb": process_peak_rss_mb()}
    Path(argv[1]).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
