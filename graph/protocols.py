"""What the node implementations of each role provide (built-ins and `dsgraph.nodes` plugins alike).

- planner: `plan(message: str, state: AgentState, ctx: Context) -> PlanResult`;
- eda, trainer, tuner: `run(step: PlanStep, state: AgentState, ctx: Context) -> dict` (a state update
  with the step's StepLog);
- reporter: `run(step: PlanStep | None, state, ctx) -> dict`: a reporter step, or with `step` None the
  turn's reply.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PlanResult:
    """A planner's answer: the steps to run (canonical CONTRACT.md steps), or a reply when it must ask."""

    steps: list[dict[str, Any]]
    planner: str
    notes: list[str] = field(default_factory=list)  # shown in the planner's step log
    reply: str | None = None  # a clarifying question or a direct answer when there is nothing to run
    needs_input: bool = False  # the reply asks the user to fix the request: the turn counts as failed
