"""The rule planner read through its real `plan` function: a table of phrasings, the asks, the answers to
questions, and the CLI."""

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph.vocabulary import ACTIONS, MAX_PREVIEW_ROWS, MAX_TRIALS, help_text, validate_step
from nodes.planner_rules import plan
from nodes.spelling import PROTECTED
from tools.keys import METRICS, MODELS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def _header(name: str) -> list[str]:
    opener = gzip.open if name.endswith(".gz") else open
    with opener(SAMPLES / name, "rt", newline="") as handle:
        return next(csv.reader(handle))


def _dataset(name: str, task: str, target: str | None = None) -> dict:
    columns = [c for c in _header(name) if c]
    return {"path": f"samples/{name}", "sha256": name, "rows": 1000, "cols": len(columns), "target": target,
            "task": task, "columns": [{"name": c, "kind": "numeric"} for c in columns]}


def _record(model: str, task: str, dataset: str, **metrics: float) -> dict:
    return {"id": f"{model}-{dataset}", "model": model, "task": task, "metrics": metrics,
            "dataset": {"sha256": dataset}}


EMPTY: dict = {}
TITANIC = {"dataset": _dataset("titanic.csv", "classification", "survived")}
AMES = {"dataset": _dataset("ames_housing.csv.gz", "regression", "SalePrice")}
TITANIC_TRAINED = TITANIC | {"experiments": [
    _record("random_forest", "classification", "titanic.csv", accuracy=0.80, f1=0.79, log_loss=0.41),
    _record("logistic_regression", "classification", "titanic.csv", accuracy=0.78, f1=0.81, log_loss=0.45),
    _record("svc", "classification", "titanic.csv", accuracy=0.82, f1=0.77, log_loss=0.48),
]}
LOANS = {"dataset": {"path": "loans.csv", "sha256": "loans.csv", "rows": 614, "cols": 5, "target": None,
                     "task": None, "columns": [{"name": c, "kind": "categorical"} for c in
                                               ("Loan_ID", "Gender", "Income", "Credit_History", "Status")]}}
AMES_TRAINED = AMES | {"experiments": [
    _record("ridge", "regression", "ames_housing.csv.gz", r2=0.91, rmse=31000.0, mae=19000.0),
    _record("hist_gradient_boosting", "regression", "ames_housing.csv.gz", r2=0.90, rmse=24000.0,
            mae=15000.0),
]}


def step(node: str, action: str, **args) -> dict:
    return {"node": node, "action": action, "args": args}


def load(path: str) -> dict:
    return step("eda", "load", path=path)


def target(column: str) -> dict:
    return step("eda", "set_target", column=column)


def train(task: str = "auto", models: list[str] | None = None) -> dict:
    return step("trainer", "train", task=task, **({"models": models} if models else {}))


def tune(model: str | None = None, n_trials: int = 20, **extra) -> dict:
    return step("tuner", "tune", **({"model": model} if model else {}), n_trials=n_trials, **extra)


def best(metric: str | None = None) -> dict:
    return step("reporter", "best", **({"metric": metric} if metric else {}))


def history(limit: int | None = None) -> dict:
    return step("reporter", "history", **({"limit": limit} if limit else {}))


def preview(rows: int) -> dict:
    return step("eda", "preview", rows=rows)


def predict(path: str) -> dict:
    return step("trainer", "predict", path=path)


def exclude(*columns: str) -> dict:
    return step("eda", "exclude", columns=list(columns))


DESCRIBE = step("eda", "describe")
REPORT = step("reporter", "report")


