"""Time the default classification model set on a wide Titanic-shaped table (issue: 1M rows × ~25 columns).

    python -m bench.train_default [--rows 1000000] [--accel auto|cpu|none] [--all-rows]

Prints per-model seconds, test metrics and the process's peak resident memory.
"""

import argparse
import tempfile

import numpy as np


def widen(frame, seed: int = 0):
    """Add weak numeric, low-cardinality and high-cardinality columns (with missing values) to ~25 columns."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    for i in range(8):
        values = rng.normal(size=n).astype(np.float32)
        values[rng.random(n) < 0.05 * (i % 3)] = np.nan
        frame[f"x{i}"] = values
    for i in range(3):
        frame[f"c{i}"] = rng.choice([f"v{j}" for j in range(4 + 3 * i)], n).astype(object)
    cabin = np.char.add(rng.choice(list("ABCDEFG"), n), rng.integers(1, 9999, n).astype(str)).astype(object)
    cabin[rng.random(n) < 0.75] = None
    frame["cabin"] = cabin
    home = np.char.add("Town", rng.integers(0, 5000, n).astype(str)).astype(object)
    home[rng.random(n) < 0.4] = None
    frame["home_dest"] = home
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accel", default="auto")
    parser.add_argument("--all-rows", action="store_true", help="fit every training row (no sample)")
    args = parser.parse_args()

    from tools import accel

    print("accelerator:", accel.activate(args.accel))
    from bench.data import CLASS_TARGET, generate
    from bench.measure import measured
    from nodes.trainer import sample_rows
    from tools.models import default_models
    from tools.training import train

    frame = widen(generate(args.rows, truth=False)[0])
    max_rows = None if args.all_rows else sample_rows(len(frame))
    print(f"data: {frame.shape[0]:,} rows × {frame.shape[1]} columns; fitting on {max_rows or 'all'} rows")
    total = 0.0
    with tempfile.TemporaryDirectory() as out, measured() as all_models:
        for key, reason in default_models("classification", len(frame), frame.shape[1] - 1):
            with measured() as one:
                record = train(frame, CLASS_TARGET, key, out_dir=out, record_id=key, max_rows=max_rows)
            total += one.seconds
            scores = ", ".join(f"{m} {record['metrics'][m]:.4f}" for m in ("accuracy", "f1", "roc_auc"))
            print(f"{key:<24} {one.seconds:6.1f} s  {scores}  ({reason})")
    print(f"default classification set: {total:.1f} s; peak RSS {all_models.peak_rss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
