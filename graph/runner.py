"""Running plan steps: pick the implementation, time it, turn failures into step logs and a stopped plan."""

import logging
import time
import traceback
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.errors import GraphBubbleUp
from pydantic import ValidationError

from graph import registry
from graph.context import Context
from graph.protocols import PlanResult
from graph.state import AgentState, PlanStep, StepLog, step_log, steps_reducer
from graph.vocabulary import validate_step
from nodes.common import emit
from tools.errors import ToolError

EXPECTED_ERRORS = (ToolError, ValidationError, registry.RegistryError)


def last_user_message(state: AgentState) -> str:
    """Text of the newest human message of the thread ("" when none)."""
    for message in reversed(state.get("messages") or []):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def turn_number(state: AgentState) -> int:
    """1-based index of the current turn (number of user messages so far)."""
    return sum(isinstance(m, HumanMessage) for m in state.get("messages") or [])


def run_planner(state: AgentState, ctx: Context) -> dict[str, Any]:
    """Plan the newest message; steps get stable ids and appear in the step list as pending."""
    started = time.perf_counter()
    queued = list(state.get("plan") or [])  # steps the caller queued (e.g. `--data` loads)
    result, steps, error = plan_steps(last_user_message(state), state, ctx, queued)
    turn = turn_number(state)
    plan: list[PlanStep] = [{"id": f"t{turn}s{i}", **s} for i, s in enumerate(steps, start=1)]
    notes = [f"planner: {result.planner} ({registry.target('planner', ctx)})", *result.notes]
    emit({"type": "plan", "plan": plan, "planner": result.planner, "notes": notes,
          "reply": result.reply, "seconds": round(time.perf_counter() - started, 3)})
    return {"plan": plan, "planner": result.planner, "error": error, "reply": result.reply or "",
            "steps": ["reset", *[step_log(s, status="pending") for s in plan]]}


def plan_steps(message: str, state: AgentState, ctx: Context,
               queued: list[dict[str, Any]] = ()) -> tuple[PlanResult, list[dict[str, Any]], str | None]:
    """The planner's result, the canonical steps to run (`queued` first) and the planning error, if any.

    When `queued` loads a file and nothing is loaded yet, the planner sees a provisional dataset reference
    for it, so "describe it" plans a describe instead of asking for data.
    """
    name = registry.chosen_name("planner", ctx)
    loads = [s["args"]["path"] for s in queued if s["action"] == "load"]
    view = dict(state)
    if loads and not state.get("dataset"):
        view["dataset"] = {"path": loads[-1], "sha256": "", "rows": 0, "cols": 0, "target": None,
                           "task": None, "columns": []}
    try:
        result: PlanResult = registry.resolve("planner", ctx)(message, view, ctx)
        steps = [validate_step(s["action"], s.get("args")) for s in result.steps]
    except EXPECTED_ERRORS + (ValueError,) as error:
        reply = f"I could not plan that: {error}"
        return PlanResult(steps=[], planner=name, reply=reply), list(queued), reply
    except Exception as error:  # noqa: BLE001 - a planner bug must not crash the conversation
        _log_traceback(ctx, {"id": "plan", "node": "planner", "action": "plan", "args": {}})
        reply = f"{unexpected('I could not read that request', error)} Rephrase it, or say `help`."
        return PlanResult(steps=[], planner=name, reply=reply), list(queued), reply
    steps = [s for s in steps if not (s["action"] == "load" and s["args"].get("path") in loads)]
    return result, list(queued) + steps, result.reply if result.needs_input else None


