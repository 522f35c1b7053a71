"""The bench's own parts at toy size: the generator's guarantees, capped fits and the report writer."""

import json

import numpy as np
import pytest

from bench import report
from bench.capped import fit_capped
from bench.data import CLASS_TARGET, REG_TARGET, bayes_scores, generate, write_parquet
from bench.reference import all_columns


@pytest.fixture(scope="module")
def table():
    return generate(3_000, seed=1)


def test_generator_has_titanic_columns_and_no_duplicates(table):
    frame, _ = table
    assert list(frame.columns) == ["pclass", "name", "sex", "age", "sibsp", "parch", "ticket", "fare",
                                   "embarked", "deck", CLASS_TARGET]
    assert not frame.duplicated().any() and frame["name"].is_unique
    assert 0.1 < frame["age"].isna().mean() < 0.3 and frame["deck"].isna().mean() > 0.6
    assert set(frame["sex"]) == {"female", "male"} and frame["embarked"].nunique() == 3
    assert frame["ticket"].nunique() > 0.9 * len(frame)


def test_generator_targets_are_sane_and_seeded(table):
    frame, truth = table
    assert set(frame[CLASS_TARGET].unique()) == {0, 1} and 0.25 < frame[CLASS_TARGET].mean() < 0.5
    assert (frame[REG_TARGET] > 0).all() and frame[REG_TARGET].median() < frame[REG_TARGET].mean()
    bayes = bayes_scores(frame, truth, np.arange(len(frame)))
    assert 0.7 < bayes["accuracy"] < 0.9 and 0.7 < bayes["r2"] < 0.95  # noisy, but far from a coin toss
    again, _ = generate(3_000, seed=1)
    assert again.equals(frame)


def test_chunks_never_repeat_a_name(tmp_path):
    import pandas as pd

    path = write_parquet(tmp_path / "t.parquet", 2_500, seed=3, chunk_rows=1_000)
    frame = pd.read_parquet(path)
    assert len(frame) == 2_500 and frame["name"].is_unique


def test_capped_fit_extrapolates_when_over_budget():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4_000, 5)), rng.integers(0, 2, 4_000)
    quick = fit_capped(LogisticRegression(), X, y, budget_s=60)
    assert not quick.extrapolated and quick.estimator.coef_.shape == (1, 5)
    forest = fit_capped(RandomForestClassifier(n_estimators=400, n_jobs=1), X, y, budget_s=0.0)
    assert forest.extrapolated and forest.estimator.n_estimators < 400 and "trees" in forest.note


def test_all_columns_reports_out_of_memory_without_allocating(table):
    frame, _ = table
    train, test = np.arange(2_400), np.arange(2_400, 3_000)
    result = all_columns(frame, CLASS_TARGET, train, test, cap_s=1, limit_bytes=1_000_000)
    assert result["status"] == "out of memory" and result["dense_bytes"] > 1_000_000
    assert "GiB" in result["note"]


def fake_result() -> dict:
    stage = {"ours_s": 2.0, "ref_s": 40.0, "ratio": 20.0, "ours_metric": 0.79, "ref_metric": 0.78,
             "peak_rss_mb": 300.0, "ref_peak_rss_mb": 900.0, "extrapolated": True,
             "note": "rf: 10 of 100 trees"}
    return {"date": "2000-01-01", "mode": "quick", "gpu": {"available": False, "reason": "no CUDA device"},
            "machine": {"cpu": "test cpu", "cores": 2, "memory_gib": 24, "python": "3.11",
                        "scikit_learn": "1.9", "pandas": "3.0"},
            "data": {"rows": 1000, "seed": 0, "bayes": {"accuracy": 0.8, "f1": 0.79, "r2": 0.86}},
            "stages": [stage | {"name": "classification", "metric": "f1"},
                       stage | {"name": "regression", "metric": "r2", "ratio": 5.0},
                       {"name": "classification, all columns", "ours_s": 2.0, "ref_s": None, "ratio": None,
                        "note": "out of memory"}],
            "overhead_ms": 12.0, "overhead_cheap_ms": 10.0, "checkpoint_bytes": 20_000,
            "checkpoint_detail": {"median": 15_000, "count": 9}, "startup_s": 1.2, "startup_runs": 3}


def test_report_writes_markdown_json_and_png(tmp_path):
    paths = report.write(fake_result(), tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"2000-01-01.md", "2000-01-01.json", "2000-01-01.png"}
    text = paths["md"].read_text()
    assert "| classification | 2.0 | 40.0 * | 20.0 |" in text and "GPU: not available" in text
    assert "✓ classification: ratio 20.0 ≥ 10" in text and "✗ regression: ratio 5.0 ≥ 10" in text
    assert json.loads(paths["json"].read_text())["stages"][0]["ratio"] == 20.0
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
