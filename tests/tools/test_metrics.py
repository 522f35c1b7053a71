"""Test metrics: the one-pass confusion-matrix metrics agree with scikit-learn's own functions."""

import numpy as np
import pytest
from sklearn import metrics as skm

from tools.metrics import score


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("labels", [np.array([-1, 1, 3, 5, 7]), np.array(list("abcde"), dtype=object)])
def test_classification_metrics_match_scikit_learn(labels):
    rng = np.random.default_rng(0)
    for case in range(60):
        k = int(rng.integers(2, len(labels) + 1))
        n = int(rng.integers(5, 300))
        # some cases leave a class out of the truth, others out of the predictions
        y_true = labels[rng.integers(0, k - (case % 3 == 0), n)]
        y_pred = labels[rng.integers(case % 4 == 0, k, n)]
        got = score("classification", y_true, y_pred)
        want = {
            "accuracy": skm.accuracy_score(y_true, y_pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
            "f1": skm.f1_score(y_true, y_pred, average="weighted", zero_division=0),
            "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
            "precision": skm.precision_score(y_true, y_pred, average="weighted", zero_division=0),
            "recall": skm.recall_score(y_true, y_pred, average="weighted", zero_division=0),
        }
        assert got == pytest.approx({key: round(value, 6) for key, value in want.items()}, abs=1e-6), case


def test_probabilities_add_roc_auc_and_log_loss():
    y_true = np.array([0, 1, 1, 0, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [0.7, 0.3], [0.8, 0.2]])
    got = score("classification", y_true, proba.argmax(axis=1), proba, [0, 1])
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y_true, proba[:, 1]), abs=1e-6)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y_true, proba), abs=1e-6)
