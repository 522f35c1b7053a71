"""Time drift detection on 1M new rows × 20 columns against a reference of 200k training rows.

    python -m bench.drift [--rows 1000000] [--train-rows 200000] [--runs 3] [--out DIR] [--json]

The table mixes 12 numeric columns (float32, some with missing values), 6 categorical ones (5 to 300
levels), a yes/no flag and a timestamp. The new rows shift four columns on purpose (a mean shift, a wider
spread, a new level, a jump in missing values); the rest are drawn as in training, so the report also
shows that only those four are flagged. Writes bench/results/drift-<date>.md and .json.
"""

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 5.0
SHIFTED = {"x0": "mean +0.5 sd", "x1": "spread ×1.5", "c0": "a new level in 10% of rows",
           "x2": "missing 0% → 25%"}
BUSY_LOAD = 1.0  # 1-minute load average before the bench starts: at least one other job was running
CONTENDED = 1.15  # wall ÷ CPU time of a (single-threaded) run beyond this: it waited for a core


def table(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    """The 20-column table; `shifted` applies SHIFTED to the new rows."""
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(12):
        values = rng.normal(i, 1 + i, rows)
        if i == 0 and shifted:
            values += 0.5 * (1 + i)
        if i == 1 and shifted:
            values = i + (values - i) * 1.5
        values[rng.random(rows) < (0.25 if i == 2 and shifted else 0.02 * (i % 4 == 3))] = np.nan
        columns[f"x{i}"] = values.astype(np.float32)
    for i, levels in enumerate((5, 12, 30, 60, 120, 300)):
        names = np.array([f"level{j}" for j in range(levels)], dtype=object)
        weights = 1 / np.arange(1, levels + 1)  # Zipf-like: a few common levels and a long tail
        picked = names[rng.choice(levels, rows, p=weights / weights.sum())]
        if i == 0 and shifted:
            picked[rng.random(rows) < 0.1] = "brand-new"
        columns[f"c{i}"] = pd.Series(picked, dtype="str")
    columns["flag"] = rng.random(rows) < 0.3
    columns["at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), "s")
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--json", action="store_true", help="also print the result JSON")
    args = parser.parse_args()

    from bench.measure import machine
    from tools.drift import drift
    from tools.reference import reference_stats

    started_load = os.getloadavg()
    new = table(args.rows, seed=2, shifted=True)
    began = time.perf_counter()
    reference = reference_stats(table(args.train_rows, seed=1, shifted=False))
    reference_s = time.perf_counter() - began
    wall, cpu = [], []
    for _ in range(args.runs):
        began_wall, began_cpu = time.perf_counter(), time.process_time()
        result = drift(reference, new)
        wall.append(time.perf_counter() - began_wall)
        cpu.append(time.process_time() - began_cpu)
    ended_load = os.getloadavg()
    median = float(np.median(wall))
    report = {
        "command": " ".join(["python -m bench.drift", *sys.argv[1:]]), "date": date.today().isoformat(),
        "machine": machine(), "load_average_at_start": [round(x, 2) for x in started_load],
        "load_average_at_end": [round(x, 2) for x in ended_load], "busy": started_load[0] >= BUSY_LOAD,
        "waited_for_cpu": max(w / c for w, c in zip(wall, cpu, strict=True)) > CONTENDED,
        "rows": args.rows, "train_rows": args.train_rows, "columns": new.shape[1], "runs": args.runs,
        "seconds": [round(x, 3) for x in wall], "cpu_seconds": [round(x, 3) for x in cpu],
        "median_s": round(median, 3), "target_s": TARGET_S, "met": median <= TARGET_S,
        "reference_s": round(reference_s, 3), "shifted": SHIFTED, "verdict": result["verdict"],
        "drifted": {column: next(f["severity"] for f in result["features"] if f["column"] == column)
                    for column in result["drifted"]},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"drift-{report['date']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    stem.with_suffix(".md").write_text(_markdown(report))
    print(_markdown(report), file=sys.stderr)
    if args.json:
        print(json.dumps(report))


def _markdown(report: dict) -> str:
    m = report["machine"]
    waited = "a run waited for a core (wall time above CPU time), so the times are upper bounds"
    state = {(True, True): f"other jobs were running and {waited}",
             (True, False): "other jobs were running, but every run had a core to itself (wall ≈ CPU time)",
             (False, True): waited, (False, False): "idle"}[report["busy"], report["waited_for_cpu"]]
    drifted = ", ".join(f"{column} ({severity})" for column, severity in report["drifted"].items()) or "none"
    shifted = ", ".join(f"{column}: {what}" for column, what in report["shifted"].items())
    return "\n".join([
        f"# Drift detection, {report['date']}", "",
        f"`{report['command']}`. Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python "
        f"{m['python']}, numpy {m['numpy']}, pandas {m['pandas']}. Load average at start "
        f"{report['load_average_at_start']}, at the end {report['load_average_at_end']}: {state}.", "",
        f"`tools.drift.drift` on {report['rows']:,} new rows × {report['columns']} columns against the "
        f"reference statistics of {report['train_rows']:,} training rows (computed in "
        f"{report['reference_s']:.2f} s).", "",
        "| measure | value |", "| --- | ---: |",
        f"| median of {report['runs']} runs, s (target ≤ {report['target_s']:g}) "
        f"| {report['median_s']:.2f} |",
        f"| runs, s | {', '.join(f'{x:.2f}' for x in report['seconds'])} |",
        f"| CPU time per run, s | {', '.join(f'{x:.2f}' for x in report['cpu_seconds'])} |", "",
        f"Shifted on purpose: {shifted}. Verdict {report['verdict']}; flagged: {drifted}.", "",
    ])


if __name__ == "__main__":
    main()
