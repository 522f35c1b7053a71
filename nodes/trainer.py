"""The trainer node: train and evaluate models on the fixed split, predict new rows with the best one."""

from typing import Any

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from nodes.common import (
    dataset_brief,
    emit,
    find_file,
    require_target,
    store_and_rank,
    too_good_warning,
    training_frame,
)
from tools import experiments, models, training
from tools import predict as prediction
from tools.errors import ArtifactError
from tools.keys import MODELS, PRIMARY_METRIC


def run(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run one trainer step (train, predict)."""
    return {"train": train, "predict": predict, "retrain": retrain}[step["action"]](step, state, ctx)


def train(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Train the asked models (or a default set chosen from the data size) and rank them."""
    dataset = require_target(state)
    task = step["args"].get("task", "auto")
    task = dataset["task"] if task == "auto" else task
    train_rows = int(dataset["rows"] * (1 - training.TEST_SIZE))  # what the models are sized for
    chosen = choose_models(step["args"].get("models"), task, train_rows, dataset["cols"] - 1)
    trainer = training.Trainer(training_frame(dataset, ctx), dataset["target"], task)
    workspace = ctx.workspace(state["thread_id"])
    log = [f"{key}: {reason}" for key, reason in chosen]
    if dataset.get("excluded"):
        log.append(f"left out as asked: {', '.join(dataset['excluded'])}")
    max_rows = None if step["args"].get("all_rows") else sample_rows(dataset["rows"])
    if max_rows:
        log.append(f"{dataset['rows']:,} rows: models fit on a stratified {max_rows:,}-row sample of the "
                   "training split for a fast first answer (say `train … on all rows` to fit every row); "
                   "test metrics use the whole test split")
    records = []
    deferred = len(chosen) > 1  # diagnostics are drawn for the step's best model only
    for k, (key, _) in enumerate(chosen, start=1):
        emit({"type": "progress", "step_id": step["id"], "k": k - 1, "n": len(chosen), "model": key,
              "state": "training"})
        fields = trainer.train(key, out_dir=workspace, record_id=f"{state['thread_id']}-{step['id']}-{key}",
                               max_rows=max_rows, plots=not deferred)
        records.append(_record(fields, step, state, dataset))
        log.append(f"{key}: {_scores(fields, task)} in {fields['seconds']:.1f} s on {fields['device']}")
        log += [f"  {note}" for note in fields.get("notes") or []]
    top = experiments.best(records, task=task) or records[0]
    if deferred:
        top["plots"], note = trainer.draw_plots(top["id"])
        top["notes"] = [*top.get("notes", []), *([note] if note else [])]
        log.append(f"diagnostic plots drawn for the best of this step, {top['model']}")
    update = store_and_rank(records, state, ctx)
    markdown = "\n".join([f"Trained {len(records)} {task} model(s) on `{dataset['target']}`:", "",
                          *_table(records, task), "", _ranking(records, update["best"], task)])
    if warning := too_good_warning(records):
        markdown = f"{warning}\n\n{markdown}"
    result = {"markdown": markdown, "records": [r["id"] for r in records], "plots": top.get("plots") or {}}
    return {**update, "steps": [step_log(step, log=log, result=result)]}


def predict(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Predict the rows of a new file with the best model; writes predictions.csv into the workspace."""
    best = state.get("best")
    if not best:
        raise ArtifactError("There is no trained model yet: train one first (e.g. `train classifiers`).")
    model_path = (state.get("artifacts") or {}).get("best_model") or best["artifact"]
    out = prediction.predict(model_path, find_file(step["args"]["path"], ctx, state),
                             ctx.workspace(state["thread_id"]))
    markdown = (f"Predicted {out['rows']:,} rows of `{step['args']['path']}` with **{best['model']}**: "
                f"`{out['path']}`." + "".join(f" Note: {note}." for note in out.get("notes") or []))
    log = [f"model {best['model']} ({best['id']})", f"{out['rows']:,} rows → {out['path']}"]
    return {"artifacts": {"predictions": str(out["path"])},
            "steps": [step_log(step, log=log, result={"markdown": markdown, "path": str(out["path"])})]}


def retrain(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Train a registered version's recipe on new data (or old + new) and compare the challenger with the
    champion on one fresh holdout; the challenger becomes an experiment (`register` can package it)."""
    from tools import watch
    from tools.loading import file_sha256, load_dataset
    from tools.model_registry import ModelRegistry

    args = step["args"]
    name = args["name"]
    version = watch.serving_version(ctx.home, name)
    path = find_file(args["path"], ctx, state)
    new = load_dataset(path).frame
    old = watch.training_data(ctx.home, name, version) if args.get("include_old") else None
    record_id = f"{state['thread_id']}-{step['id']}-retrain"
    checked, fields = watch.check_retrain(ctx.home, name, new, version, old=old, record_id=record_id,
                                          out_dir=ctx.workspace(state["thread_id"]), source=path.name)
    target = ModelRegistry(ctx.home).get(name, version)["dataset"]["target"]
    data = {"path": str(path), "sha256": file_sha256(path), "rows": len(new), "cols": new.shape[1],
            "target": target}
    experiment = experiments.make_record(**{"cv": None, "n_trials": None, **fields, "id": record_id,
                                           "thread_id": state["thread_id"], "node": "trainer",
                                           "dataset": data})
    update = store_and_rank([experiment], state, ctx)
    metric, champion, challenger = checked["metric"], checked["champion"], checked["challenger"]
    verdict = "**promote** it" if checked["recommendation"] == "promote" else "**keep** the champion"
    data_words = path.name + (" plus the old training data" if old is not None else "")
    markdown = (f"Challenger ({MODELS[fields['model']].label} retrained on {data_words}) against the "
                f"champion {name} v{version} on the same fresh holdout of {checked['holdout_rows']:,} rows: "
                f"{metric} {challenger['value']:.4f} against {champion['value']:.4f}, so {verdict}. "
                f"{checked['reason']}")
    if checked["recommendation"] == "promote":
        markdown += (f" Safest next step: register it and send it a copy of the traffic first: `register the "
                     f"challenger as {name} and shadow the new version`.")
    log = [f"champion {name} v{version}", f"challenger {record_id}", checked["reason"]]
    return {**update, "monitoring": [checked], "serving": {"name": name, "version": version},
            "steps": [step_log(step, log=log, result={"markdown": markdown, "record": checked["id"]})]}


def choose_models(asked: list[str] | None, task: str, rows: int, features: int) -> list[tuple[str, str]]:
    """(model key, why): the asked keys checked against the task, else the default set for `rows` training
    rows (the size the models' own settings are chosen for)."""
    if not asked:
        return models.default_models(task, rows, features)
    chosen = []
    for key in asked:
        models.check_model(key, task)
        cap = models.row_cap(key, task)
        why = "asked for"
        if cap and rows > cap:
            why += f"; kernel method fitted on a {cap:,}-row subsample ({rows:,} rows would take hours)"
        chosen.append((key, why))
    return chosen


def sample_rows(rows: int) -> int | None:
    """Training rows to sample on large data (None: use them all); the training split is 80% of rows."""
    return models.SAMPLE_ROWS if rows * (1 - training.TEST_SIZE) > models.SAMPLE_ROWS else None


def _record(fields: dict[str, Any], step: PlanStep, state: AgentState, dataset: dict) -> dict[str, Any]:
    from tools.experiments import make_record

    record_id = f"{state['thread_id']}-{step['id']}-{fields['model']}"
    base = {"cv": None, "n_trials": None, **fields}
    return make_record(**{**base, "id": record_id, "thread_id": state["thread_id"], "node": "trainer",
                          "dataset": dataset_brief(dataset)})


def _scores(fields: dict[str, Any], task: str) -> str:
    metrics, primary = fields["metrics"], PRIMARY_METRIC[task]
    shown = [primary] + [m for m in ("f1", "roc_auc", "rmse") if m in metrics and m != primary]
    text = ", ".join(f"{m} {metrics[m]:.4f}" for m in shown if m in metrics)
    cv = fields.get("cv") or {}
    return text + (f" (cross-validated {primary} {cv['mean']:.4f})" if cv.get("mean") is not None else "")


def _table(records: list[dict[str, Any]], task: str) -> list[str]:
    """A Markdown table: one row per record, the task's main test metrics, and its CV score on small data."""
    columns = [m for m in (("accuracy", "f1", "roc_auc", "balanced_accuracy") if task == "classification"
                           else ("r2", "rmse", "mae")) if any(m in r["metrics"] for r in records)]
    primary = PRIMARY_METRIC[task]
    with_cv = any((r.get("cv") or {}).get("mean") is not None for r in records)
    cv_header = [f"CV {primary}"] if with_cv else []
    rows = ["| model | " + " | ".join(cv_header + [f"test {m}" for m in columns]) + " | seconds |",
            "|---" * (len(columns) + len(cv_header) + 2) + "|"]
    for record in records:
        cv = [f"{record['cv']['mean']:.4f}" if (record.get("cv") or {}).get("mean") is not None else ""]
        values = [f"{record['metrics'][m]:.4f}" if m in record["metrics"] else "" for m in columns]
        label = MODELS[record["model"]].label
        cells = " | ".join(cv[:len(cv_header)] + values)
        rows.append(f"| {label} | {cells} | {record['seconds']:.1f} |")
    return rows


def _ranking(records: list[dict[str, Any]], best: dict[str, Any], task: str) -> str:
    """Which model is best so far and what ranked it: cross-validation on small data, else the test split."""
    metric = PRIMARY_METRIC[task]
    how = experiments.basis_label([*records, best], metric)
    return f"Best so far by {metric}, ranked by {how}: **{MODELS[best['model']].label}**."
