"""Model and metric keys of the public contract: plain constants, cheap to import."""

from dataclasses import dataclass
from typing import Literal

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True)
class ModelKey:
    key: str
    label: str
    tasks: tuple[Task, ...]
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricKey:
    key: str
    label: str
    task: Task
    greater_is_better: bool
    synonyms: tuple[str, ...] = ()


MODELS: dict[str, ModelKey] = {m.key: m for m in (
    ModelKey("logistic_regression", "Logistic regression", ("classification",),
             ("logistic regression", "logistic", "logreg", "log reg", "logit", "lr")),
    ModelKey("random_forest", "Random forest", ("classification", "regression"),
             ("random forest", "random forrest", "randomforest", "rf", "forest", "random trees")),
    ModelKey("linear_svc", "Linear SVC", ("classification",),
             ("linear svc", "linearsvc", "linear svm", "linear support vector classifier")),
    ModelKey("svc", "SVC (kernel)", ("classification",),
             ("svc", "svm", "support vector machine", "support vector classifier", "kernel svm",
              "rbf svm")),
    ModelKey("knn", "k-nearest neighbours", ("classification", "regression"),
             ("knn", "k nearest neighbours", "k nearest neighbors", "k-nearest neighbours",
              "k-nearest neighbors", "nearest neighbours", "nearest neighbors", "k-nn")),
    ModelKey("hist_gradient_boosting", "Histogram gradient boosting", ("classification", "regression"),
             ("hist gradient boosting", "histgradientboosting", "gradient boosting", "boosted trees",
              "boosting", "gbm", "gbdt", "hgb", "xgboost", "lightgbm", "gradient boosted trees",
              "gradient boosted")),
    ModelKey("ridge", "Ridge regression", ("regression",),
             ("ridge", "ridge regression", "l2 regression", "linear regression")),
    ModelKey("lasso", "Lasso regression", ("regression",), ("lasso", "lasso regression", "l1 regression")),
    ModelKey("elastic_net", "Elastic net", ("regression",), ("elastic net", "elasticnet", "enet")),
    ModelKey("linear_svr", "Linear SVR", ("regression",),
             ("linear svr", "linearsvr", "linear support vector regression")),
    ModelKey("svr", "SVR (kernel)", ("regression",),
             ("svr", "support vector regression", "support vector regressor", "kernel svr")),
)}

METRICS: dict[str, MetricKey] = {m.key: m for m in (
    MetricKey("accuracy", "Accuracy", "classification", True, ("accuracy", "acc")),
    MetricKey("balanced_accuracy", "Balanced accuracy", "classification", True,
              ("balanced accuracy", "balanced_accuracy", "bacc")),
    MetricKey("f1", "F1 (weighted)", "classification", True,
              ("f1", "f1 score", "f-score", "f score", "f1-score", "weighted f1")),
    MetricKey("f1_macro", "F1 (macro)", "classification", True, ("macro f1", "f1 macro", "f1_macro")),
    MetricKey("roc_auc", "ROC AUC", "classification", True, ("roc auc", "roc_auc", "auc", "auroc", "roc")),
    MetricKey("precision", "Precision (weighted)", "classification", True, ("precision",)),
    MetricKey("recall", "Recall (weighted)", "classification", True, ("recall", "sensitivity")),
    MetricKey("log_loss", "Log loss", "classification", False, ("log loss", "logloss", "log_loss",
                                                                 "cross entropy", "cross-entropy")),
    MetricKey("r2", "R²", "regression", True, ("r2", "r squared", "r-squared", "r^2", "r²")),
    MetricKey("rmse", "RMSE", "regression", False, ("rmse", "root mean squared error",
                                                   "root mean square error")),
    MetricKey("mae", "MAE", "regression", False, ("mae", "mean absolute error")),
)}

PRIMARY_METRIC: dict[Task, str] = {"classification": "accuracy", "regression": "r2"}


def models_for(task: Task) -> list[str]:
    """Model keys that serve `task`, in catalog order."""
    return [k for k, m in MODELS.items() if task in m.tasks]


def metrics_for(task: Task) -> list[str]:
    """Metric keys defined for `task`, in catalog order."""
    return [k for k, m in METRICS.items() if m.task == task]