PLANS = [
    # files
    ("load samples/titanic.csv", EMPTY, [load("samples/titanic.csv")]),
    ('open "data/my file.parquet"', EMPTY, [load("data/my file.parquet")]),
    ("use ~/Downloads/churn.csv.gz", EMPTY, [load("~/Downloads/churn.csv.gz")]),
    (r"read C:\data\sales.xlsx please", EMPTY, [load(r"C:\data\sales.xlsx")]),
    ("load titanic", EMPTY, [load("samples/titanic.csv")]),
    # targets
    ("the target is survived", EMPTY, [target("survived")]),
    ("target = SalePrice", EMPTY, [target("SalePrice")]),
    ("set target to species", EMPTY, [target("species")]),
    ("the label is income", EMPTY, [target("income")]),
    ("predict survived", TITANIC, [target("survived")]),
    ("target is Survived", TITANIC, [target("survived")]),
    ("target is home dest", TITANIC, [target("home.dest")]),
    ("survived is the target", TITANIC, [target("survived")]),
    ("use survived as the target", EMPTY, [target("survived")]),
    ("target is survivd", TITANIC, [target("survived")]),
    ("predict whether a passenger survived", TITANIC, [target("survived")]),
    ("the target is sale price", AMES, [target("SalePrice")]),
    # training
    ("train classifiers", TITANIC, [train("classification")]),
    ("train regression models", AMES, [train("regression")]),
    ("fit a random forest", TITANIC, [train(models=["random_forest"])]),
    ("train RF and logreg", TITANIC, [train(models=["random_forest", "logistic_regression"])]),
    ("try SVM", TITANIC, [train(models=["svc"])]),
    ("boosted trees", TITANIC, [train(models=["hist_gradient_boosting"])]),
    ("k nearest neighbours", TITANIC, [train(models=["knn"])]),
    ("compare models", TITANIC, [train()]),
    ("build a model", TITANIC, [train()]),
    ("train rf, logreg and svm", TITANIC, [train(models=["random_forest", "logistic_regression", "svc"])]),
    ("train logistic regression", TITANIC, [train(models=["logistic_regression"])]),
    ('train "random forest"', TITANIC, [train(models=["random_forest"])]),
    ("fit regressors: ridge, lasso and elastic net", AMES,
     [train("regression", ["ridge", "lasso", "elastic_net"])]),
    ("train a gradient bosting model and a random forrest", TITANIC,
     [train(models=["hist_gradient_boosting", "random_forest"])]),
    ("train a model to predict survived", TITANIC, [target("survived"), train()]),
    ("train a model with the label survived", TITANIC, [target("survived"), train()]),
    ("train with survived as the target", TITANIC, [target("survived"), train()]),
    ("train classifiers on all rows", TITANIC,
     [step("trainer", "train", task="classification", all_rows=True)]),
    ("fit boosted trees on the full dataset", TITANIC,
     [step("trainer", "train", task="auto", models=["hist_gradient_boosting"], all_rows=True)]),
    ("describe and train with target survived", TITANIC, [DESCRIBE, target("survived"), train()]),
    ("train classifiers, the target is survived", TITANIC, [target("survived"), train("classification")]),
    ("use RF", TITANIC, [train(models=["random_forest"])]),
    ("train an xgboost", TITANIC, [train(models=["hist_gradient_boosting"])]),
    ("train linear regression", AMES, [train(models=["ridge"])]),
    # tuning
    ("optimize SVC with 50 trials", EMPTY, [tune("svc", 50)]),
    ("tune random forrest for 30 trials", TITANIC, [tune("random_forest", 30)]),
    ("hyperparameter search on logreg, 100 trials", TITANIC, [tune("logistic_regression", 100)]),
    ("tune RF with ten trials", TITANIC, [tune("random_forest", 10)]),
    ("tune hgb with twenty-five trials", TITANIC, [tune("hist_gradient_boosting", 25)]),
    ("tune knn with a hundred trials", TITANIC, [tune("knn", 100)]),
    ("tune logistc regression with 1000 trials", TITANIC, [tune("logistic_regression", MAX_TRIALS)]),
    ("fine-tune gradient bosting, 40 iterations", TITANIC, [tune("hist_gradient_boosting", 40)]),
    ("tune it for 5 minutes", TITANIC_TRAINED, [tune("svc", MAX_TRIALS, timeout_s=300)]),
    ("tune the random forest for half an hour", TITANIC, [tune("random_forest", MAX_TRIALS, timeout_s=1800)]),
    ("tune svc, 50 trials, maximize f1", TITANIC, [tune("svc", 50, metric="f1")]),
    ("tune the best model by f1", TITANIC_TRAINED, [tune("logistic_regression", metric="f1")]),
    ("tune the best one to minimize log loss", TITANIC_TRAINED, [tune("random_forest", metric="log_loss")]),
    ("optimize for rmse", AMES_TRAINED, [tune("hist_gradient_boosting", metric="rmse")]),
    ("tune RF and SVC with 20 trials", TITANIC, [tune("random_forest"), tune("svc")]),
    ("run 30 trials on the knn", TITANIC, [tune("knn", 30)]),
    ("tune svc n_trials=50", TITANIC, [tune("svc", 50)]),
    ("tune rf; maximize roc auc; 80 trials", TITANIC, [tune("random_forest", 80, metric="roc_auc")]),
    ("tune SVC using 50 trials and a 60s timeout", TITANIC, [tune("svc", 50, timeout_s=60)]),
    ("train a random forest and tune it with 30 trials", TITANIC,
     [train(models=["random_forest"]), tune("random_forest", 30)]),
    # reporter
    ("best model by F1", TITANIC_TRAINED, [best("f1")]),
    ("which model has the lowest RMSE", AMES_TRAINED, [best("rmse")]),
    ("which one has the highest r squared?", AMES_TRAINED, [best("r2")]),
    ("show the best model", TITANIC_TRAINED, [best()]),
    ("history", TITANIC_TRAINED, [history()]),
    ("show experiments", TITANIC_TRAINED, [history()]),
    ("show the history of tuning", TITANIC_TRAINED, [history()]),
    ("last 5 experiments", TITANIC_TRAINED, [history(5)]),
    ("show the last five runs", TITANIC_TRAINED, [history(5)]),
    ("report", TITANIC_TRAINED, [step("reporter", "report")]),
    ("summary of the session", TITANIC_TRAINED, [step("reporter", "report")]),
    ("help", EMPTY, [step("reporter", "help")]),
    ("what can you do", EMPTY, [step("reporter", "help")]),
    ("what models do you have?", EMPTY, [step("reporter", "help")]),
    # preview and describe
    ("show the first 10 rows", TITANIC, [preview(10)]),
    ("head", TITANIC, [preview(5)]),
    ("preview 200 rows", TITANIC, [preview(MAX_PREVIEW_ROWS)]),
    ("describe the data", TITANIC, [DESCRIBE]),
    ("EDA", TITANIC, [DESCRIBE]),
    ("profile", TITANIC, [DESCRIBE]),
    ("summarize the dataset", TITANIC, [DESCRIBE]),
    ("what's in the data", TITANIC, [DESCRIBE]),
    ("how many rows are there?", TITANIC, [DESCRIBE]),
    ("plot the correlations", TITANIC, [DESCRIBE]),
    # predict
    ("predict on new.csv", TITANIC_TRAINED, [predict("new.csv")]),
    ("score new_customers.parquet", TITANIC_TRAINED, [predict("new_customers.parquet")]),
    ("apply the best model to data/new_rows.csv", TITANIC_TRAINED, [predict("data/new_rows.csv")]),
    ("use the tuned model on new.csv", TITANIC_TRAINED, [predict("new.csv")]),
    ("run models on data.csv", EMPTY, [load("data.csv"), train()]),
    # several steps in one message, in the order written
    ("load samples/titanic.csv, the target is survived, describe it, train classifiers and tune the best one "
     "with 20 trials", EMPTY,
     [load("samples/titanic.csv"), target("survived"), DESCRIBE, train("classification"), tune()]),
    ("load samples/penguins.csv with target species, show the first three rows and train classifiers",
     TITANIC,
     [load("samples/penguins.csv"), target("species"), preview(3), train("classification")]),
    ("load data.csv. Describe it. Then train regressors and show the best by r2", EMPTY,
     [load("data.csv"), DESCRIBE, train("regression"), best("r2")]),
    ("train classifiers, then show the best by roc auc and the last 3 experiments", TITANIC,
     [train("classification"), best("roc_auc"), history(3)]),
    ("load samples/diamonds.csv.gz, predict the price with boosted trees and random forest, then tune the "
     "best for 10 minutes", EMPTY,
     [load("samples/diamonds.csv.gz"), target("price"),
      train(models=["hist_gradient_boosting", "random_forest"]), tune(n_trials=MAX_TRIALS, timeout_s=600)]),
    ("train RF, then predict on 'new passengers.csv' and write a report", TITANIC,
     [train(models=["random_forest"]), predict("new passengers.csv"),
      step("reporter", "report")]),
]

