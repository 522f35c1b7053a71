"""A shared home seen by three people: alice and bob share project credit, carol is outside. Each sees only
what is theirs or their project's, writes only their own threads, and reads files only from their uploads and
samples/."""

from pathlib import Path

import pytest

from graph.agent import Agent, AgentError
from tools.team import Team, TeamError

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "samples" / "titanic.csv"


@pytest.fixture
def people(home: Path) -> dict[str, Agent]:
    team = Team(home)
    team.add_user("alice", "alice-password", ("credit",))
    team.add_user("bob", "bob-password", ("credit",))
    team.add_user("carol", "carol-password")
    agent = Agent(home=home, accel="none")
    return {name: agent.for_user(name, roots=(ROOT / "samples",)) for name in ("alice", "bob", "carol")}


def test_passwords_are_hashed_and_checked(home: Path) -> None:
    team = Team(home)
    assert team.model_projects("anyone") is None  # nobody can log in yet: a personal server
    team.add_user("Dave", "a long password", ("fraud",))
    assert team.verify("dave", "a long password") and not team.verify("dave", "wrong password")
    assert not team.verify("nobody", "a long password")
    assert "a long password" not in (home / "team.db").read_bytes().decode("latin-1")
    with pytest.raises(TeamError, match="already a user"):
        team.add_user("dave", "another password")
    with pytest.raises(TeamError, match="at least 8"):
        team.add_user("eve", "short")
    with pytest.raises(TeamError, match="not a valid user name"):
        team.add_user("../eve", "a long password")
    [dave] = team.users()
    assert (dave["name"], dave["projects"]) == ("dave", ["fraud"])


def test_threads_are_seen_by_their_project_and_written_by_their_owner(people: dict[str, Agent]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    thread = alice.ask(f"load {TITANIC}, the target is survived, train logistic regression")["thread_id"]
    assert [t["thread_id"] for t in alice.threads()] == [thread]
    assert [t["thread_id"] for t in bob.threads()] == [thread] and carol.threads() == []
    assert [r["thread_id"] for r in bob.history()] == [thread] and carol.history() == []

    for action in (lambda: carol.state(thread), lambda: carol.history(thread),
                   lambda: carol.checkpoints(thread), lambda: carol.ask("describe", thread_id=thread),
                   lambda: carol.mermaid(thread)):
        with pytest.raises(AgentError, match="no conversation"):
            action()
    with pytest.raises(AgentError, match="continue"):
        bob.ask("train svc", thread_id=thread)  # a project member reads, only the owner writes

    checkpoint = bob.checkpoints(thread)[0]["checkpoint_id"]
    fork = bob.fork(thread, checkpoint)
    assert {t["thread_id"] for t in bob.threads()} == {thread, fork}
    assert bob.ask("describe the data", thread_id=fork)["error"] is None
    assert fork in {t["thread_id"] for t in alice.threads()}  # bob's fork is in their shared project


def test_a_server_user_reads_only_uploads_and_samples(people: dict[str, Agent], tmp_path: Path) -> None:
    elsewhere = tmp_path / "private.csv"
    elsewhere.write_text(TITANIC.read_text())
    refused = people["carol"].ask(f"load {elsewhere}")
    assert refused["steps"][0]["status"] == "failed" and "is not one of your files" in refused["error"]
    missing = people["carol"].ask(f"load {tmp_path / 'nothing.csv'}")  # same answer: no existence oracle
    assert missing["error"].replace("nothing.csv", "private.csv") == refused["error"]
    assert people["carol"].ask("load samples/titanic.csv")["error"] is None


def test_models_belong_to_projects(people: dict[str, Agent]) -> None:
    message = f"load {TITANIC}, the target is survived, train logistic regression, register it as {{name}}"
    assert people["alice"].ask(message.format(name="credit/risk"))["error"] is None
    refused = people["carol"].ask(message.format(name="credit/stolen"))
    assert "not a member" in refused["error"]
    assert people["carol"].ask(message.format(name="carol/mine"))["error"] is None  # a personal project
