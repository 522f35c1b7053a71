"""Register, deploy, canary, shadow and roll back from the chat: deploys wait for a human's approval, which
survives a restart; a rejected, dropped or stale change changes nothing."""

import json
import subprocess
import sys
from pathlib import Path

from graph.agent import Agent
from tools.deployments import Deployments

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"
NAME = "titanic/survival"


def live(home: Path) -> list[tuple[int, float, str]]:
    return [(d["version"], d["traffic"], d["mode"]) for d in Deployments(home).current(NAME)]


def test_the_whole_flow_waits_for_approvals_that_survive_a_restart(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    first = agent.ask(f"load {TITANIC}, the target is survived, train logistic regression, "
                      f"register it as {NAME} and deploy it")
    thread = first["thread_id"]
    assert [s["status"] for s in first["steps"]][-2:] == ["done", "pending"]
    assert first["pending_approval"]["action"] == "deploy" and live(home) == []
    assert "Waiting for your approval" in first["reply"]
    assert "nothing deployed → v1 live 100%" in first["reply"]

    restarted = Agent(home=home, accel="none")  # the pause is a checkpoint: a new process answers it
    assert restarted.pending_approval(thread)["name"] == NAME
    approved = restarted.answer(thread, approved=True)
    assert approved["pending_approval"] is None and live(home) == [(1, 100.0, "live")]
    assert Deployments(home).history(NAME)[-1]["to"] == [{"version": 1, "traffic": 100.0, "mode": "live"}]

    canary = restarted.ask(f"train a random forest, register it as {NAME} and deploy it with 20% of the "
                           "traffic", thread_id=thread, approve=True)
    assert canary["error"] is None and live(home) == [(1, 80.0, "live"), (2, 20.0, "live")]
    registered = next(s for s in canary["steps"] if s["action"] == "register")
    assert registered["result"]["version"]["version"] == 2
    shadow = restarted.ask(f"train knn, register it as {NAME}, then mirror traffic to v3", thread_id=thread,
                           approve=True)
    assert shadow["error"] is None
    assert live(home) == [(1, 80.0, "live"), (2, 20.0, "live"), (3, 0.0, "shadow")]

    asked = restarted.ask("roll back the deployment", thread_id=thread)
    assert asked["pending_approval"]["action"] == "rollback"
    rejected = restarted.answer(thread, approved=False)
    assert "Rejected, nothing changed" in rejected["reply"] and len(live(home)) == 3
    restarted.ask("roll back the deployment", thread_id=thread, approve=True)
    assert live(home) == [(1, 80.0, "live"), (2, 20.0, "live")]

    models = subprocess.run([sys.executable, "app.py", "--home", str(home), "models", "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=True)
    [listed] = json.loads(models.stdout)
    assert listed["name"] == NAME and [v["version"] for v in listed["versions"]] == [1, 2, 3]
    assert listed["deployment"] == [{"version": 1, "traffic": 80.0, "mode": "live"},
                                    {"version": 2, "traffic": 20.0, "mode": "live"}]
    assert all(v["experiment"] and "accuracy" in v["metrics"] for v in listed["versions"])


def test_a_new_message_drops_a_pending_change_and_a_stale_approval_changes_nothing(home: Path) -> None:
    agent = Agent(home=home, accel="none")
    first = agent.ask(f"load {TITANIC}, the target is survived, train logistic regression, register it as "
                      f"{NAME} and deploy it", approve=True)
    thread = first["thread_id"]
    agent.ask(f"deploy {NAME} v1 as a shadow", thread_id=thread)  # nothing else live: refused, not paused
    pending = agent.ask("train a random forest, register it and deploy it with 50% of the traffic",
                        thread_id=thread)
    assert pending["pending_approval"] and live(home) == [(1, 100.0, "live")]

    moved_on = agent.ask(f"how is {NAME} doing?", thread_id=thread)
    assert moved_on["reply"].startswith("Not approved, so nothing changed")
    assert moved_on["pending_approval"] is None and live(home) == [(1, 100.0, "live")]

    again = agent.ask(f"deploy {NAME} v2 with 50% of the traffic", thread_id=thread)
    Deployments(home).apply(Deployments(home).propose(NAME, 2, 10.0), who="someone else")
    stale = agent.answer(thread, approved=True)  # the approved change no longer starts from what is live
    assert again["pending_approval"] and stale["error"] and "changed" in stale["error"]
    assert live(home) == [(1, 90.0, "live"), (2, 10.0, "live")]