# Misspelt words, read as the vocabulary's words or the dataset's column names (each with a note).
TYPOS = [
    ("optimze svc wiht 50 trails", EMPTY, [tune("svc", 50)]),
    ("descibe teh data", TITANIC, [DESCRIBE]),
    ("trian a random forrest", TITANIC, [train(models=["random_forest"])]),
    ("set the targt to Status", EMPTY, [target("Status")]),
    ("shwo me the hisotry", TITANIC_TRAINED, [history()]),
    ("whats the bset model by acuracy", TITANIC_TRAINED, [best("accuracy")]),
    ("set the target to Staus", LOANS, [target("Status")]),
    ("tnue the random forest with 30 trials", TITANIC, [tune("random_forest", 30)]),
    ("train clasifiers", TITANIC, [train("classification")]),
    ("preveiw the first 10 rows", TITANIC, [preview(10)]),
    ("show the lsat 3 experiments", TITANIC_TRAINED, [history(3)]),
    ("show the corelation matrix", TITANIC, [DESCRIBE]),
    ("tune the best one by f1 with 25 trails", TITANIC_TRAINED,
     [tune("logistic_regression", 25, metric="f1")]),
    ("trian gradient bosting", TITANIC, [train(models=["hist_gradient_boosting"])]),
    ("hyperparameter serach on the svm, 40 trials", TITANIC, [tune("svc", 40)]),
    ("predcit on new.csv", TITANIC_TRAINED, [predict("new.csv")]),
    ("make a reprot", TITANIC_TRAINED, [REPORT]),
    ("trian rf and tuen it with 15 trials", TITANIC,
     [train(models=["random_forest"]), tune("random_forest", 15)]),
    ("the taget is survived", EMPTY, [target("survived")]),
    ("train regresors", AMES, [train("regression")]),
    ("show the frist rows", TITANIC, [preview(5)]),
    ("exclude boaat", TITANIC, [exclude("boat")]),
]

