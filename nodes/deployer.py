"""The deployer node: register a model as a versioned package; deploy or roll back after a human approves.

Deploy and rollback pause the graph with LangGraph's `interrupt()` (a checkpoint: it survives a restart)
showing the change; the answer resumes the step, which runs again from its start, so nothing here has a side
effect before the approval. The approved change itself travels back with the answer and is applied only if
the deployments still are what the user saw.
"""

from typing import Any

from langgraph.types import interrupt

from graph.context import Context
from graph.state import AgentState, PlanStep, step_log
from nodes.common import load_frame
from tools.deployments import Deployments
from tools.errors import ArtifactError
from tools.keys import MODELS
from tools.model_registry import ModelRegistry
from tools.team import Team


def run(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run one deployer step (register, deploy, rollback), for a model of the user's projects."""
    if ctx.user:
        Team(ctx.home).check_model(ctx.user, step["args"]["name"])
    return {"register": register, "deploy": deploy, "rollback": rollback}[step["action"]](step, state, ctx)


def register(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Package an experiment (default: the thread's best) as the next version of PROJECT/MODEL."""
    record = _experiment(step["args"], state)
    data = record["dataset"]
    frame = load_frame(data, ctx).drop(columns=data.get("excluded") or [], errors="ignore")
    version = ModelRegistry(ctx.home).register(step["args"]["name"], record, frame)
    label = f"{version['name']} v{version['version']}"
    markdown = (f"Registered **{MODELS[record['model']].label}** (`{record['id']}`) as **{label}**: an "
                "MLflow model package with its experiment, the data's hash and training statistics for drift "
                f"checks. Serve it with `deploy {label}` (all traffic) or `deploy {label} with 10% of the "
                "traffic` (a canary).")
    log = [f"experiment {record['id']} → {label}", f"package: {version['path']}"]
    return {"serving": {"name": version["name"], "version": version["version"]},
            "steps": [step_log(step, log=log, result={"markdown": markdown, "version": version})]}


def deploy(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Give a registered version a share of live traffic, or a shadow copy of every request, once approved."""
    args = step["args"]
    name = args["name"]
    version = ModelRegistry(ctx.home).get(name, args.get("version"))["version"]
    change = Deployments(ctx.home).propose(name, version, args.get("traffic", 100.0),
                                           args.get("mode", "live"))
    return _decide(step, ctx, change, {"name": name, "version": version})


def rollback(step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Return a model's deployment to what it was before its last change, once approved."""
    change = Deployments(ctx.home).propose_rollback(step["args"]["name"])
    return _decide(step, ctx, change, {"name": step["args"]["name"]})


def describe_change(change: dict[str, Any]) -> str:
    """A deployment change in words: "credit/risk: v1 live 100% → v1 live 80%, v2 live 20%"."""
    def state(versions: list[dict[str, Any]]) -> str:
        shown = [f"v{v['version']} " + (f"live {v['traffic']:g}%" if v["mode"] == "live" else "shadow")
                 for v in versions]
        return ", ".join(shown) or "nothing deployed"

    note = f" ({change['note']})" if change.get("note") else ""
    return f"{change['name']}: {state(change['from'])} → {state(change['to'])}{note}"


def _decide(step: PlanStep, ctx: Context, change: dict[str, Any], serving: dict[str, Any]) -> dict[str, Any]:
    """Ask for approval (unless given in advance), then apply the change or leave everything as it was."""
    what = describe_change(change)
    if change["from"] == change["to"]:
        markdown = f"Nothing to change: {what}."
        return {"steps": [step_log(step, log=["no change"], result={"markdown": markdown, "applied": False})]}
    if ctx.approve_all:
        answer = {"approved": True, "change": change}
    else:
        answer = interrupt({"action": step["action"], "name": change["name"], "change": change,
                            "summary": what})
    approved = isinstance(answer, dict) and answer.get("approved") is True
    if not approved:
        markdown = f"**Rejected, nothing changed**: {what}."
        return {"steps": [step_log(step, log=["rejected"], result={"markdown": markdown, "applied": False})]}
    Deployments(ctx.home).apply(answer.get("change") or change, who=ctx.user or "chat",
                                why=f"{step['action']} approved in the chat")
    markdown = f"**{'Deployed' if step['action'] == 'deploy' else 'Rolled back'}**: {what}."
    return {"serving": serving,
            "steps": [step_log(step, log=["approved", what], result={"markdown": markdown, "applied": True})]}


def _experiment(args: dict[str, Any], state: AgentState) -> dict[str, Any]:
    """The record to register: the asked experiment id, else the newest of the asked model (a tuned one
    first), else the thread's best; ArtifactError when there is none."""
    records = list(state.get("experiments") or [])
    if args.get("experiment") == "latest":  # "… retrain on it and shadow the new version": the challenger
        found = records[-1:]
        missing = "There is no experiment in this conversation yet: train or retrain a model first."
    elif args.get("experiment"):
        found = [r for r in records if r["id"] == args["experiment"]]
        missing = f"This conversation has no experiment `{args['experiment']}`; list them with `history`."
    elif args.get("model"):
        same = [r for r in records if r["model"] == args["model"]]
        found = sorted(same, key=lambda r: r["node"] == "tuner")  # stable: the newest tuned one ends last
        missing = f"No {args['model']} is trained in this conversation yet: train it first."
    else:
        found = [state["best"]] if state.get("best") else []
        missing = ("There is no trained model to register yet: train one first (e.g. `train classifiers`), "
                   "then `register the best model as credit/risk`.")
    if not found:
        raise ArtifactError(missing)
    return found[-1]
