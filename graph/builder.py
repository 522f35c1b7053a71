"""Wiring only: the nodes, the routers that follow the plan, and compilation."""

from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from graph import runner
from graph.context import Context
from graph.state import AgentState

Specialist = Literal["eda", "trainer", "tuner", "deployer", "monitor", "reporter"]


def planner(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Turn the newest message into a plan."""
    return runner.run_planner(state, runtime.context)


def eda(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the plan's head step: load, set_target, preview, describe."""
    return runner.run_head("eda", state, runtime.context)


def trainer(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the plan's head step: train, predict."""
    return runner.run_head("trainer", state, runtime.context)


def tuner(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the plan's head step: tune."""
    return runner.run_head("tuner", state, runtime.context)


def deployer(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the plan's head step: register, deploy, rollback (the last two pause for approval)."""
    return runner.run_head("deployer", state, runtime.context)


def monitor(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the plan's head step: drift, evaluate, when (a condition that may stop the plan)."""
    return runner.run_head("monitor", state, runtime.context)


def reporter(state: AgentState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run a reporter step (best, history, report, help); write the reply when the plan is done."""
    return runner.run_reporter(state, runtime.context)


def route_to_next_step(state: AgentState) -> Specialist:
    """The node of the plan's head step, or the reporter when no step is left."""
    plan = state.get("plan") or []
    return plan[0]["node"] if plan else "reporter"


def route_after_reporter(state: AgentState) -> Literal["eda", "trainer", "tuner", "deployer", "monitor",
                                                       "reporter", "__end__"]:
    """The next step's node while steps remain, else the end of the turn."""
    return route_to_next_step(state) if state.get("plan") else END


def build_graph(checkpointer: Any = None):
    """The compiled agent graph (pass a checkpointer for memory; LangGraph Studio wants none)."""
    builder = StateGraph(AgentState, context_schema=Context)
    for node in (planner, eda, trainer, tuner, deployer, monitor, reporter):
        builder.add_node(node.__name__, node)
    builder.add_edge(START, "planner")
    for name in ("planner", "eda", "trainer", "tuner", "deployer", "monitor"):
        builder.add_conditional_edges(name, route_to_next_step)
    builder.add_conditional_edges("reporter", route_after_reporter)
    return builder.compile(checkpointer=checkpointer)


graph = build_graph()  # exported by langgraph.json