# Casual phrasings of the same requests.
CASUAL = [
    ("show me a few rows of the data", TITANIC, [preview(5)]),
    ("let's see how well we can predict Status", LOANS, [target("Status"), train()]),
    ("can you squeeze more performance out of the random forest? give it like 40 tries", TITANIC,
     [tune("random_forest", 40)]),
    ("give logreg a shot", TITANIC, [train(models=["logistic_regression"])]),
    ("let me see a couple of rows", TITANIC, [preview(5)]),
    ("take a look at the data", TITANIC, [preview(5)]),
    ("get more out of the svm", TITANIC, [tune("svc")]),
    ("make it better", TITANIC_TRAINED, [tune("svc")]),
    ("dig into the data", TITANIC, [DESCRIBE]),
    ("get a feel for the dataset", TITANIC, [DESCRIBE]),
    ("sum it up", TITANIC_TRAINED, [REPORT]),
    ("let's fit a few models", TITANIC, [train()]),
    ("quick baseline please", TITANIC, [train()]),
    ("see which model works best", TITANIC, [train()]),
    ("improve the random forest", TITANIC, [tune("random_forest")]),
    ("find better hyperparameters for knn", TITANIC, [tune("knn")]),
    ("hey, could you load samples/titanic.csv and tell me about it?", EMPTY,
     [load("samples/titanic.csv"), DESCRIBE]),
    ("ok now train a couple of models", TITANIC, [train()]),
    ("how about a random forest?", TITANIC, [train(models=["random_forest"])]),
    ("why not try boosting?", TITANIC, [train(models=["hist_gradient_boosting"])]),
]

