"""Gradio handlers as plain functions: Agent stream events in, chat messages and panel values out."""

import copy
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from langchain_core.messages import AIMessage, HumanMessage

from graph import render
from graph.runner import unexpected
from tools import accel
from tools.errors import ToolError
from tools.experiments import best
from ui.session import Session

log = logging.getLogger(__name__)

STATUS_MARK = {"done": "✓", "failed": "✗", "skipped": "↷"}
DOWNLOADS = ("best_model.joblib", "predictions.csv", "report.md", "report.html")
EXPERIMENT_COLUMNS = ["model", "node", "task", "thread", "id"]
EXPECTED = (ToolError, ValueError)  # AgentError / RegistryError are ValueErrors with user-facing messages


@dataclass
class Frame:
    """What the chat column shows after one event: the messages, the progress line, the graph tab."""

    messages: list[gr.ChatMessage]
    progress: str
    graph: str


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(event: dict[str, Any]) -> str:
    """One progress line: model k of N while training; trial k of N, best, elapsed and ETA when tuning."""
    model = event.get("model") or "model"
    if event.get("state") == "training":
        return f"training {model}: model {event['k'] + 1} of {event['n']}"
    parts = [f"tuning {model}: trial {event['k']} of {event['n']}"]
    if event.get("best") is not None:
        parts.append(f"best {event['best']:.4f}")
    parts.append(f"{_clock(event.get('elapsed_s') or 0)} elapsed")
    if event.get("eta_s") is not None:
        parts.append(f"~{_clock(event['eta_s'])} left")
    return " · ".join(parts)


def as_markdown(mermaid: str) -> str:
    """Fence Mermaid text so gr.Markdown draws it with Gradio's bundled Mermaid (offline)."""
    return f"```mermaid\n{mermaid.strip()}\n```\n"


def plot_paths(plots: dict[str, str] | list[str] | None) -> list[tuple[str, str]]:
    """(name, path) of existing PNGs given as {name: path} or a list of paths."""
    items = (plots or {}).items() if isinstance(plots, dict) else ((Path(p).stem, p) for p in plots or [])
    return [(name, str(path)) for name, path in items if Path(path).is_file()]


