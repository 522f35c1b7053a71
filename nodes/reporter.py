"""The reporter node: best / history / report / help steps, and the turn's final reply."""

import html
from pathlib import Path
from typing import Any

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from graph.vocabulary import help_text
from tools.errors import ArtifactError
from tools.keys import METRICS, MODELS, PRIMARY_METRIC


def run(step: PlanStep | None, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run a reporter step, or with `step` None write the turn's reply from its step logs."""
    if step is None:
        return {"reply": compose(state)}
    return {"best": best, "history": history, "report": report, "help": help_step, "models": models}[
        step["action"]](
        step, state, ctx)


def compose(state: AgentState) -> str:
    """The reply: the planner's answer, each finished step's summary, and what failed with what to do."""
    logs = [s for s in state.get("steps") or [] if isinstance(s, dict)]
    parts = [state["reply"]] if state.get("reply") else []
    parts += [s["result"]["markdown"] for s in logs
              if s["status"] == "done" and (s.get("result") or {}).get("markdown")]
    failed = next((s for s in logs if s["status"] == "failed"), None)
    if failed:
        skipped = [s["action"] for s in logs if s["status"] == "skipped"]
        text = f"**The `{failed['action']}` step failed:** {failed['error']}"
        if skipped:
            text += f"\n\nNot run because of it: {', '.join(skipped)}. Fix the problem and ask again."
        parts.append(text)
    return "\n\n".join(parts) or "Nothing to do. Type `help` to see what I can do."


def best(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """The best experiment on the loaded data by a metric (default: the task's primary metric)."""
    records = _records(state, ctx)
    from tools import experiments

    metric = step["args"].get("metric") or PRIMARY_METRIC[records[-1]["task"]]
    winner = experiments.best(records, metric=metric)
    if winner is None:
        raise ArtifactError(f"No experiment of this thread has the metric {metric}: it is a "
                            f"{METRICS[metric].task} metric. Ask for the best by another metric.")
    ranked = [r for r in records if metric in r["metrics"] and r.get("task") == winner["task"]]
    basis = experiments.ranked_by(ranked, metric)
    ranked.sort(key=lambda r: experiments.value(r, metric, basis), reverse=METRICS[metric].greater_is_better)
    direction = "higher" if METRICS[metric].greater_is_better else "lower"
    cv_column = " CV |" if basis == "cv" else ""
    lines = [f"Best by {METRICS[metric].label} ({direction} is better), ranked by "
             f"{experiments.basis_label(ranked, metric)}: **{MODELS[winner['model']].label}** "
             f"({winner['node']}, `{winner['id']}`) with {metric} = {winner['metrics'][metric]:.4f} "
             "on the test split.", "", f"| rank | model | node |{cv_column} test {metric} |",
             "|---|---|---|---|" + ("---|" if cv_column else "")]
    for i, r in enumerate(ranked[:10], start=1):
        cv = f" {experiments.value(r, metric, 'cv'):.4f} |" if cv_column else ""
        lines.append(f"| {i} | {r['model']} | {r['node']} |{cv} {r['metrics'][metric]:.4f} |")
    result = {"markdown": "\n".join(lines), "record": winner["id"], "metric": metric,
              "value": winner["metrics"][metric], "model": winner["model"]}
    return {"steps": [step_log(step, log=[f"ranked {len(ranked)} experiments by {metric} ({basis})"],
                               result=result)]}


def history(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """The thread's experiments, oldest first (the last `limit` when given)."""
    records = _records(state, ctx)
    limit = step["args"].get("limit")
    shown = records[-limit:] if limit else records
    lines = [f"{len(records)} experiment(s) in this conversation:", "", *_table(shown)]
    return {"steps": [step_log(step, log=[f"{len(shown)} of {len(records)} records"],
                               result={"markdown": "\n".join(lines)})]}


def report(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Write report.md and report.html (data, flags, experiments, best model) into the workspace."""
    workspace = ctx.workspace(state["thread_id"])
    dataset = state.get("dataset") or {}
    records = state.get("experiments") or []
    lines = ["# dsgraph session report", "", f"Thread `{state['thread_id']}`.", ""]
    if dataset:
        lines += ["## Data", "", f"- file: `{dataset['path']}` (sha256 `{dataset['sha256'][:12]}`)",
                  f"- {dataset['rows']:,} rows × {dataset['cols']} columns",
                  f"- target: `{dataset.get('target')}` ({dataset.get('task')})", ""]
    flags = (state.get("profile") or {}).get("flags") or {}
    if flags:
        lines += ["## Flags", "", *[f"- {name}: {value}" for name, value in flags.items() if value], ""]
    if records:
        lines += ["## Experiments", "", *_table(records), ""]
    if state.get("best"):
        chosen = state["best"]
        lines += ["## Best model", "", f"**{MODELS[chosen['model']].label}** (`{chosen['id']}`), "
                  f"params `{chosen['params']}`, artifact `{chosen['artifact']}`.", ""]
    markdown = "\n".join(lines)
    md_path, html_path = workspace / "report.md", workspace / "report.html"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(_html(markdown), encoding="utf-8")
    reply = f"Report written: `{md_path}` and `{html_path}`."
    return {"artifacts": {"report": str(md_path), "report_html": str(html_path)},
            "steps": [step_log(step, log=[f"{len(records)} experiments reported"],
                               result={"markdown": reply, "path": str(md_path)})]}


def models(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Registered models: versions with their test metric, deployment, and the last day of serving traffic."""
    from tools.fleet import overview
    from tools.team import Team

    name = step["args"].get("name")
    rows = overview(ctx.home, name, projects=Team(ctx.home).model_projects(ctx.user) if ctx.user else None)
    if not rows:
        raise ArtifactError(f"No registered model {name}." if name else
                            "No registered models yet: say e.g. `register the best model as credit/risk`.")
    lines = ["Registered versions, where they are deployed, and their serving over the last 24 hours:", "",
             "| model | version | test metric | deployed | requests | errors | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        metric = f"{row['metric']} {row['value']:.4f}" if row["metric"] else ""
        served = [f"{row[k]:g}" if row[k] is not None else ""
                  for k in ("requests", "errors", "p50_ms", "p99_ms")]
        lines.append(f"| {row['model']} | v{row['version']} | {metric} | {row['deployed'] or '–'} | "
                     + " | ".join(served) + " |")
    return {"steps": [step_log(step, log=[f"{len(rows)} registered version(s)"],
                               result={"markdown": "\n".join(lines)})]}


def help_step(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """What the agent can do: every action of the vocabulary, model keys and example requests."""
    return {"steps": [step_log(step, log=["vocabulary listed"], result={"markdown": help_reply(state)})]}


def help_reply(state: AgentState | None = None) -> str:
    """The help message: what is loaded, then the vocabulary with examples."""
    dataset = (state or {}).get("dataset")
    loaded = (f"Loaded: `{Path(dataset['path']).name}`, target `{dataset.get('target')}`." if dataset
              else "No dataset loaded yet.")
    return "\n\n".join(["I am a data-science agent: one message can load data, profile it, train, tune and "
                        "compare models.", loaded, help_text()])


def _records(state: AgentState, ctx: Context) -> list[dict[str, Any]]:
    """The thread's experiment records; ArtifactError when there are none yet."""
    records = list(state.get("experiments") or [])
    if not records:
        raise ArtifactError("No experiments yet in this conversation: train some models first "
                            "(e.g. `train classifiers`).")
    from tools import accel

    accel.activate(ctx.accel)  # the ranking helpers import scikit-learn: accelerate it first
    return records


def _table(records: list[dict[str, Any]]) -> list[str]:
    """A Markdown table of records: model, node, trials, the task's main metrics, seconds."""
    task = records[-1]["task"]
    metrics = ["accuracy", "f1", "roc_auc"] if task == "classification" else ["r2", "rmse", "mae"]
    rows = ["| id | model | node | trials | " + " | ".join(metrics) + " | seconds |",
            "|---" * (len(metrics) + 5) + "|"]
    for r in records:
        values = [f"{r['metrics'][m]:.4f}" if m in (r.get("metrics") or {}) else "" for m in metrics]
        rows.append(f"| `{r['id']}` | {r['model']} | {r['node']} | {r.get('n_trials') or ''} | "
                    + " | ".join(values) + f" | {r.get('seconds', 0):.1f} |")
    return rows


def _html(markdown: str) -> str:
    """A self-contained HTML page showing the Markdown report (escaped, monospace-free of dependencies)."""
    body = html.escape(markdown)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>dsgraph report</title></head>"
            f"<body><pre style='white-space: pre-wrap; font-family: sans-serif'>{body}</pre></body></html>\n")