# Steps run in the order written; a target (or exclusion) said after the train/tune step it is for moves just
# before that step, never before a load.
ORDER = [
    ("describe the data, then set survived as the target and train classifiers", TITANIC,
     [DESCRIBE, target("survived"), train("classification")]),
    ("train a random forest, target is survived", TITANIC,
     [target("survived"), train(models=["random_forest"])]),
    ("show the first 3 rows, then the target is survived, then train classifiers", TITANIC,
     [preview(3), target("survived"), train("classification")]),
    ("describe it and then tune svc with 10 trials, the target is survived", TITANIC,
     [DESCRIBE, target("survived"), tune("svc", 10)]),
    ("load samples/titanic.csv, train classifiers, the target is survived", EMPTY,
     [load("samples/titanic.csv"), target("survived"), train("classification")]),
    ("train classifiers and tune the best one with 10 trials, the label is survived", TITANIC,
     [target("survived"), train("classification"), tune(n_trials=10)]),
    ("tune svc for 20 trials. first describe the data", TITANIC, [tune("svc", 20), DESCRIBE]),
    ("history, then best by f1, then a report", TITANIC_TRAINED, [history(), best("f1"), REPORT]),
    ("train classifiers, then drop boat and train again", TITANIC,
     [train("classification"), exclude("boat"), train("classification")]),
    ("train classifiers, leave out boat", TITANIC, [exclude("boat"), train("classification")]),
    ("load samples/penguins.csv, describe it, predict species with knn", EMPTY,
     [load("samples/penguins.csv"), DESCRIBE, target("species"), train(models=["knn"])]),
    ("preview 5 rows, describe, train rf", TITANIC, [preview(5), DESCRIBE, train(models=["random_forest"])]),
    ("load samples/titanic.csv, tune knn with 10 trials, target survived, and describe", EMPTY,
     [load("samples/titanic.csv"), target("survived"), tune("knn", 10), DESCRIBE]),
]

# Questions about the data or the results, and polite requests: these may plan (read-only for questions).
QUESTIONS = [
    ("which model is best?", TITANIC_TRAINED, [best()]),
    ("what's the best model by accuracy?", TITANIC_TRAINED, [best("accuracy")]),
    ("what are the columns?", TITANIC, [DESCRIBE]),
    ("is the target balanced?", TITANIC, [DESCRIBE]),
    ("are there any missing values?", TITANIC, [DESCRIBE]),
    ("what does the data look like?", TITANIC, [preview(5)]),
    ("which one has the best f1?", TITANIC_TRAINED, [best("f1")]),
    ("what have we tried so far?", TITANIC_TRAINED, [history()]),
    ("who won?", TITANIC_TRAINED, [best()]),
    ("what's the best rmse so far?", AMES_TRAINED, [best("rmse")]),
    ("can you train a random forest?", TITANIC, [train(models=["random_forest"])]),
    ("could you tune it?", TITANIC_TRAINED, [tune("svc")]),
    ("would you describe the data?", TITANIC, [DESCRIBE]),
    ("can we tune knn with 15 trials please?", TITANIC, [tune("knn", 15)]),
    ("could I see the first 10 rows?", TITANIC, [preview(10)]),
]

# Leaving columns out: names resolved against the schema, quoted ones kept verbatim.
EXCLUDE = [
    ("drop the column boat", TITANIC, [exclude("boat")]),
    ("exclude boat and body", TITANIC, [exclude("boat", "body")]),
    ("ignore body", TITANIC, [exclude("body")]),
    ("train again without boat, body", TITANIC, [exclude("boat", "body"), train()]),
    ("retrain without boat", TITANIC, [exclude("boat"), train()]),
    ("leave out home.dest", TITANIC, [exclude("home.dest")]),
    ("leave out home dest", TITANIC, [exclude("home.dest")]),
    ("exclude 'Lot Area' and train regressors", AMES, [exclude("Lot Area"), train("regression")]),
    ("drop boat and body, then train classifiers", TITANIC,
     [exclude("boat", "body"), train("classification")]),
    ("train classifiers without the boat and body columns", TITANIC,
     [exclude("boat", "body"), train("classification")]),
    ("remove the ticket column", TITANIC, [exclude("ticket")]),
    ("don't use cabin or boat", TITANIC, [exclude("cabin", "boat")]),
    ("exclude boat body", TITANIC, [exclude("boat", "body")]),
    ("exclude boat", EMPTY, [exclude("boat")]),
    ("tune svc with 10 trials without boat", TITANIC, [exclude("boat"), tune("svc", 10)]),
    ("train rf without tuning", TITANIC, [train(models=["random_forest"])]),
    ("train on all rows without sampling", EMPTY, [step("trainer", "train", task="auto", all_rows=True)]),
]

