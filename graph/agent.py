"""The Agent: one compiled graph over one dsgraph home, used by the CLI, the UI and the bench."""

import copy
import fcntl
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from graph import checkpoints, registry, render, rewind
from graph.builder import build_graph
from graph.context import THREAD_ID, Context
from graph.runner import plan_steps
from graph.vocabulary import validate_step

DATASET_KEYS = ("path", "sha256", "rows", "cols", "target", "task")
STEP_KEYS = ("id", "node", "action", "status", "seconds", "error", "log", "result")


class AgentError(ValueError):
    """A request the agent cannot serve (unknown thread or checkpoint); the message says what to do."""


def default_home() -> Path:
    """`DSGRAPH_HOME`, else ./checkpoints."""
    return Path(os.environ.get("DSGRAPH_HOME") or "checkpoints")


class Agent:
    """Chat turns, resume, fork and history over the SQLite checkpoints in `home`."""

    def __init__(self, home: str | os.PathLike | None = None, planner: str | None = None,
                 accel: str | None = None, nodes: dict[str, str] | None = None) -> None:
        self.home = Path(home or default_home()).resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        overrides = {**(nodes or {}), **({"planner": planner} if planner else {})}
        self.implementations = registry.choose(self.home, overrides)
        self.accel = accel or os.environ.get("DSGRAPH_ACCEL") or "auto"
        self.conn = sqlite3.connect(self.home / "graph.db", check_same_thread=False)
        self.graph = build_graph(SqliteSaver(self.conn))
        self.user: str | None = None  # None: the local CLI, which sees every thread and reads any path
        self.roots: tuple[Path, ...] | None = None  # folders `load` and `predict` may read (server)

    def for_user(self, user: str, roots: tuple[Path, ...] | None = None) -> "Agent":
        """This agent as `user` sees it (same graph and store): only their threads and their projects',
        and files only under `roots` (plus the thread's uploads)."""
        view = copy.copy(self)
        view.user, view.roots = user, tuple(Path(r).resolve() for r in roots) if roots is not None else None
        return view

    @property
    def planner(self) -> str:
        return self.implementations["planner"]

    def context(self, stop: threading.Event | None = None, approve_all: bool = False) -> Context:
        """Run-time settings for one run (never checkpointed); LLM settings come from the environment."""
        return Context(home=self.home, planner=self.planner, implementations=dict(self.implementations),
                       accel=self.accel, stop=stop or threading.Event(), approve_all=approve_all,
                       user=self.user or "", roots=self.roots)

    def stream(self, message: str, thread_id: str | None = None, data: str | None = None,
               checkpoint_id: str | None = None, stop: threading.Event | None = None,
               approve: bool = False) -> Iterator[dict]:
        """Run one chat turn, yielding plan / step / progress events and finally `done` with the result.

        "Go back to before <step> and …" forks the thread just before that step ran and runs the rest there.
        `approve` approves in advance every deploy or rollback the turn asks for; without it such a step
        pauses the turn (`done` carries `pending_approval`) until `stream_answer`. A new message instead
        drops the pending change, which changes nothing.
        """
        if thread_id:
            self._allow(thread_id, write=not checkpoint_id)
        going_back = rewind.parse(message) if thread_id and not checkpoint_id else None
        if going_back and self.state(thread_id):  # in a new conversation the planner explains instead
            checkpoint_id = self._before(thread_id, going_back.action)
            yield from self._rewound(thread_id, checkpoint_id, going_back, data, stop)
            return
        if checkpoint_id:
            thread_id = self.fork(self._known(thread_id), checkpoint_id)
        thread_id = thread_id or uuid.uuid4().hex[:12]
        queued = [validate_step("load", {"path": str(data)})] if data else []
        inputs = {"messages": [HumanMessage(content=message)], "thread_id": thread_id, "plan": queued,
                  "error": None, "reply": ""}
        dropped = self.pending_approval(thread_id)
        for event in self._run(inputs, thread_id, stop, approve):
            if event.get("type") == "done" and dropped:
                note = f"Not approved, so nothing changed: {dropped['summary']}."
                event = {**event, "reply": f"{note}\n\n{event.get('reply') or ''}".strip()}
            yield event

    def ask(self, message: str, **kwargs: Any) -> dict:
        """One chat turn; the CONTRACT.md `--json` object (plus `planner`)."""
        return _drain(self.stream(message, **kwargs))

    def stream_resume(self, thread_id: str, checkpoint_id: str | None = None,
                      stop: threading.Event | None = None) -> Iterator[dict]:
        """Continue an interrupted run, or fork at `checkpoint_id` into a new thread and run the rest."""
        thread_id = self._known(thread_id, write=not checkpoint_id)
        if checkpoint_id:
            thread_id = self.fork(thread_id, checkpoint_id)
        if not self.graph.get_state(self._config(thread_id)).next:
            note = "Nothing to resume: the last turn finished."
            yield {"type": "done", **self.result(thread_id, note=note)}
            return
        yield from self._run(None, thread_id, stop)

    def stream_answer(self, thread_id: str, approved: bool,
                      stop: threading.Event | None = None) -> Iterator[dict]:
        """Answer the thread's pending approval (the change shown is the one applied, if still current),
        then run the rest of its plan."""
        thread_id = self._known(thread_id, write=True)
        pending = self.pending_approval(thread_id)
        if pending is None:
            yield {"type": "done", **self.result(thread_id, note="Nothing in this conversation is waiting "
                                                                   "for approval.")}
            return
        answer = {"approved": approved, "change": pending["change"]}
        yield from self._run(Command(resume=answer), thread_id, stop)

    def answer(self, thread_id: str, approved: bool, **kwargs: Any) -> dict:
        """`stream_answer` run to the end; the CONTRACT.md `--json` object."""
        return _drain(self.stream_answer(thread_id, approved, **kwargs))

    def pending_approval(self, thread_id: str | None) -> dict | None:
        """The change a thread's paused deploy or rollback waits on: action, name, change, summary."""
        if not thread_id:
            return None
        self._allow(thread_id)
        snap = self.graph.get_state(self._config(thread_id))
        pending = [i.value for i in snap.interrupts or () if isinstance(i.value, dict)]
        return pending[0] if pending else None

    def resume(self, thread_id: str, checkpoint_id: str | None = None, **kwargs: Any) -> dict:
        """`stream_resume` run to the end; the CONTRACT.md `--json` object."""
        return _drain(self.stream_resume(thread_id, checkpoint_id, **kwargs))

    def fork(self, thread_id: str, checkpoint_id: str) -> str:
        """Copy the state at `checkpoint_id` into a new thread (the original is untouched); return its id."""
        self._allow(thread_id)
        snap = self.graph.get_state(self._config(thread_id, checkpoint_id))
        if snap.config["configurable"].get("checkpoint_id") != checkpoint_id:
            raise AgentError(f"thread {thread_id} has no checkpoint {checkpoint_id}; "
                             f"list them with `python app.py checkpoints --thread {thread_id}`")
        new_id = uuid.uuid4().hex[:12]
        values = {**snap.values, "thread_id": new_id,
                  "forked_from": {"thread_id": thread_id, "checkpoint_id": checkpoint_id}}
        self._claim(new_id)
        self.graph.update_state(self._config(new_id), values, as_node=checkpoints.fork_target(snap.next))
        return new_id

    def _before(self, thread_id: str, action: str) -> str:
        """The checkpoint taken just before the thread's last `action` step; AgentError when it never ran."""
        found = rewind.checkpoint_before(list(self.graph.get_state_history(self._config(thread_id))), action)
        if found is None:
            raise AgentError(f"This conversation has no `{action}` step to go back before; its checkpoints: "
                             f"`python app.py checkpoints --thread {thread_id}`.")
        return found

    def _rewound(self, thread_id: str, checkpoint_id: str, going_back: rewind.Rewind, data: str | None,
                 stop: threading.Event | None) -> Iterator[dict]:
        """Fork before the step, run the rest of the message there, and say so in the reply."""
        note = (f"Went back to just before the last `{going_back.action}` step of thread `{thread_id}`: "
                "this is a new branch, the original conversation is unchanged.")
        if not going_back.rest:
            yield {"type": "done", **self.result(self.fork(thread_id, checkpoint_id), note=note)}
            return
        for event in self.stream(going_back.rest, thread_id, data, checkpoint_id, stop):
            if event.get("type") == "done":
                event = {**event, "reply": f"{note}\n\n{event.get('reply') or ''}".strip()}
            yield event

    def state(self, thread_id: str) -> dict:
        """The thread's latest state values (empty for an unknown thread)."""
        self._allow(thread_id)
        return dict(self.graph.get_state(self._config(thread_id)).values or {})

    def checkpoints(self, thread_id: str) -> list[dict]:
        """The thread's checkpoints, newest first: id, node, time, next, one-line summary."""
        return checkpoints.describe(list(self.graph.get_state_history(self._config(self._known(thread_id)))))

    def history(self, thread_id: str | None = None) -> list[dict]:
        """Experiment records of a thread (from its state), or of every thread (the global store)."""
        if thread_id:
            return list(self.state(self._known(thread_id)).get("experiments") or [])
        from tools.experiments import ExperimentStore

        records = ExperimentStore(self.home / "experiments.db").list()
        if self.user is None:
            return records
        mine = self._team().readable(self.user)
        return [r for r in records if r.get("thread_id") in mine]

    def threads(self) -> list[dict]:
        """Every thread, newest first: id, first message, dataset, fork origin."""
        rows = []
        mine = self._team().readable(self.user) if self.user is not None else None
        for thread_id, checkpoint_id in checkpoints.thread_rows(self.home / "graph.db"):
            if mine is not None and thread_id not in mine:
                continue
            values = self.state(thread_id)
            first = next((m.content for m in values.get("messages") or [] if isinstance(m, HumanMessage)), "")
            dataset = values.get("dataset") or {}
            rows.append({"thread_id": thread_id, "checkpoint_id": checkpoint_id, "title": str(first)[:80],
                         "dataset": dataset.get("path"), "forked_from": values.get("forked_from")})
        return rows

    def mermaid(self, thread_id: str | None = None) -> str:
        """The graph as Mermaid; with a thread, its executed path, current node and timings highlighted."""
        base = self.graph.get_graph().draw_mermaid()
        if not thread_id:
            return base
        snap = self.graph.get_state(self._config(self._known(thread_id)))
        return render.highlight(base, snap.values.get("steps") or [], list(snap.next))

    def checkpoint_sizes(self, thread_id: str) -> list[int]:
        """Serialized bytes of each checkpoint of the thread, oldest first (the bench reports these)."""
        return checkpoints.blob_sizes(self.home / "graph.db", thread_id)

    def result(self, thread_id: str, before: set[str] | None = None, note: str | None = None) -> dict:
        """The CONTRACT.md `--json` object for the thread's latest state."""
        snap = self.graph.get_state(self._config(thread_id))
        values = snap.values or {}
        logs = [s for s in values.get("steps") or [] if not isinstance(s, str)]
        dataset = values.get("dataset")
        pending = next((i.value for i in snap.interrupts or () if isinstance(i.value, dict)), None)
        reply = note or values.get("reply") or ""
        if pending and not note:  # the turn paused before its reporter could write the reply
            done = [s["result"]["markdown"] for s in logs
                    if s["status"] == "done" and (s.get("result") or {}).get("markdown")]
            reply = "\n\n".join([*done, _waiting(pending, thread_id)])
        return {
            "thread_id": thread_id, "checkpoint_id": snap.config["configurable"].get("checkpoint_id"),
            "reply": reply, "pending_approval": pending,
            "plan": [{"node": s["node"], "action": s["action"], "args": s.get("args", {})} for s in logs],
            "steps": [{k: s.get(k) for k in STEP_KEYS if k in s or k != "result"} for s in logs],
            "dataset": {k: dataset.get(k) for k in DATASET_KEYS} if dataset else None,
            "experiments": [e for e in values.get("experiments") or [] if e["id"] not in (before or set())],
            "monitoring": [m for m in values.get("monitoring") or [] if m["id"] not in (before or set())],
            "artifacts": dict(values.get("artifacts") or {}), "error": values.get("error"),
            "planner": values.get("planner", self.planner), "forked_from": values.get("forked_from"),
        }

    def _run(self, inputs: dict | Command | None, thread_id: str, stop: threading.Event | None,
             approve: bool = False) -> Iterator[dict]:
        config = self._config(thread_id)
        self._claim(thread_id)
        values = self.state(thread_id)
        before = {r["id"] for r in [*(values.get("experiments") or []), *(values.get("monitoring") or [])]}
        ctx = self.context(stop, approve)
        with self._turn(thread_id):
            chunks = self.graph.stream(inputs, config, context=ctx, stream_mode=["updates", "custom"],
                                       durability="sync")  # a kill -9 loses at most the running step
            for mode, chunk in chunks:
                if mode == "custom":
                    yield chunk
                    continue
                for node, update in chunk.items():
                    if node == "planner" or not isinstance(update, dict):
                        continue
                    for log in update.get("steps") or []:
                        if not isinstance(log, str):
                            yield {"type": "step", "step": log}
            yield {"type": "done", **self.result(thread_id, before)}

    @contextmanager
    def _turn(self, thread_id: str) -> Iterator[None]:
        """Hold the thread for one turn: a second turn on it (this process or another) is refused, so two
        runs never interleave their checkpoints. The OS drops the lock of a killed process."""
        path = self.home / "locks" / f"{thread_id}.lock"
        path.parent.mkdir(exist_ok=True)
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AgentError("This conversation is still running another turn: wait for it to finish "
                                 "(or stop it), then send this again.") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _known(self, thread_id: str | None, write: bool = False) -> str:
        if thread_id:
            self._allow(thread_id, write)
        if not thread_id or not self.graph.get_state(self._config(thread_id)).values:
            raise AgentError(f"unknown thread {thread_id!r}; start one with `python app.py ask MESSAGE`")
        return thread_id

    def _allow(self, thread_id: str, write: bool = False) -> None:
        """AgentError unless this agent's user may read (or write) the thread; a new thread is anyone's.
        The error never tells a stranger's thread from one that does not exist."""
        if self.user is None:
            return
        team = self._team()
        if team.owner(thread_id) is None:
            exists = bool(self.graph.get_state(self._config(thread_id)).values)
            allowed = not exists  # made by the local CLI: not for server users
        else:
            allowed = team.may_write(self.user, thread_id) if write else team.may_read(self.user, thread_id)
        if not allowed:
            raise AgentError(f"There is no conversation {thread_id} that you can "
                             f"{'continue' if write else 'open'}; start a new one or fork one you can read.")

    def _claim(self, thread_id: str) -> None:
        """Make this agent's user the owner of a thread it starts, in their first project."""
        if self.user is not None:
            projects = self._team().projects_of(self.user)
            self._team().claim(thread_id, self.user, projects[0] if projects else None)

    def _team(self):
        from tools.team import Team  # argon2 loads only for a server user

        return Team(self.home)

    @staticmethod
    def _config(thread_id: str, checkpoint_id: str | None = None) -> dict:
        if not THREAD_ID.fullmatch(str(thread_id)):
            raise AgentError(f"invalid thread id {thread_id!r}: a thread id is letters, digits, - and _ "
                             "(list yours with `python app.py history`)")
        configurable = {"thread_id": thread_id}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}


