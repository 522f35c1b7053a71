"""A checkpoint holds references, not data: the same size per step for 1k and 1M rows, under 64 KB."""

from pathlib import Path

import numpy as np
import pandas as pd

from graph.agent import Agent


def table(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4)).astype("float32")
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["y"] = (x[:, 0] + x[:, 1] > 0).astype("int8")
    frame.to_parquet(path)
    return path


def test_checkpoint_size_does_not_grow_with_rows(home: Path, tmp_path: Path) -> None:
    agent = Agent(home=home, accel="none")
    sizes = {}
    for rows in (1_000, 1_000_000):
        path = table(tmp_path / f"rows{rows}.parquet", rows)
        result = agent.ask(f"load {path}, the target is y, preview it")
        assert [s["status"] for s in result["steps"]] == ["done"] * 3, result["reply"]
        sizes[rows] = agent.checkpoint_sizes(result["thread_id"])
    small, large = sizes[1_000], sizes[1_000_000]
    assert len(small) == len(large) >= 5
    for a, b in zip(small, large, strict=True):
        assert abs(a - b) <= 0.1 * a and b < 64 * 1024, (small, large)