SERVED = TITANIC_TRAINED | {"serving": {"name": "credit/risk", "version": 2}}


def deploy(name: str, version: int | None = None, traffic: float = 100.0, mode: str = "live") -> dict:
    return step("deployer", "deploy", name=name, **({"version": version} if version else {}), traffic=traffic,
                mode=mode)


SERVING = [
    ("register the best model as credit/risk", TITANIC_TRAINED,
     [step("deployer", "register", name="credit/risk")]),
    ("register the svc as Credit/Risk", TITANIC_TRAINED,
     [step("deployer", "register", name="credit/risk", model="svc")]),
    ("train a random forest and register it as fraud/score", TITANIC,
     [train(models=["random_forest"]),
      step("deployer", "register", name="fraud/score", model="random_forest")]),
    ("publish it as fraud/score", TITANIC_TRAINED, [step("deployer", "register", name="fraud/score")]),
    ("deploy credit/risk v2 with 10% of the traffic", EMPTY, [deploy("credit/risk", 2, 10.0)]),
    ("deploy credit/risk version 3 at 25 percent", EMPTY, [deploy("credit/risk", 3, 25.0)]),
    ("promote credit/risk v4", EMPTY, [deploy("credit/risk", 4)]),
    ("deploy it", SERVED, [deploy("credit/risk")]),
    ("mirror traffic to v3", SERVED, [deploy("credit/risk", 3, mode="shadow")]),
    ("shadow credit/risk v5", EMPTY, [deploy("credit/risk", 5, mode="shadow")]),
    ("roll back credit/risk", EMPTY, [step("deployer", "rollback", name="credit/risk")]),
    ("roll back the deployment", SERVED, [step("deployer", "rollback", name="credit/risk")]),
    ("undo the last deploy of fraud/score", EMPTY, [step("deployer", "rollback", name="fraud/score")]),
    ("how is credit/risk doing?", EMPTY, [step("reporter", "models", name="credit/risk")]),
    ("which models are deployed?", EMPTY, [step("reporter", "models")]),
    ("show the model registry", EMPTY, [step("reporter", "models")]),
    ("what's the latency of credit/risk?", EMPTY, [step("reporter", "models", name="credit/risk")]),
    ("train classifiers, register the best as fraud/score and deploy it with 20% of the traffic", TITANIC,
     [train("classification"), step("deployer", "register", name="fraud/score"),
      deploy("fraud/score", traffic=20.0)]),
]

def monitor(action: str, **args) -> dict:
    return step("trainer" if action == "retrain" else "monitor", action, **args)


MONITORING = [
    ("check drift of credit/risk on march.csv", EMPTY,
     [monitor("drift", name="credit/risk", path="march.csv")]),
    ("has credit/risk drifted this week?", EMPTY, [monitor("drift", name="credit/risk", hours=168.0)]),
    ("did the data of credit/risk shift today?", EMPTY, [monitor("drift", name="credit/risk", hours=24.0)]),
    ("check drift of credit/risk on the last 500 requests", EMPTY,
     [monitor("drift", name="credit/risk", last=500)]),
    ("any drift in the last 3 days?", SERVED, [monitor("drift", name="credit/risk", hours=72.0)]),
    ("evaluate credit/risk on april_outcomes.csv", EMPTY,
     [monitor("evaluate", name="credit/risk", path="april_outcomes.csv")]),
    ("is credit/risk still accurate on april_outcomes.csv?", EMPTY,
     [monitor("evaluate", name="credit/risk", path="april_outcomes.csv")]),
    ("retrain credit/risk on april.csv", EMPTY,
     [monitor("retrain", name="credit/risk", path="april.csv", include_old=False)]),
    ("retrain credit/risk on april.csv with the old data too", EMPTY,
     [monitor("retrain", name="credit/risk", path="april.csv", include_old=True)]),
    ("check drift of credit/risk on april.csv and if it drifted retrain on it and shadow the new version",
     EMPTY,
     [monitor("drift", name="credit/risk", path="april.csv"), monitor("when", condition="drifted"),
      monitor("retrain", name="credit/risk", path="april.csv", include_old=False),
      step("deployer", "register", name="credit/risk", experiment="latest"),
      deploy("credit/risk", mode="shadow")]),
    ("evaluate credit/risk on may.csv, if it decayed retrain on it", EMPTY,
     [monitor("evaluate", name="credit/risk", path="may.csv"), monitor("when", condition="decayed"),
      monitor("retrain", name="credit/risk", path="may.csv", include_old=False)]),
    ("register the challenger as credit/risk and shadow the new version", EMPTY,
     [step("deployer", "register", name="credit/risk", experiment="latest"),
      deploy("credit/risk", mode="shadow")]),
]