class Turn:
    """Accumulates one turn's stream events into chat messages (plan, steps, plots, reply) and graph state."""

    def __init__(self, session: Session, text: str, upload: str | None = None):
        self.session = session
        self.user = gr.ChatMessage(role="user", content=text + (f"\n\nfile: `{upload}`" if upload else ""))
        self.planner_name = "rules"
        self.plan: gr.ChatMessage | None = None
        self.steps: dict[str, gr.ChatMessage] = {}
        self.logs: dict[str, dict[str, Any]] = {}
        self.plots: dict[str, list[gr.ChatMessage]] = {}
        self.reply: gr.ChatMessage | None = None
        self.progress = ""
        self.current: str | None = "planner"
        self.result: dict[str, Any] | None = None

    def apply(self, event: dict[str, Any]) -> None:
        """Update the turn with one Agent stream event (plan, step, progress, done)."""
        kind = event.get("type")
        if kind == "plan":
            self._plan(event)
        elif kind == "step":
            self._step(event["step"])
        elif kind == "progress":
            self.progress = progress_line(event)
            step = self.steps.get(event.get("step_id") or "")
            if step is not None:
                step.metadata["log"] = self.progress
        elif kind == "done":
            self._done(event)

    def _plan(self, event: dict[str, Any]) -> None:
        steps = event.get("plan") or []
        self.planner_name = event.get("planner") or self.planner_name
        lines = [f"{i}. `{s['node']}.{s['action']}` {s.get('args') or ''}" for i, s in enumerate(steps, 1)]
        self.plan = gr.ChatMessage(
            content="\n".join(lines + [f"_{n}_" for n in event.get("notes") or []]) or "nothing to run",
            metadata={"title": f"plan: {len(steps)} step(s)", "status": "done", "id": "plan",
                      "log": f"planner: {self.planner_name}", "duration": event.get("seconds") or 0.0})
        for step in steps:
            self._step({**step, "status": "pending", "log": [], "error": None})
        self.current = steps[0]["node"] if steps else "reporter"

    def _step(self, step: dict[str, Any]) -> None:
        status = step.get("status") or "running"
        result = step.get("result") or {}
        self.logs[step["id"]] = step
        message = self.steps.setdefault(step["id"], gr.ChatMessage(content="", metadata={"id": step["id"]}))
        running = status in ("pending", "running")
        message.metadata["title"] = f"{STATUS_MARK.get(status, '…')} {step['node']} · {step['action']}"
        message.metadata["status"] = "pending" if running else "done"
        if not running:
            message.metadata["duration"] = round(float(step.get("seconds") or 0.0), 2)
        implementation = next((line.split(": ", 1)[1] for line in step.get("log") or []
                               if line.startswith("implementation: ")), f"{step['node']}.default")
        message.metadata["log"] = (f"{status} · planner {self.planner_name} · {implementation} · "
                                   f"{result.get('device') or accel.device()}")
        lines = [line for line in step.get("log") or [] if not line.startswith("implementation: ")]
        if result.get("markdown"):
            lines += ["", result["markdown"]]
        if step.get("error"):
            lines.append(f"**Error:** {step['error']}")
        message.content = "\n".join(lines).strip() or ("running…" if status == "running" else status)
        self._attach_plots(step["id"], result.get("plots"))
        if status == "running":
            self.current = step["node"]
        elif self.progress.startswith("training"):
            self.progress = ""

    def _attach_plots(self, step_id: str, plots: dict[str, str] | list[str] | None) -> None:
        found = plot_paths(plots)
        if found:
            self.plots[step_id] = self.plots.get(step_id, []) + [
                gr.ChatMessage(content={"path": self.session.serve(path), "alt_text": name})
                for name, path in found]

    def _done(self, event: dict[str, Any]) -> None:
        """The end: reply, error, plots of this turn's experiments; leftover pending steps skipped."""
        self.result = event
        self.current = None
        for step_id in self.steps:
            prefix = f"{event['thread_id']}-{step_id}"
            records = [r for r in event.get("experiments") or []
                       if r["id"] == prefix or r["id"].startswith(prefix + "-")]
            if records and step_id not in self.plots:
                self._attach_plots(step_id, (best(records) or records[0]).get("plots"))
        text = event.get("reply") or ""
        if event.get("error") and event["error"] not in text:
            text = f"{text}\n\n⚠ {event['error']}".strip()
        self.reply = gr.ChatMessage(content=text or "(no reply)")
        for message in self.steps.values():
            if message.metadata.get("status") == "pending":
                message.metadata.update(status="done", title=message.metadata["title"].replace("…", "↷"))

    def fail(self, error: str) -> None:
        """End the turn with an error message for the user (never a traceback)."""
        self.current = None
        self.reply = gr.ChatMessage(content=f"⚠ {error}")

    def messages(self) -> list[gr.ChatMessage]:
        """This turn's messages in display order: user, plan, each step followed by its plots, reply."""
        out = [self.user] + ([self.plan] if self.plan else [])
        for step_id, message in self.steps.items():
            out += [message, *self.plots.get(step_id, [])]
        return out + ([self.reply] if self.reply else [])

    def graph(self, base: str) -> str:
        """The Graph tab: `base` Mermaid with this turn's executed path and current node highlighted."""
        current = [self.current] if self.current else []
        return as_markdown(render.highlight(base, list(self.logs.values()), current))


def parse_message(message: dict[str, Any] | str | None) -> tuple[str, list[str]]:
    """Text and file paths of a MultimodalTextbox value."""
    if isinstance(message, str) or message is None:
        return (message or "").strip(), []
    files = [f if isinstance(f, str) else f.get("path") for f in message.get("files") or []]
    return (message.get("text") or "").strip(), [f for f in files if f]


def run_turn(session: Session, turn: Turn, events: Callable[[], Iterable[dict]], base_graph: str
             ) -> Iterator[Frame]:
    """Apply `events()` to `turn`, yielding a Frame after each; the turn then joins the session's chat."""

    def frame() -> Frame:
        return Frame(session.messages + turn.messages(), turn.progress, turn.graph(base_graph))

    yield frame()
    try:
        for event in events():
            turn.apply(event)
            yield frame()
    except EXPECTED as err:
        turn.fail(str(err))
    except Exception as err:  # the chat must survive any failure; the server log keeps the traceback
        log.exception("chat turn failed")
        turn.fail(unexpected("This turn stopped", err))
    if turn.result:
        session.thread_id = turn.result["thread_id"]
    if session.stop.is_set() and turn.progress:
        turn.progress += " · stopped on request"
    session.messages = session.messages + turn.messages()
    yield Frame(session.messages, turn.progress, turn.graph(base_graph))


