"""Leak flags on generated tables of known shape: cuts, monotone transforms, post-outcome dates and ids."""

import re

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tools.loading import load_dataset
from tools.profile import column_roles, describe

ROWS = 5000


def _noise(rng: np.random.Generator, n: int = ROWS) -> dict[str, object]:
    """Honest columns with no link to any target."""
    return {
        "noise": rng.normal(size=n),
        "visits": rng.poisson(3, n),
        "region": rng.choice(["north", "south", "east", "west"], n),
    }


def _leaks(frame: pd.DataFrame, target: str) -> dict[str, str]:
    """Column → reason of every leak that describe() flags."""
    return {leak["column"]: leak["reason"] for leak in describe(frame, target)["flags"]["leak"]}


def test_a_threshold_on_a_number_is_a_leak_and_the_reason_states_the_cut():
    rng = np.random.default_rng(0)
    on_time = rng.random(ROWS) < 0.8  # most flights near schedule, a long tail of delays
    delay = np.where(on_time, rng.normal(-5, 12, ROWS), rng.exponential(40, ROWS)).round().astype(int)
    flights = pd.DataFrame({"delay_minutes": delay, "late": (delay > 60).astype(int), **_noise(rng)})
    score = rng.normal(75, 15, ROWS).round(1)
    exams = pd.DataFrame({"final_score": score, "passed": np.where(score >= 50, "yes", "no"), **_noise(rng)})

    leaks = _leaks(flights, "late")
    assert set(leaks) == {"delay_minutes"}
    assert "ROC-AUC 1.000 on held-out rows" in leaks["delay_minutes"]
    assert "`late` is 1 exactly when `delay_minutes` > 60" in leaks["delay_minutes"]
    leaks = _leaks(exams, "passed")
    assert set(leaks) == {"final_score"}
    assert "`passed` is yes exactly when `final_score` ≥ 50" in leaks["final_score"]


def test_a_97_percent_predictive_column_is_a_leak_on_two_and_on_four_classes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=ROWS)
    flipped = rng.random(ROWS) < 0.03
    binary = pd.DataFrame({"signal": x, "outcome": (x > 0) ^ flipped, **_noise(rng)})
    score = rng.uniform(0, 100, ROWS)
    grades = pd.DataFrame({"score": score, "grade": pd.cut(score, [0, 40, 55, 70, 100], labels=list("DCBA"))})
    grades["grade"] = grades["grade"].astype("str")

    leaks = _leaks(binary, "outcome")
    assert set(leaks) == {"signal"}
    accuracy = float(re.search(r"with ([\d.]+)% accuracy on held-out rows", leaks["signal"]).group(1))
    assert 96 <= accuracy <= 98
    assert _leaks(grades, "grade").keys() == {"score"}


def test_monotone_transforms_of_a_regression_target_are_leaks():
    rng = np.random.default_rng(2)
    price = np.exp(rng.normal(11, 1.0, ROWS))  # skewed like real prices: coarse bins miss the tail
    frame = pd.DataFrame(
        {
            "price": price,
            "log_price": np.log(price) + rng.normal(scale=0.02, size=ROWS),
            "price_cubed": price**3 * (1 + rng.normal(scale=0.01, size=ROWS)),
            "size_m2": np.log(price) * 10 + rng.normal(scale=5, size=ROWS),  # strong but honest
            **_noise(rng),
        }
    )
    leaks = _leaks(frame, "price")
    assert set(leaks) == {"log_price", "price_cubed"}
    assert all("Spearman" in why for why in leaks.values())


def _churn_table(rng: np.random.Generator) -> pd.DataFrame:
    churned = rng.random(ROWS) < 0.3
    snapshot = pd.Timestamp("2025-01-01")
    days = pd.to_timedelta(rng.integers(1, 365, ROWS), unit="D")
    account = np.empty(ROWS, dtype=np.int64)  # numbered after sorting by outcome: ranges differ per class
    account[np.argsort(churned, kind="stable")] = np.arange(10_000, 10_000 + ROWS)
    return pd.DataFrame(
        {
            "churned": churned.astype(int),
            "churn_date": pd.Series(snapshot - days).where(churned),
            "contract_end": np.where(churned, snapshot - days, snapshot + days),  # ended only if churned
            "signup": snapshot - pd.to_timedelta(rng.integers(400, 3000, ROWS), unit="D"),
            "case_no": np.where(churned, "L-", "W-") + pd.Series(rng.permutation(ROWS)).astype(str),
            "account_no": account,
            **_noise(rng),
        }
    )


def test_post_outcome_dates_and_outcome_coded_ids_are_leaks(tmp_path):
    path = tmp_path / "churn.csv"
    _churn_table(np.random.default_rng(3)).to_csv(path, index=False)
    frame = load_dataset(path).frame
    assert pd.api.types.is_datetime64_any_dtype(frame["churn_date"])
    assert pd.api.types.is_datetime64_any_dtype(frame["contract_end"])

    leaks = _leaks(frame, "churned")
    assert set(leaks) == {"churn_date", "contract_end", "case_no", "account_no"}
    assert "when `churn_date` is present" in leaks["churn_date"]
    assert "`churned` is 0 exactly when `contract_end` > 2024-12-31" in leaks["contract_end"]
    assert leaks["case_no"].startswith("with its digits masked (`W-#`, `L-#`)")
    assert "ROC-AUC 1.000" in leaks["account_no"]
    assert column_roles(frame, "churned")["signup"] == "datetime"


def test_strong_honest_features_are_not_leaks():
    rng = np.random.default_rng(4)
    income = rng.normal(size=ROWS)
    bought = rng.random(ROWS) < 1 / (1 + np.exp(-2.2 * income))
    frame = pd.DataFrame({"income": income, "bought": bought.astype(int), **_noise(rng)})
    assert 0.85 <= roc_auc_score(bought, income) <= 0.9
    assert _leaks(frame, "bought") == {}


def test_titanic_leaks_are_boat_and_body_only(titanic):
    roles = column_roles(titanic, "survived")
    assert {c for c, role in roles.items() if role == "leak"} == {"boat", "body"}
    assert all(roles[c] != "leak" for c in ("sex", "fare", "pclass", "age"))


def test_no_leaks_on_real_tables_without_them(samples):
    for name, target in (
        ("adult.csv.gz", "income"),
        ("penguins.csv", "species"),
        ("ames_housing.csv.gz", "SalePrice"),
        ("diamonds.csv.gz", "price"),
    ):
        frame = load_dataset(samples / name).frame
        assert _leaks(frame, target) == {}, name
