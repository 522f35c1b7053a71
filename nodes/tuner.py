"""The tuner node: one resumable Optuna study per tune step, with live progress and a clean stop."""

from typing import Any

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from nodes.common import (
    dataset_brief,
    emit,
    require_target,
    store_and_rank,
    too_good_warning,
    training_frame,
)
from tools import metrics, models, tuning
from tools.errors import ModelError
from tools.experiments import make_record
from tools.keys import MODELS, PRIMARY_METRIC


def run(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Tune one model; without a `model` argument, the best model trained so far.

    The study is named "<thread_id>-<step_id>", so re-running the step after a crash continues it.
    """
    dataset = require_target(state)
    args = step["args"]
    model, why = _model(args.get("model"), state)
    models.check_model(model, dataset["task"])
    thread_id = state["thread_id"]
    record_id = study = f"{thread_id}-{step['id']}"

    def progress(event: dict[str, Any]) -> None:
        emit({"type": "progress", "step_id": step["id"], "model": model, **event})

    fields = tuning.tune(
        training_frame(dataset, ctx), dataset["target"], model, n_trials=args.get("n_trials", 20),
        timeout_s=args.get("timeout_s"), metric=args.get("metric"), task=dataset["task"],
        storage_url=f"sqlite:///{ctx.home / 'optuna.db'}", study_name=study,
        out_dir=ctx.workspace(thread_id), record_id=record_id, progress=progress,
        should_stop=ctx.stop.is_set if ctx.stop else None)
    record = make_record(**{"cv": None, **fields, "id": record_id, "thread_id": thread_id, "node": "tuner",
                            "dataset": dataset_brief(dataset)})
    update = store_and_rank([record], state, ctx)
    metric = fields.get("metric")
    log = [f"model {model}: {why}", f"study {study} ({fields['n_trials']} finished trials)",
           *(fields.get("notes") or [])]
    best_cv = f"{fields['best_value']:.4f}" if fields.get("best_value") is not None else "n/a"
    test = ", ".join(f"{k} {v:.4f}" for k, v in list(fields["metrics"].items())[:4])
    verdict = _verdict(record, _untuned(record, state), update["best"])
    markdown = "\n\n".join(filter(None, [too_good_warning([record]), verdict, (
        f"Tuned **{MODELS[model].label}** with {fields['n_trials']} trials: best validation {metric} "
        f"{best_cv}; refitted on all training rows, test split: {test}. "
        f"Best params: `{_tuned(fields['params'])}`.")]))
    result = {"markdown": markdown, "plots": fields.get("plots") or {}, "record": record_id, "study": study}
    return {**update, "steps": [step_log(step, log=log, result=result)]}


def _model(asked: str | None, state: AgentState) -> tuple[str, str]:
    """The model to tune and why: the asked one, else the best so far; ModelError when there is none."""
    if asked:
        return asked, "asked for"
    best = state.get("best")
    if not best:
        raise ModelError("Which model should I tune? No model is trained yet: train some first "
                         "(`train classifiers`) or name one (`tune random_forest with 20 trials`).")
    return best["model"], f"best so far ({best['id']})"


def _untuned(record: dict[str, Any], state: AgentState) -> dict[str, Any] | None:
    """The newest trainer record of the same model on the same data: what tuning has to beat."""
    return next((r for r in reversed(state.get("experiments") or []) if r["node"] == "trainer"
                 and r["model"] == record["model"]
                 and r["dataset"].get("sha256") == record["dataset"].get("sha256")), None)


def _verdict(tuned: dict[str, Any], untuned: dict[str, Any] | None, best: dict[str, Any]) -> str:
    """A first line saying plainly when tuning did not beat the untuned model on the test split."""
    metric = PRIMARY_METRIC[tuned["task"]]
    if untuned is None or metrics.is_better(metric, tuned["metrics"][metric], untuned["metrics"][metric]):
        return ""
    label = MODELS[tuned["model"]].label
    text = (f"**Tuning did not beat the untuned {label} on the test split**: {metric} "
            f"{tuned['metrics'][metric]:.4f} tuned against {untuned['metrics'][metric]:.4f} untuned.")
    if best["id"] != tuned["id"]:
        return f"{text} The best model stays **{MODELS[best['model']].label}** (`{best['id']}`)."
    cv = (tuned.get("cv") or {}).get("mean"), (untuned.get("cv") or {}).get("mean")
    if None in cv:
        return text
    return (f"{text} It still ranks first by cross-validation on the training rows ({cv[0]:.4f} against "
            f"{cv[1]:.4f}), which is steadier than a test split of {tuned.get('n_test', 0):,} rows.")


def _tuned(params: dict[str, Any]) -> dict[str, Any]:
    """The searched parameters, without the fixed ones every model gets (threads, seed)."""
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in params.items()
            if k not in ("n_jobs", "random_state")}