def run_head(role: str, state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run the plan's head step with `role`'s implementation and pop it; a failure clears the rest, and so
    does an update carrying `halt` (a reason: the rest is skipped, which is not a failure)."""
    plan = list(state.get("plan") or [])
    step, rest = plan[0], plan[1:]
    emit({"type": "step", "step": step_log(step, status="running")})
    started = time.perf_counter()
    intro = [f"implementation: {role}.{registry.chosen_name(role, ctx)}"]
    try:
        implementation = registry.resolve(role, ctx)
        intro += _device_lines(role)
        started = time.perf_counter()  # the first step of a process also imports its libraries: not counted
        update = dict(implementation(step, state, ctx))
    except EXPECTED_ERRORS as error:
        return _failed(step, rest, str(error), intro, started)
    except GraphBubbleUp:  # an approval pause (interrupt): LangGraph checkpoints it, the step runs again
        raise
    except Exception as error:  # noqa: BLE001 - a bug must not crash the conversation
        _log_traceback(ctx, step)
        return _failed(step, rest, unexpected(f"The {step['action']} step stopped", error), intro, started)
    seconds = time.perf_counter() - started
    logs = [_finish(log, step, intro, seconds) for log in update.get("steps") or [] if log != "reset"]
    if not any(log["id"] == step["id"] for log in logs):
        logs.append(step_log(step, log=intro, seconds=seconds))
    halt = update.pop("halt", None)  # a condition step (`when`) that did not hold: the rest does not run
    if halt:
        logs += [step_log(s, status="skipped", log=[f"not run: {halt}"]) for s in rest]
        rest = []
    update["steps"] = logs
    update["plan"] = rest
    return update


def _device_lines(role: str) -> list[str]:
    """Which device an accelerated role computes on and why (empty for the planner and reporter)."""
    if role not in registry.ACCELERATED_ROLES:
        return []
    from tools import accel

    info = accel.info()
    return [f"device: {info.get('device')} ({info.get('reason')})"]


def _finish(log: StepLog, step: PlanStep, intro: list[str], seconds: float) -> StepLog:
    """Complete the implementation's own log for `step` with timing and which implementation ran."""
    if log["id"] != step["id"]:
        return log
    return {**log, "args": log.get("args", step["args"]), "seconds": round(log.get("seconds") or seconds, 3),
            "log": intro + list(log.get("log") or [])}


def _failed(step: PlanStep, rest: list[PlanStep], error: str, intro: list[str], started: float) -> dict:
    """Update for a failed step: error set, remaining steps skipped and removed from the plan."""
    seconds = time.perf_counter() - started
    skipped = [step_log(s, status="skipped", log=[f"skipped: step {step['id']} failed"]) for s in rest]
    return {"steps": [step_log(step, "failed", intro, error=error, seconds=seconds), *skipped],
            "plan": [], "error": error}


def _log_traceback(ctx: Context, step: PlanStep) -> None:
    """Append the current traceback to `<home>/logs/errors.log` (never shown in the reply)."""
    path = ctx.home / "logs" / "errors.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} step {step['id']} {step['action']}\n")
        out.write(traceback.format_exc())
    logging.getLogger("dsgraph").error("unexpected error in step %s; traceback in %s", step["id"], path)


def unexpected(what: str, error: BaseException) -> str:
    """A user-facing account of an unexpected exception: what happened, what to try, where details are."""
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    advice = next(text for kind, text in _ADVICE.items() if isinstance(error, kind))
    return (f"{what} on an unexpected problem ({type(error).__name__}{': ' + detail if detail else ''}). "
            f"{advice} Earlier results, checkpoints and files are kept; the technical details are in the "
            "error log (`logs/errors.log` in the dsgraph home).")


_ADVICE: dict[type, str] = {  # first match wins: Exception last
    MemoryError: "It ran out of memory: try fewer models at once, or fewer rows or columns.",
    ValueError: "This usually comes from an unusual value or column type in the data: look at the columns "
                "with `describe`, or leave a suspicious column out (`exclude COLUMN`), then try again.",
    TypeError: "This usually comes from a column of mixed types: look at the columns with `describe`, or "
               "leave the column out (`exclude COLUMN`), then try again.",
    Exception: "Try the step again, or rephrase the request with fewer steps.",
}


def run_reporter(state: AgentState, ctx: Context) -> dict[str, Any]:
    """Run a reporter step at the plan's head, if any; when nothing is left to run, write the turn's reply."""
    plan = state.get("plan") or []
    update = run_head("reporter", state, ctx) if plan and plan[0]["node"] == "reporter" else {}
    if update.get("plan", plan):
        return update
    view = {**state, **{k: v for k, v in update.items() if k not in ("steps", "artifacts")},
            "steps": steps_reducer(state.get("steps"), update.get("steps")),
            "artifacts": {**(state.get("artifacts") or {}), **(update.get("artifacts") or {})}}
    try:
        final = dict(registry.resolve("reporter", ctx)(None, view, ctx))
    except Exception as error:  # noqa: BLE001 - the reply is the last chance to tell the user anything
        _log_traceback(ctx, {"id": "reply", "node": "reporter", "action": "reply", "args": {}})
        final = {"reply": unexpected("I could not write the summary of this turn", error)
                 + " The steps themselves ran: `history` lists their results."}
    reply = final.get("reply") or ""
    return {**update, **{k: v for k, v in final.items() if k != "steps"},
            "steps": list(update.get("steps") or []) + list(final.get("steps") or []),
            "messages": [AIMessage(content=reply)], "reply": reply}
