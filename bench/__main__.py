"""`python -m bench [--quick] [--json] [--rows N] [--out DIR]`: dsgraph against the reference pipeline.

Every measured job runs in its own subprocess (bench/worker.py) with a time-out; progress goes to stderr,
and with `--json` the result JSON alone goes to stdout.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import compare, report
from bench.measure import machine

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
CLS = {"target": "survived", "task": "classification"}
REG = {"target": "fare", "task": "regression"}


@dataclass(frozen=True)
class Mode:
    """Sizes and wall-time caps of one bench mode."""

    name: str
    rows: int
    set_cap_s: float  # reference model set: shared by its three models
    tuning_cap_s: float  # reference tuning
    n_trials: int
    scale_rows: int  # 0: no scale run
    startup_runs: int
    job_timeout_s: float


QUICK = Mode("quick", 250_000, 20.0, 30.0, 20, 0, 3, 900.0)
FULL = Mode("full", 1_000_000, 900.0, 600.0, 20, 10_000_000, 5, 5400.0)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; write bench/results/<date>[-quick].md, .json and .png (or into --out)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="about 5 minutes: 250k rows, tight caps, no scale run")
    parser.add_argument("--json", action="store_true", help="also print the result JSON to stdout")
    parser.add_argument("--rows", type=int, help="rows of the generated table (default 250k quick, 1M full)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="report folder")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.rows:
        mode = replace(mode, rows=args.rows)
    with tempfile.TemporaryDirectory(prefix="dsgraph-bench-") as work:
        result = run(mode, Path(work))
    stem = result["date"] if mode.name == "full" else f"{result['date']}-{mode.name}"
    paths = report.write(result, args.out, stem)
    _say(f"report: {paths['md']}")
    if args.json:
        print(json.dumps(result, default=str))
    return 0


def run(mode: Mode, work: Path) -> dict[str, Any]:
    """Generate the data, run both sides and assemble the result object."""
    from tools import accel

    started = time.perf_counter()
    data_path = work / "titanic.parquet"
    data = generate(data_path, mode.rows)
    gpu_found = accel.gpu_available()
    gpu = {"available": gpu_found,
           "reason": "a CUDA device answered" if gpu_found else "no CUDA device answered the driver probe"}
    jobs = Jobs(work, mode.job_timeout_s)
    ref = reference_jobs(jobs, "ref", "none", mode, data_path)
    ref["all_columns"] = jobs.run("ref-all-columns", CLS | {"kind": "reference", "data": str(data_path),
                                                            "accel": "none", "stage": "all_columns",
                                                            "cap_s": mode.set_cap_s})
    sklearnex = reference_jobs(jobs, "sklearnex", "cpu", mode, data_path, ref["tuning"].get("model"))
    ours = jobs.run("dsgraph", {"kind": "ours", "data": str(data_path), "home": str(work / "home"),
                                "n_trials": mode.n_trials})
    result = assemble(mode, data, gpu, ref, sklearnex, ours)
    result["startup_s"], result["startup_runs"] = startup(work / "startup-home", mode.startup_runs)
    if mode.scale_rows:
        result["scale"] = jobs.run("scale", {"kind": "scale", "data": str(work / "scale.parquet"),
                                             "home": str(work / "scale-home"), "rows": mode.scale_rows,
                                             "seed": SEED})
        result["stages"].append(compare.scale(result["scale"]))
    if gpu_found:
        result["stages"] += gpu_stages(jobs, mode, data_path, work, ref["tuning"].get("model"))
    result["stages"] = [compare.complete(row) for row in result["stages"]]
    result["bench_s"] = time.perf_counter() - started
    return result


def generate(path: Path, rows: int) -> dict[str, Any]:
    """Write the table; the Bayes-optimal scores on dsgraph's test split of each target."""
    from bench.data import CLASS_TARGET, REG_TARGET, bayes_scores
    from bench.data import generate as make
    from tools.training import split

    _say(f"generating {rows:,} rows")
    frame, truth = make(rows, seed=SEED)
    frame.to_parquet(path, index=False)
    cls_test = split(frame, CLASS_TARGET, "classification")[1]
    reg_test = split(frame, REG_TARGET, "regression")[1]
    bayes = bayes_scores(frame, truth, cls_test)
    bayes["r2"] = bayes_scores(frame, truth, reg_test)["r2"]
    return {"rows": rows, "seed": SEED, "columns": list(frame.columns), "bayes": bayes}