PLANS += TYPOS + CASUAL + ORDER + QUESTIONS + EXCLUDE + SERVING + MONITORING

# Questions that must not run anything: answered with the words that would run it on the user's data.
ANSWERS = [
    ("should I use random forest or gradient boosting in general?", TITANIC,
     "`train random forest and gradient boosting`"),
    ("is random forest better than logistic regression?", TITANIC,
     "`train random forest and logistic regression`"),
    ("what is the difference between svm and knn?", TITANIC, "`train svm and knn`"),
    ("why is boosting so popular?", EMPTY, "`train boosting`"),
    ("how well can we predict survived?", TITANIC, "`the target is survived, then train models`"),
    ("should I tune the svm?", TITANIC, "`tune svm with 20 trials`"),
    ("do you recommend xgboost for this?", TITANIC, "`train xgboost`"),
    ("when should I use lasso instead of ridge?", AMES, "`train lasso and ridge`"),
    ("does knn need scaled features?", TITANIC, "`train knn`"),
    ("is it worth tuning the forest?", TITANIC, "`tune forest with 20 trials`"),
    ("which is faster, svc or linear svc?", TITANIC, "`train svc and linear svc`"),
    ("should we drop boat?", TITANIC, "`exclude boat`"),
    ("can the random forest be tuned for 50 trials?", TITANIC, "`tune random forest with 50 trials`"),
    ("what is overfitting?", EMPTY, "can't answer general questions"),
]

ASKS = [
    ("target is survived or sex", TITANIC, "survived or sex"),
    ("target is churn", TITANIC, 'no column "churn"'),
    ("target is area", AMES, "Garage Area"),
    ("train a decision tree", TITANIC, '"decision tree"'),
    ("train a neural network", TITANIC, '"neural network"'),
    ("predict age and fare", TITANIC, "age or fare"),
    ("go back to before tuning and try random_forest", TITANIC_TRAINED, "checkpoint"),
    ("roll back to before tuning", TITANIC_TRAINED, "checkpoint"),
    ("deploy v2", TITANIC_TRAINED, "Which registered model?"),
    ("register the knn as credit/risk", TITANIC_TRAINED, "No knn is trained"),
    ("tune catboost with 20 trials", TITANIC, '"catboost"'),
    ("exclude zzz", TITANIC, 'no column "zzz"'),
    ("drop the area column", AMES, "could be several columns"),
    ("tune the best one", EMPTY, "Which model should I tune?"),
    ("tune the best by rmse", TITANIC_TRAINED, "no experiment so far reports rmse"),
    ("load other.csv and tune the best one", TITANIC_TRAINED, "nothing is trained on this data yet"),
    ("load the data", EMPTY, "Which file should I load?"),
    ("make predictions", TITANIC_TRAINED, "Which file should I predict?"),
    ("hello", EMPTY, "Hello!"),
    ("thanks!", EMPTY, "welcome"),
    ("what is overfitting?", EMPTY, "can't answer general questions"),
]


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, where "load titanic" finds samples/titanic.csv."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("message", "state", "expected"), PLANS, ids=[row[0][:60] for row in PLANS])
def test_plans(message: str, state: dict, expected: list[dict]) -> None:
    result = plan(message, state, None)
    assert result.reply is None
    assert result.planner == "rules"
    assert result.steps == expected
    assert all(validate_step(s["action"], s["args"]) == s for s in result.steps)


