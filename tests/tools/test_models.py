"""The model catalog: every key builds and fits, defaults follow the data size, bad keys are refused."""

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_classification, make_regression

from tools import models
from tools.errors import ModelError
from tools.keys import MODELS, TASKS, models_for

CASES = [(key, task) for key in MODELS for task in MODELS[key].tasks]


@pytest.fixture(scope="module")
def tiny() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    X_class, y_class = make_classification(n_samples=80, n_features=6, n_informative=4, random_state=0)
    X_reg, y_reg = make_regression(n_samples=80, n_features=6, noise=5.0, random_state=0)
    return {"classification": (X_class.astype(np.float32), y_class),
            "regression": (X_reg.astype(np.float32), y_reg)}


@pytest.mark.parametrize(("key", "task"), CASES)
def test_every_key_builds_and_fits_with_defaults(key, task, tiny):
    X, y = tiny[task]
    estimator = models.build(key, task, n_rows=len(y), n_features=X.shape[1])
    predictions = estimator.fit(X, y).predict(X)
    assert predictions.shape == y.shape
    params = models.effective_params(estimator, key, task)
    assert params and all(v is None or isinstance(v, bool | int | float | str) for v in params.values())


@pytest.mark.parametrize(("key", "task"), CASES)
def test_every_search_space_samples_buildable_params(key, task, tiny):
    X, y = tiny[task]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    params = models.search_space(key, task, study.ask(), n_rows=len(y))
    assert params
    models.build(key, task, params, n_rows=len(y), n_features=X.shape[1]).fit(X, y)


def test_check_model_rejects_wrong_task_and_unknown_key_naming_valid_keys():
    with pytest.raises(ModelError, match="ridge") as wrong_task:
        models.check_model("ridge", "classification")
    assert all(key in str(wrong_task.value) for key in models_for("classification"))
    with pytest.raises(ModelError, match="Unknown model 'xgb'"):
        models.check_model("xgb", "regression")
    with pytest.raises(ModelError, match="no parameter"):
        models.build("ridge", "regression", {"n_trees": 3})


def test_default_models_follow_data_size():
    for task in TASKS:
        small = [key for key, _ in models.default_models(task, 1_000, 12)]
        large = [key for key, _ in models.default_models(task, 1_000_000, 25)]
        assert "random_forest" in small and "hist_gradient_boosting" in small
        assert {"svc", "svr", "knn", "random_forest"}.isdisjoint(large)
        assert "hist_gradient_boosting" in large
        assert all(task in MODELS[key].tasks for key in small + large)
        assert all(reason for _, reason in models.default_models(task, 50_000, 12))


def test_large_data_defaults_are_cheap():
    svc, note = models.default_params("linear_svc", "classification", 1_000_000, 60)
    assert svc["dual"] is False and "primal" in note
    svr, _ = models.default_params("linear_svr", "regression", 1_000_000, 60)
    assert svr["dual"] is False and svr["loss"] == "squared_epsilon_insensitive"
    forest, note = models.default_params("random_forest", "classification", 1_000_000, 60)
    assert forest["max_samples"] * 1_000_000 <= models.FOREST_ROWS_PER_TREE
    assert forest["n_jobs"] == models.N_JOBS and "bootstrap sample" in note
    assert models.row_cap("svc", "classification") == models.KERNEL_ROW_CAP
    assert models.row_cap("svr", "regression") == models.row_cap("knn", "regression") == models.KERNEL_ROW_CAP
    assert models.row_cap("hist_gradient_boosting", "classification") is None
    assert models.threads(1_000) == 1


@pytest.mark.parametrize("cores, boosting, forest", [(2, 1, 2), (8, 8, 8)])
def test_boosting_fits_on_one_thread_on_small_machines(monkeypatch, cores, boosting, forest):
    monkeypatch.setattr(models, "N_JOBS", cores)
    assert models.threads(1_000_000, "hist_gradient_boosting") == boosting
    assert models.threads(1_000_000, "random_forest") == forest
    assert models.threads(1_000, "random_forest") == 1
