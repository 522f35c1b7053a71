"""The monitor node: drift and decay checks of a registered model; `when`, a condition that stops the plan.

"check drift of credit/risk on april.csv and if it drifted retrain on it" plans drift → when(drifted) →
retrain: `when` reads the newest check of this conversation and, when its condition does not hold, skips
the rest of the plan and says why.
"""

from typing import Any

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from nodes.common import find_file
from tools import watch
from tools.errors import ToolError
from tools.loading import load_dataset

TOP_FEATURES = 8  # drifted features listed in the reply


def run(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run one monitor step (drift, evaluate, when)."""
    return {"drift": drift, "evaluate": evaluate, "when": when}[step["action"]](step, state, ctx)


def drift(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Compare new rows (a file, or what the gateway served) with a version's training data."""
    args = step["args"]
    name = args["name"]
    version = watch.serving_version(ctx.home, name, args.get("version"))
    if args.get("path"):
        path = find_file(args["path"], ctx, state)
        frame, source = load_dataset(path, min_rows=1).frame, f"{path.name}"
    else:
        frame, source = watch.served_rows(ctx.home, name, args.get("last"), args.get("hours"))
    record = watch.check_drift(ctx.home, name, frame, version, source,
                               out_dir=ctx.workspace(state["thread_id"]) / "plots")
    markdown = "\n".join([_verdict(record), "", *_feature_table(record)])
    log = [f"{name} v{version} against {source}: {record['verdict']}"]
    result = {"markdown": markdown, "plots": record.get("plots") or {}, "record": record["id"]}
    return {"monitoring": [record], "serving": {"name": name, "version": version},
            "steps": [step_log(step, log=log, result=result)]}


def evaluate(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Score a version on labelled new rows beside its training-time metrics."""
    args = step["args"]
    name = args["name"]
    version = watch.serving_version(ctx.home, name, args.get("version"))
    path = find_file(args["path"], ctx, state)
    record = watch.check_decay(ctx.home, name, load_dataset(path, min_rows=1).frame, version, path.name)
    markdown = "\n".join([_decay_line(record), "", *_change_table(record)])
    log = [f"{name} v{version} on {path.name}: {record['verdict']}"]
    return {"monitoring": [record], "serving": {"name": name, "version": version},
            "steps": [step_log(step, log=log, result={"markdown": markdown, "record": record["id"]})]}


CONDITIONS = {  # condition → (the check it reads, does it hold, what it found when it does, and when not)
    "drifted": ("drift", lambda r: r["verdict"] != "ok", "the data drifted", "no drift was found"),
    "decayed": ("evaluate", lambda r: r["verdict"] == "decayed", "the performance decayed",
                "the performance did not decay"),
    "promote": ("retrain", lambda r: r["recommendation"] == "promote", "the challenger beats the champion",
                "the challenger does not beat the champion"),
}


def when(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Go on only if the newest check of this conversation meets the condition; else stop the plan."""
    kind, holds, yes, no = CONDITIONS[step["args"]["condition"]]
    record = next((r for r in reversed(state.get("monitoring") or []) if r["kind"] == kind), None)
    if record is None:
        raise ToolError(f"Nothing to decide on: run the {kind} check first, e.g. `check drift of NAME on "
                        "new.csv and if it drifted retrain on it`.")
    if holds(record):
        markdown = f"{yes.capitalize()}: going on."
        return {"steps": [step_log(step, log=[f"{yes}: going on"], result={"markdown": markdown})]}
    reason = f"{no} ({_outcome(record)})"
    skipped = ", ".join(s["action"] for s in (state.get("plan") or [])[1:])
    markdown = f"{reason.capitalize()}, so I stopped here" + (f": {skipped} did not run." if skipped else ".")
    return {"halt": reason, "steps": [step_log(step, log=[f"{reason}: stopping"],
                                               result={"markdown": markdown})]}


def _outcome(record: dict[str, Any]) -> str:
    return record.get("recommendation") or f"verdict {record['verdict']}"


def _verdict(record: dict[str, Any]) -> str:
    drifted = record.get("drifted") or []
    head = {"ok": "No drift", "warn": "**Some drift**", "alert": "**Drift alert**"}[record["verdict"]]
    listed = f": {', '.join(f'`{c}`' for c in drifted[:TOP_FEATURES])}" if drifted else ""
    where = f"{record['model']} v{record['version']} on {record['source']}"
    return f"{head} in {where} ({record['rows']:,} rows against its training data){listed}."


def _feature_table(record: dict[str, Any]) -> list[str]:
    rows = ["| feature | severity | PSI | test | p-value | unseen | missing change |", "|---" * 7 + "|"]
    for f in record["features"][:TOP_FEATURES]:
        rows.append(f"| {f['column']} | {f['severity']} | {_num(f.get('psi'))} | {f.get('test') or ''} | "
                    f"{_num(f.get('p_value'), '.2g')} | {_num(f.get('unseen_share'), '.1%')} | "
                    f"{_num(f.get('missing_change'), '+.1%')} |")
    return rows


def _decay_line(record: dict[str, Any]) -> str:
    change = record["changes"][record["metric"]]
    head = {"decayed": "**Performance decayed**", "stable": "Performance is stable",
            "improved": "Performance improved"}[record["verdict"]]
    noise = "beyond" if change["beyond_noise"] else "within"
    model = f"{record['model']} v{record['version']}"
    return (f"{head}: {model} scores {record['metric']} {change['now']:.4f} on {record['source']} "
            f"({record['rows']:,} rows) against {change['then']:.4f} at training time, {noise} noise "
            f"(95% bootstrap interval {change['ci_low']:.4f}–{change['ci_high']:.4f}).")


def _change_table(record: dict[str, Any]) -> list[str]:
    rows = ["| metric | at training | now | change | 95% interval now |", "|---|---|---|---|---|"]
    for metric, c in record["changes"].items():
        rows.append(f"| {metric} | {c['then']:.4f} | {c['now']:.4f} | {c['change']:+.4f} | "
                    f"{c['ci_low']:.4f}–{c['ci_high']:.4f} |")
    return rows


def _num(value: Any, spec: str = ".3f") -> str:
    return "" if value is None else format(value, spec)