def chat(agent: Any, session: Session, message: dict[str, Any] | str) -> Iterator[Frame]:
    """One chat turn: copy an uploaded file into the workspace, then stream the agent's events."""
    text, files = parse_message(message)
    data = session.upload(files[-1]) if files else None
    if not text and data is None:
        return
    text = text or "describe the data"
    turn = Turn(session, text, data.name if data else None)
    session.stop.clear()
    yield from run_turn(session, turn, lambda: session_agent(agent, session).stream(
        text, thread_id=session.thread_id, data=str(data) if data else None, stop=session.stop),
        agent.mermaid())


def resume(agent: Any, session: Session, checkpoint_id: str | None) -> Iterator[Frame]:
    """Continue the thread's interrupted run, or fork at `checkpoint_id` into a new thread and go on."""
    label = f"fork from checkpoint `{checkpoint_id}`" if checkpoint_id else "resume the interrupted run"
    turn = Turn(session, f"↻ {label}")
    session.stop.clear()
    yield from run_turn(session, turn, lambda: session_agent(agent, session).stream_resume(
        session.thread_id, checkpoint_id, stop=session.stop), agent.mermaid())


def answer(agent: Any, session: Session, approved: bool) -> Iterator[Frame]:
    """Approve or reject the thread's pending deploy or rollback, then let the rest of its plan run."""
    pending = agent.pending_approval(session.thread_id) if agent.state(session.thread_id) else None
    label = f"{'approve' if approved else 'reject'}: {pending['summary']}" if pending else "approve"
    turn = Turn(session, f"{'✓' if approved else '✗'} {label}")
    session.stop.clear()
    yield from run_turn(session, turn, lambda: session_agent(agent, session).stream_answer(
        session.thread_id, approved, stop=session.stop), agent.mermaid())


def approval_view(agent: Any, session: Session) -> tuple[str, bool]:
    """What the thread's pending deploy or rollback would change (Markdown), and whether one is pending."""
    pending = agent.pending_approval(session.thread_id) if agent.state(session.thread_id) else None
    if pending is None:
        return "Nothing is waiting for your approval.", False
    return f"**Waiting for your approval**: {pending['action']} {pending['summary']}.", True


def deployments_table(home: Path) -> pd.DataFrame:
    """One row per registered version: its metric, where it is deployed, its last day of serving traffic."""
    from tools.fleet import overview

    rows = overview(home)
    return pd.DataFrame(rows, columns=None if rows else ["model", "version", "deployed"])


def monitoring_view(home: Path) -> tuple[str, pd.DataFrame]:
    """The Monitoring tab: per model its latest drift, decay and retrain results (Markdown), and the PSI of
    its most drifted features over time (rows for a line plot: time, psi, feature)."""
    from tools.monitoring import MonitoringLog

    records = MonitoringLog(home).list()
    lines, points = [], []
    for name in sorted({r["model"] for r in records}):
        mine = [r for r in records if r["model"] == name]
        latest = {kind: next((r for r in reversed(mine) if r["kind"] == kind), None)
                  for kind in ("drift", "evaluate", "retrain")}
        lines.append(f"**{name}**")
        if drift := latest["drift"]:
            shown = ", ".join(drift["drifted"][:5]) or "nothing"
            lines.append(f"- drift {drift['at'][:16]} on {drift['source']}: **{drift['verdict']}** "
                         f"(drifted: {shown})")
        if decay := latest["evaluate"]:
            change = decay["changes"][decay["metric"]]
            lines.append(f"- performance {decay['at'][:16]}: **{decay['verdict']}**, {decay['metric']} "
                         f"{change['then']:.4f} → {change['now']:.4f}")
        if retrained := latest["retrain"]:
            lines.append(f"- retrain {retrained['at'][:16]}: **{retrained['recommendation']}**, challenger "
                         f"{retrained['challenger']['value']:.4f} against champion "
                         f"{retrained['champion']['value']:.4f} ({retrained['metric']})")
        points += _psi_points(name, [r for r in mine if r["kind"] == "drift"])
    text = "\n".join(lines) or "No checks yet: say e.g. `check drift of credit/risk on april.csv`."
    return text, pd.DataFrame(points, columns=["at", "psi", "feature"])


def _psi_points(name: str, drifts: list[dict[str, Any]], top: int = 3) -> list[dict[str, Any]]:
    """(time, PSI, "model · feature") of a model's `top` most drifted features over all its drift checks."""
    worst: dict[str, float] = {}
    for record in drifts:
        for feature in record["features"]:
            worst[feature["column"]] = max(worst.get(feature["column"], 0.0), feature.get("psi") or 0.0)
    chosen = sorted(worst, key=worst.get, reverse=True)[:top]
    return [{"at": pd.Timestamp(record["at"]), "psi": feature.get("psi") or 0.0,
             "feature": f"{name} · {feature['column']}"}
            for record in drifts for feature in record["features"] if feature["column"] in chosen]