def _waiting(pending: dict, thread_id: str) -> str:
    """The reply of a turn paused for approval: what would change and how to answer."""
    return (f"**Waiting for your approval** to {pending['action']} {pending['summary']}. Approve or reject "
            f"it with the buttons, or `python app.py approve --thread {thread_id}` (add `--reject` to leave "
            "everything as it is).")


def _drain(events: Iterator[dict]) -> dict:
    """The `done` event's result of an event stream (without its `type`)."""
    result: dict = {}
    for event in events:
        if event.get("type") == "done":
            result = {k: v for k, v in event.items() if k != "type"}
    return result


def plan_only(message: str, home: str | os.PathLike | None = None, planner: str | None = None,
              nodes: dict[str, str] | None = None, data: str | None = None,
              target: str | None = None) -> dict:
    """`{"plan": [steps], "planner": …}` for a message, running only the planner (no tools, no checkpoint)."""
    home = Path(home or default_home()).resolve()
    implementations = registry.choose(home, {**(nodes or {}), **({"planner": planner} if planner else {})})
    ctx = Context(home=home, planner=implementations["planner"], implementations=implementations)
    state: dict[str, Any] = {"messages": [HumanMessage(content=message)], "thread_id": "plan"}
    if target:
        state["dataset"] = {"path": data or "", "sha256": "", "rows": 0, "cols": 0, "target": target,
                            "task": None, "columns": []}
    queued = [validate_step("load", {"path": str(data)})] if data else []
    result, steps, error = plan_steps(message, state, ctx, queued)
    return {"plan": steps, "planner": result.planner, "notes": result.notes, "reply": result.reply,
            "error": error}
