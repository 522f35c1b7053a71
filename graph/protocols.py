"""What every implementation of a node role provides; the wiring depends only on these."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from graph.context import Context
from graph.state import AgentState, PlanStep


@dataclass
class PlanResult:
    """A planner's answer: the steps to run (canonical CONTRACT.md steps), or a reply when it must ask."""

    steps: list[dict[str, Any]]
    planner: str
    notes: list[str] = field(default_factory=list)  # shown in the planner's step log
    reply: str | None = None  # a clarifying question or a direct answer when there is nothing to run
    needs_input: bool = False  # the reply asks the user to fix the request: the turn counts as failed


class Planner(Protocol):
    def __call__(self, message: str, state: AgentState, ctx: Context) -> PlanResult: ...


class Specialist(Protocol):
    """eda, trainer, tuner: run one plan step and return a state update (with its StepLog)."""

    def __call__(self, step: PlanStep, state: AgentState, ctx: Context) -> dict[str, Any]: ...


class Reporter(Protocol):
    """Run a reporter step (best, history, report, help) or, with step None, write the turn's reply."""

    def __call__(self, step: PlanStep | None, state: AgentState, ctx: Context) -> dict[str, Any]: ...