def session_agent(agent: Any, session: Session) -> Any:
    """The agent with this session's node implementations (Settings tab); the graph and store are shared."""
    if not session.implementations or session.implementations == agent.implementations:
        return agent
    view = copy.copy(agent)
    view.implementations = {**agent.implementations, **session.implementations}
    return view


def thread_messages(state: dict[str, Any], session: Session) -> list[gr.ChatMessage]:
    """A stored thread as chat messages: every user and assistant message, the last turn's steps and plots."""
    out: list[gr.ChatMessage] = []
    for message in state.get("messages") or []:
        if isinstance(message, HumanMessage):
            out.append(gr.ChatMessage(role="user", content=str(message.content)))
        elif isinstance(message, AIMessage):
            out.append(gr.ChatMessage(content=str(message.content) or "(no reply)"))
    steps = [s for s in state.get("steps") or [] if isinstance(s, dict)]
    if steps and out and out[-1].role == "assistant":
        turn = Turn(session, "")
        for step in steps:
            turn.apply({"type": "step", "step": step})
        out[-1:-1] = turn.messages()[1:]
    return out


def reopen(agent: Any, session: Session, thread_id: str) -> list[gr.ChatMessage]:
    """Switch the session to an earlier thread and return its conversation."""
    state = agent.state(thread_id)
    if not state:
        raise gr.Error(f"unknown thread {thread_id!r}; pick one from the list")
    session.thread_id = thread_id
    session.messages = thread_messages(state, session)
    return session.messages


def experiments_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per experiment record: id, thread, model, task, test metrics, cv, trials, time, device."""
    rows = []
    for record in records:
        row = {"model": record.get("model"), "node": record.get("node"), "task": record.get("task")}
        row.update({k: round(v, 4) for k, v in (record.get("metrics") or {}).items() if isinstance(v, float)})
        row.update({"cv_mean": (record.get("cv") or {}).get("mean"), "n_trials": record.get("n_trials"),
                    "seconds": round(record.get("seconds") or 0.0, 2), "device": record.get("device"),
                    "thread": record.get("thread_id"), "id": record["id"],
                    "created_at": record.get("created_at")})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else EXPERIMENT_COLUMNS)


def compare_table(records: Iterable[dict[str, Any]], first: str | None, second: str | None) -> pd.DataFrame:
    """Two experiment records side by side: model, task, every metric and every parameter."""
    by_id = {r["id"]: r for r in records}
    chosen = [by_id[i] for i in (first, second) if i in by_id]
    fields: dict[str, list[str]] = {}
    for column, record in enumerate(chosen):
        flat = {"model": record.get("model"), "node": record.get("node"), "task": record.get("task"),
                **{f"metric.{k}": v for k, v in (record.get("metrics") or {}).items()},
                **{f"param.{k}": v for k, v in (record.get("params") or {}).items()}}
        for key, value in flat.items():
            fields.setdefault(key, [""] * len(chosen))[column] = "" if value is None else str(value)
    headers = [f"{r['model']} · {r['id']}" for r in chosen]
    return pd.DataFrame([[key, *values] for key, values in fields.items()], columns=["field", *headers])


def download_paths(session: Session) -> list[str]:
    """Served copies of the current thread's artifacts: model, predictions, report and plots."""
    workspace = session.workspace
    files = [workspace / name for name in DOWNLOADS] + sorted((workspace / "plots").glob("*.png"))
    return [session.serve(path) for path in files if path.is_file()]


def checkpoint_rows(agent: Any, thread_id: str) -> pd.DataFrame:
    """The thread's checkpoints, newest first (empty for a thread not started yet)."""
    columns = ["checkpoint_id", "node", "time", "next", "summary"]
    if not agent.state(thread_id):
        return pd.DataFrame(columns=columns)
    rows = agent.checkpoints(thread_id)
    return pd.DataFrame([{**{k: r.get(k) for k in columns}, "next": ", ".join(r.get("next") or [])}
                         for r in rows], columns=columns)


def thread_choices(agent: Any) -> list[tuple[str, str]]:
    """(label, thread id) of every stored thread, newest first, for the thread picker."""
    return [(f"{t['thread_id']} · {t['title'] or '(no message)'}", t["thread_id"]) for t in agent.threads()]
