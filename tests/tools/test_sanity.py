"""The too-good-to-be-true check on a trained model's test metrics."""

import pytest

from tools.sanity import too_good_to_be_true

IMPORTANCES = [("sex", 0.12), ("delay_minutes", 0.61), ("fare", -0.2), ("age", 0.05)]


def test_a_near_perfect_roc_auc_is_flagged_with_the_top_three_features():
    found = too_good_to_be_true("classification", {"accuracy": 0.93, "roc_auc": 0.995}, 0.6, IMPORTANCES)
    assert found["metric"] == "roc_auc" and found["value"] == pytest.approx(0.995)
    assert found["features"] == ["delay_minutes", "fare", "sex"]
    assert "test ROC-AUC 0.995 is near perfect" in found["why"]
    assert "`delay_minutes`, `fare`, `sex`" in found["why"]


def test_a_near_perfect_accuracy_counts_only_against_a_non_trivial_baseline():
    metrics = {"accuracy": 0.992, "roc_auc": float("nan")}
    found = too_good_to_be_true("classification", metrics, 0.75, IMPORTANCES)
    assert found["metric"] == "accuracy" and "majority class scores 0.750" in found["why"]
    assert too_good_to_be_true("classification", metrics, 0.98, IMPORTANCES) is None  # 98% are one class
    assert too_good_to_be_true("classification", {"accuracy": 0.98}, 0.5, IMPORTANCES) is None


def test_a_near_perfect_r2_is_flagged_and_ordinary_scores_are_not():
    found = too_good_to_be_true("regression", {"r2": 0.999, "rmse": 0.1}, None, [])
    assert found["metric"] == "r2" and found["features"] == []
    assert found["why"].startswith("test R² 0.999 is near perfect")
    assert too_good_to_be_true("regression", {"r2": 0.93}, None, IMPORTANCES) is None
    ordinary = {"accuracy": 0.85, "roc_auc": 0.91}
    assert too_good_to_be_true("classification", ordinary, 0.5, IMPORTANCES) is None