class Jobs:
    """Runs worker subprocesses with a time-out; a failed job becomes {"error": ...}, never a crash."""

    def __init__(self, work: Path, timeout_s: float) -> None:
        self.work, self.timeout_s = work, timeout_s

    def run(self, name: str, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job and return its result (with `wall_s`)."""
        _say(f"running {name}")
        job_path, out_path, log_path = (self.work / f"{name}.{ext}" for ext in ("job.json", "out.json",
                                                                                   "log"))
        job_path.write_text(json.dumps(job))
        env = os.environ | {"PYTHONPATH": str(ROOT), "DSGRAPH_HOME": str(self.work / "home")}
        started = time.perf_counter()
        try:
            with log_path.open("w") as log:
                done = subprocess.run([sys.executable, "-m", "bench.worker", str(job_path), str(out_path)],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"{name} timed out after {self.timeout_s:.0f} s", "wall_s": self.timeout_s}
        wall = time.perf_counter() - started
        if done.returncode != 0 or not out_path.exists():
            tail = log_path.read_text()[-1500:].strip()
            return {"error": f"{name} failed (exit {done.returncode}): {tail}", "wall_s": wall}
        return json.loads(out_path.read_text()) | {"wall_s": wall}


def assemble(mode: Mode, data: dict, gpu: dict, ref: dict, sklearnex: dict, ours: dict) -> dict[str, Any]:
    """The result object: stages side by side plus the agent's own costs."""
    result = {"date": datetime.date.today().isoformat(), "mode": mode.name, "machine": machine(), "gpu": gpu,
              "data": data, "caps": {"model_set_s": mode.set_cap_s, "tuning_s": mode.tuning_cap_s,
                                     "n_trials": mode.n_trials},
              "reference": ref, "reference_sklearnex": sklearnex, "ours": ours, "notes": []}
    if "error" in ours:
        error = ours["error"].splitlines()[0]
        stages = [compare.reference_only(name, ref[name], metric, error)
                  for name, metric in (("classification", "f1"), ("regression", "r2"), ("tuning", "f1"))]
        return result | {"stages": stages, "overhead_ms": None, "checkpoint_bytes": None}
    stages = [compare.model_sets("classification", ref["classification"], ours, "classification"),
              compare.model_sets("regression", ref["regression"], ours, "regression"),
              compare.tuning(ref["tuning"], ours, "tuning"),
              compare.model_sets("classification", sklearnex["classification"], ours,
                                 "classification vs reference + sklearnex"),
              compare.model_sets("regression", sklearnex["regression"], ours,
                                 "regression vs reference + sklearnex"),
              compare.tuning(sklearnex["tuning"], ours, "tuning vs reference + sklearnex"),
              compare.all_columns(ref["all_columns"], ours)]
    result["models"] = {
        "ours": [m for task in ("classification", "regression", "tuning")
                 for m in compare.models(task, ours[task], ours=True)],
        "reference": [m for task in ("classification", "regression")
                      for m in compare.models(task, ref[task], ours=False)]}
    return result | {"stages": stages, "overhead_ms": ours["overhead_ms"],
                     "overhead_cheap_ms": ours["overhead_cheap_ms"],
                     "checkpoint_bytes": ours["checkpoint_bytes"]["max"],
                     "checkpoint_detail": ours["checkpoint_bytes"]}


def startup(home: Path, runs: int) -> tuple[float, int]:
    """Median wall seconds of `python app.py ask "help"` (after one untimed run that warms the disk cache)."""
    command = [sys.executable, str(ROOT / "app.py"), "--home", str(home), "ask", "help"]
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120, check=False)
        if i:
            times.append(time.perf_counter() - started)
    return statistics.median(times), runs


def reference_jobs(jobs: "Jobs", prefix: str, accel: str, mode: Mode, data_path: Path,
                   tune_model: str | None = None) -> dict[str, dict[str, Any]]:
    """The reference's classification set, regression set and tuning (of its best classifier by default)."""
    common = {"kind": "reference", "data": str(data_path), "accel": accel}
    sets = {"stage": "models", "cap_s": mode.set_cap_s}
    out = {"classification": jobs.run(f"{prefix}-classification", common | CLS | sets),
           "regression": jobs.run(f"{prefix}-regression", common | REG | sets)}
    model = tune_model or out["classification"].get("best", "logistic_regression")
    out["tuning"] = jobs.run(f"{prefix}-tuning", common | CLS | {"stage": "tuning", "model": model,
                                                               "n_trials": mode.n_trials,
                                                               "cap_s": mode.tuning_cap_s})
    return out


def gpu_stages(jobs: "Jobs", mode: Mode, data_path: Path, work: Path, tune_model: str | None) -> list[dict]:
    """Both sides again with cuDF / cuML active (only called when a CUDA device answers)."""
    ref = reference_jobs(jobs, "gpu-ref", "gpu", mode, data_path, tune_model)
    ours = jobs.run("gpu-dsgraph", {"kind": "ours", "data": str(data_path), "home": str(work / "gpu-home"),
                                    "n_trials": mode.n_trials, "accel": "gpu"})
    if "error" in ours:
        return [{"name": "GPU run", "ours_s": None, "ref_s": None, "ratio": None, "note": ours["error"]}]
    return [compare.model_sets("classification", ref["classification"], ours, "classification (GPU)"),
            compare.model_sets("regression", ref["regression"], ours, "regression (GPU)"),
            compare.tuning(ref["tuning"], ours, "tuning (GPU)")]


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
