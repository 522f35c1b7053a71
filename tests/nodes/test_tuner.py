"""The tuner node's verdict: a tuned model that is not better on the test split is said to be so, first."""

from nodes.tuner import _verdict


def record(id: str, node: str, test: float, cv: float | None = None) -> dict:
    return {"id": id, "node": node, "model": "svc", "task": "classification", "n_test": 262,
            "metrics": {"accuracy": test}, "cv": {"mean": cv} if cv is not None else None}


def test_a_tuned_model_that_beats_the_untuned_one_needs_no_verdict():
    tuned, untuned = record("tuned", "tuner", 0.85), record("plain", "trainer", 0.84)
    assert _verdict(tuned, untuned, tuned) == ""
    assert _verdict(tuned, None, tuned) == ""


def test_a_worse_tuned_model_is_said_to_be_worse_and_the_best_stays():
    tuned, untuned = record("tuned", "tuner", 0.8321), record("plain", "trainer", 0.8435)
    text = _verdict(tuned, untuned, untuned)
    assert text.startswith("**Tuning did not beat the untuned SVC (kernel) on the test split**")
    assert "accuracy 0.8321 tuned against 0.8435 untuned" in text
    assert "The best model stays **SVC (kernel)** (`plain`)" in text


def test_a_tuned_model_ranked_first_by_cross_validation_says_why():
    tuned = record("tuned", "tuner", 0.8321, cv=0.8071)
    untuned = record("plain", "trainer", 0.8435, cv=0.7994)
    text = _verdict(tuned, untuned, tuned)
    assert "did not beat" in text and "ranks first by cross-validation" in text
    assert "0.8071 against 0.7994" in text and "262 rows" in text