@pytest.mark.parametrize(("message", "state", "asked"), ASKS, ids=[row[0] for row in ASKS])
def test_asks_instead_of_guessing(message: str, state: dict, asked: str) -> None:
    result = plan(message, state, None)
    assert result.steps == []
    assert asked in result.reply


@pytest.mark.parametrize(("message", "state", "said"), ANSWERS, ids=[row[0] for row in ANSWERS])
def test_questions_run_nothing_and_say_what_would(message: str, state: dict, said: str) -> None:
    result = plan(message, state, None)
    assert result.steps == [] and not result.needs_input
    assert said in result.reply
    assert result.reply.endswith(help_text())


@pytest.mark.parametrize(("said", "state"), [(said.strip("`"), state) for _, state, said in ANSWERS
                                             if said.startswith("`")])
def test_the_words_suggested_for_a_question_plan_it(said: str, state: dict) -> None:
    result = plan(said, state, None)
    assert result.steps and result.reply is None


def test_a_question_beside_requests_is_noted_not_run() -> None:
    result = plan("train a forest. should I tune it too?", TITANIC, None)
    assert result.steps == [train(models=["random_forest"])]
    said = "`tune random forest with 20 trials`"
    assert [n for n in result.notes if "should I tune it too" in n and said in n]


@pytest.mark.parametrize(("message", "state"), [row[:2] for row in TYPOS], ids=[row[0] for row in TYPOS])
def test_each_misspelling_read_is_noted(message: str, state: dict) -> None:
    assert any(note.startswith('Read "') for note in plan(message, state, None).notes)


def test_corrections_name_the_word_read() -> None:
    notes = plan("optimze svc wiht 50 trails", EMPTY, None).notes
    assert notes == ['Read "optimze" as "optimize".', 'Read "wiht" as "with".', 'Read "trails" as "trials".']


@pytest.mark.parametrize("word", ["test", "rest", "tree", "fit", "set", "status", "turned", "point", "while"])
def test_common_words_are_never_corrected(word: str) -> None:
    assert word in PROTECTED
    assert not [n for n in plan(f"describe the {word} column", TITANIC, None).notes if n.startswith("Read")]


def test_clamped_counts_and_read_typos_are_noted() -> None:
    notes = plan("tune logistc regression with 1000 trials", TITANIC, None).notes
    assert any("logistc regression" in n and "logistic_regression" in n for n in notes)
    assert any("1000 trials" in n and str(MAX_TRIALS) in n for n in notes)


def test_close_column_is_noted() -> None:
    assert any("survived" in n for n in plan("target is survivd", TITANIC, None).notes)


def test_unrecognised_part_is_noted_and_rest_planned() -> None:
    result = plan("hmm, describe it", TITANIC, None)
    assert result.steps == [DESCRIBE]
    assert any("hmm" in n for n in result.notes)


def test_columns_of_a_dataset_about_to_be_replaced_are_not_used() -> None:
    planned = plan("load other.csv, target is churn", TITANIC, None).steps
    assert planned == [load("other.csv"), target("churn")]
    queued = TITANIC | {"plan": [{"id": "1", **load("other.csv")}]}
    assert plan("the target is churn", queued, None).steps == [target("churn")]


def test_help_reply_lists_the_vocabulary() -> None:
    reply = plan("what is overfitting?", None, None).reply
    assert reply.endswith(help_text())
    assert all(key in reply for key in [*MODELS, *METRICS])


@pytest.mark.parametrize(("action", "example"), [(a.name, e) for a in ACTIONS.values() for e in a.examples])
def test_help_examples_plan_what_they_illustrate(action: str, example: str) -> None:
    assert [s["action"] for s in plan(example, TITANIC_TRAINED, None).steps] == [action]


def test_planning_imports_neither_pandas_nor_scikit_learn() -> None:
    probe = ("import sys; from nodes.planner_rules import plan; plan('descibe teh data, exclude boat', {}); "
             "print([m for m in ('pandas', 'sklearn') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_cli_plan_prints_the_tune_step(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "app.py"), "--home", str(tmp_path), "plan",
               "optimize SVC with 50 trials", "--json"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout)["plan"] == [
        {"node": "tuner", "action": "tune", "args": {"model": "svc", "n_trials": 50}}]
