"""The Agent API the UI and the bench use: streamed events in order, per-turn ids, planner answers."""

from pathlib import Path

from graph.agent import Agent

ROOT = Path(__file__).resolve().parents[2]


def test_stream_yields_plan_running_step_and_done_events(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    penguins = str(ROOT / "samples" / "penguins.csv")
    events = list(agent.stream("the target is species, preview 2 rows", data=penguins))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "plan" and kinds[-1] == "done"
    plan = events[0]["plan"]
    assert [(s["id"], s["action"]) for s in plan] == [("t1s1", "load"), ("t1s2", "set_target"),
                                                       ("t1s3", "preview")]
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert [(s["id"], s["status"]) for s in steps] == [(p["id"], status) for p in plan
                                                       for status in ("running", "done")]
    done = events[-1]
    assert done["dataset"]["target"] == "species" and done["error"] is None
    assert done["steps"][-1]["result"]["markdown"].count("\n") >= 3
    second = agent.ask("help", thread_id=done["thread_id"])
    assert second["plan"] == [{"node": "reporter", "action": "help", "args": {}}]
    assert agent.threads()[0]["thread_id"] == done["thread_id"]
    assert [c["node"] for c in agent.checkpoints(done["thread_id"])][:2] == ["reporter", "planner"]


def test_missing_information_is_asked_for_not_guessed(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    result = agent.ask("train classifiers")
    assert result["error"] or "load" in result["reply"].lower()
    assert not result["experiments"]
