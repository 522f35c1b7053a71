"""deployments.toml: the traffic rules, rollbacks, stale changes refused, comments kept, bad hand edits."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.deployments import Deployments, catalog, describe
from tools.errors import ArtifactError, DataError, ModelError, ToolError
from tools.loading import load_dataset
from tools.model_registry import ModelRegistry
from tools.training import train

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = """
import os, sys, time
from tools.deployments import Deployments
home, name, go = sys.argv[1:]
deployments = Deployments(home)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
for i in range(40):
    deployments.apply(deployments.propose(name, 1 + i % 2, traffic=10.0 + i), who=name, why=str(i))
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    """A registry with credit/risk versions 1-4 and fraud/score versions 1-2 of a real titanic model."""
    home = tmp_path_factory.mktemp("template")
    frame = load_dataset(ROOT / "samples" / "titanic.csv").frame
    fields = train(frame, "survived", "logistic_regression", out_dir=home, record_id="lr", plots=False,
                   cv_folds=0)
    record = {"id": "lr", "task": fields["task"], "metrics": {"accuracy": 0.8},
              "artifact": fields["artifact"], "dataset": {"path": "titanic.csv", "rows": len(frame),
                                                          "target": "survived"}}
    models = ModelRegistry(home)
    for name, count in (("credit/risk", 4), ("fraud/score", 2)):
        for _ in range(count):
            models.register(name, record, frame)
    return home / "registry"


@pytest.fixture
def home(registry, tmp_path) -> Path:
    """A dsgraph home with the registered models and no deployments yet."""
    shutil.copytree(registry, tmp_path / "registry")
    return tmp_path


def _write(home: Path, live: dict[int, float], shadow: tuple[int, ...] = ()) -> None:
    """A hand-written deployments.toml with credit/risk deployed so."""
    pairs = ", ".join(f"{{version = {v}, traffic = {t}}}" for v, t in live.items())
    (home / "deployments.toml").write_text(f'["credit/risk"]\nlive = [{pairs}]\nshadow = {list(shadow)}\n')


def _state(entries: list[dict]) -> tuple[dict[int, float], list[int]]:
    return ({e["version"]: e["traffic"] for e in entries if e["mode"] == "live"},
            [e["version"] for e in entries if e["mode"] == "shadow"])


# start (live, shadow), proposal (version, traffic, mode), expected (live, shadow)
TRAFFIC = {
    "only version": (({}, ()), (1, 100.0, "live"), ({1: 100.0}, [])),
    "share below 100 with two others": (({1: 80.0, 2: 20.0}, ()), (3, 30.0, "live"),
                                        ({1: 56.0, 2: 14.0, 3: 30.0}, [])),
    "odd cents go to the largest remainders": (({1: 50.0, 2: 50.0}, ()), (3, 33.33, "live"),
                                               ({1: 33.34, 2: 33.33, 3: 33.33}, [])),
    "100 replaces the others": (({1: 80.0, 2: 20.0}, (4,)), (3, 100.0, "live"), ({3: 100.0}, [4])),
    "a live version's new share": (({1: 80.0, 2: 20.0}, ()), (2, 50.0, "live"), ({1: 50.0, 2: 50.0}, [])),
    "shadow of a live version": (({1: 60.0, 2: 30.0, 3: 10.0}, ()), (3, 100.0, "shadow"),
                                 ({1: 66.67, 2: 33.33}, [3])),
    "live of a shadow version": (({1: 100.0}, (2, 3)), (2, 25.0, "live"), ({1: 75.0, 2: 25.0}, [3])),
    "a new shadow": (({1: 100.0}, ()), (4, 100.0, "shadow"), ({1: 100.0}, [4])),
}


@pytest.mark.parametrize("start, proposal, expected", TRAFFIC.values(), ids=TRAFFIC.keys())
def test_traffic_rules_and_the_rollback_of_each_change(home, start, proposal, expected):
    if start[0]:
        _write(home, *start)
    deployments = Deployments(home)
    before = deployments.current("credit/risk")
    version, traffic, mode = proposal
    change = deployments.propose("credit/risk", version, traffic=traffic, mode=mode)
    assert change["name"] == "credit/risk" and change["from"] == before
    assert _state(change["to"]) == expected
    cents = [round(e["traffic"] * 100) for e in change["to"] if e["mode"] == "live"]
    assert sum(cents) == 10_000  # to the cent
    assert [e["traffic"] for e in change["to"] if e["mode"] == "live"] == [c / 100 for c in cents]
    assert deployments.current("credit/risk") == before  # a proposal writes nothing
    deployments.apply(change, who="ana", why="test")
    assert deployments.current("credit/risk") == change["to"]
    back = deployments.propose_rollback("credit/risk")
    assert back["from"] == change["to"] and back["to"] == before
    deployments.apply(back, who="ana", why="roll back")
    assert deployments.current("credit/risk") == before
    assert [c["why"] for c in deployments.history("credit/risk")] == ["test", "roll back"]


def test_first_version_takes_all_traffic_whatever_was_asked_and_says_so(home):
    change = Deployments(home).propose("credit/risk", 2, traffic=30.0)
    assert change["to"] == [{"version": 2, "traffic": 100.0, "mode": "live"}]
    assert "takes 100% of the live traffic: no other version of credit/risk is live" in change["note"]
    assert Deployments(home).propose("credit/risk", 2)["note"] is None


def test_current_lists_live_versions_then_shadows(home):
    _write(home, {2: 20.0, 1: 80.0}, (3,))
    assert Deployments(home).current(" Credit/Risk") == [{"version": 1, "traffic": 80.0, "mode": "live"},
                                                         {"version": 2, "traffic": 20.0, "mode": "live"},
                                                         {"version": 3, "traffic": 0.0, "mode": "shadow"}]
    assert Deployments(home).all() == {"credit/risk": Deployments(home).current("credit/risk")}
    assert Deployments(home).current("fraud/score") == []
    assert describe(Deployments(home).current("credit/risk")) == (
        "version 1 live at 80%, version 2 live at 20%, version 3 shadow")


@pytest.mark.parametrize("start, proposal, error, message", [
    ({1: 100.0}, (1, 100.0, "shadow"), ModelError, "no live version other than version 1"),
    ({}, (1, 100.0, "shadow"), ModelError, "no live version whose requests"),
    ({1: 100.0}, (2, 0, "live"), ModelError, "more than 0 and at most 100"),
    ({1: 100.0}, (2, 100.5, "live"), ModelError, "more than 0 and at most 100"),
    ({1: 100.0}, (2, float("nan"), "live"), ModelError, "more than 0 and at most 100"),
    ({1: 100.0}, (2, 50.0, "canary"), ModelError, "live or shadow"),
    ({1: 100.0}, (0, 50.0, "live"), ModelError, "whole number from 1"),
    ({1: 100.0}, (9, 50.0, "live"), ArtifactError, "no version 9; its versions are 1, 2, 3, 4"),
])
def test_impossible_deployments_are_refused(home, start, proposal, error, message):
    if start:
        _write(home, start)
    version, traffic, mode = proposal
    with pytest.raises(error, match=message):
        Deployments(home).propose("credit/risk", version, traffic=traffic, mode=mode)


def test_a_stale_change_is_refused_and_changes_nothing(home):
    deployments = Deployments(home)
    deployments.apply(deployments.propose("credit/risk", 1))
    first, second = deployments.propose("credit/risk", 2, 10.0), deployments.propose("credit/risk", 3, 100.0)
    deployments.apply(first)
    text = (home / "deployments.toml").read_text()
    with pytest.raises(ToolError, match="changed after this change was proposed: it is now version 1 live "
                                        "at 90%, version 2 live at 10%, not version 1 live at 100%"):
        deployments.apply(second)
    assert (home / "deployments.toml").read_text() == text and len(deployments.history()) == 2


def test_rolling_back_with_no_history_is_refused(home):
    with pytest.raises(ToolError, match="credit/risk has no recorded deployment change to roll back"):
        Deployments(home).propose_rollback("credit/risk")


def test_a_change_that_changes_nothing_is_not_written(home):
    deployments = Deployments(home)
    deployments.apply(deployments.propose("credit/risk", 1))
    again = deployments.propose("credit/risk", 1)
    assert again["from"] == again["to"] and "nothing changes" in again["note"]
    stamp = deployments.stamp()
    deployments.apply(again)
    assert deployments.stamp() == stamp and len(deployments.history()) == 1


def test_catalog_lists_every_registered_version_and_where_it_serves(home):
    _write(home, {1: 80.0, 2: 20.0}, (3,))
    listed = catalog(home)
    assert [model["name"] for model in listed] == ["credit/risk", "fraud/score"]
    risk, fraud = listed
    assert [v["version"] for v in risk["versions"]] == [1, 2, 3, 4]
    assert set(risk["versions"][0]) == {"version", "experiment", "metrics", "created_at"}
    assert (risk["versions"][0]["experiment"], risk["versions"][0]["metrics"]) == ("lr", {"accuracy": 0.8})
    assert risk["deployment"] == Deployments(home).current("credit/risk") and fraud["deployment"] == []


def test_history_records_who_why_from_and_to_and_the_file_stamp_moves(home):
    deployments = Deployments(home)
    assert deployments.mtime() == 0.0 and deployments.stamp() is None and deployments.history() == []
    deployments.apply(deployments.propose("credit/risk", 1), who="ana", why="first")
    stamp = deployments.stamp()
    deployments.apply(deployments.propose("fraud/score", 2), who="bo", why="other")
    assert deployments.stamp() != stamp and deployments.mtime() > 0
    lines = [json.loads(line) for line in (home / "deployments-history.jsonl").read_text().splitlines()]
    assert lines == deployments.history()
    assert [set(line) for line in lines] == [{"at", "who", "name", "from", "to", "why"}] * 2
    (only,) = deployments.history("fraud/score")
    assert (only["who"], only["why"], only["from"]) == ("bo", "other", [])
    assert only["to"] == [{"version": 2, "traffic": 100.0, "mode": "live"}]


def test_a_new_file_starts_with_a_comment_and_the_shape_of_the_contract(home):
    deployments = Deployments(home)
    deployments.apply(deployments.propose("credit/risk", 1))
    deployments.apply(deployments.propose("credit/risk", 2, 20.0))
    deployments.apply(deployments.propose("credit/risk", 3, mode="shadow"))
    text = (home / "deployments.toml").read_text()
    assert text.startswith("# dsgraph deployments")
    assert ('["credit/risk"]\nlive = [{version = 1, traffic = 80.0}, {version = 2, traffic = 20.0}]\n'
            "shadow = [3]\n") in text


def test_comments_and_other_models_survive_an_apply(home):
    text = """# Our deployments. Ask Ana before touching fraud.

# risk: the credit model
["credit/risk"]  # owned by the risk team
live = [{version = 1, traffic = 100.0}]  # the old champion
shadow = []

["fraud/score"]
# careful: the fraud model is audited
live = [ { version = 2, traffic = 100.0 } ]
"""
    (home / "deployments.toml").write_text(text)
    deployments = Deployments(home)
    deployments.apply(deployments.propose("credit/risk", 2, 25.0))
    written = (home / "deployments.toml").read_text()
    for line in text.splitlines():
        if line.startswith("#") or "fraud" in line or "version = 2" in line:
            assert line in written
    assert '["credit/risk"]  # owned by the risk team' in written
    assert "live = [{version = 1, traffic = 75.0}, {version = 2, traffic = 25.0}]  # the old champ" in written
    assert deployments.current("fraud/score") == [{"version": 2, "traffic": 100.0, "mode": "live"}]


def test_applies_from_two_processes_at_once_all_land(home):
    go = home / "go"
    processes = [subprocess.Popen([sys.executable, "-c", DEPLOY, str(home), name, str(go)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in ("credit/risk", "fraud/score")]
    for process in processes:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
    go.touch()
    for process in processes:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    deployments = Deployments(home)
    for name in ("credit/risk", "fraud/score"):
        changes = deployments.history(name)
        assert [change["why"] for change in changes] == [str(i) for i in range(40)]
        assert all(a["to"] == b["from"] for a, b in zip(changes, changes[1:], strict=False))  # none lost
        assert deployments.current(name) == changes[-1]["to"]
    assert not [path for path in os.listdir(home) if path.startswith(".deployments-")]  # no temp file left


RISK = '["credit/risk"]\n'
BAD_FILES = {
    "not TOML": ('["credit/risk"\nlive = [', r"is not valid TOML \(.*line 1"),
    "traffic not adding up": (RISK + "live = [{version = 1, traffic = 70.0}, {version = 2, traffic = 20.0}]",
                              "model 'credit/risk': live traffic adds up to 90%, not 100%"),
    "live and shadow": (RISK + "live = [{version = 1, traffic = 100.0}]\nshadow = [1]",
                        "model 'credit/risk': version.s. 1 listed twice .a version is either live or shadow"),
    "zero traffic": (RISK + "live = [{version = 1, traffic = 0.0}, {version = 2, traffic = 100.0}]",
                     "model 'credit/risk': live traffic must be above 0"),
    "shadow alone": (RISK + "shadow = [2]", "model 'credit/risk': shadow versions need a live version"),
    "unknown key": (RISK + "lvie = [{version = 1, traffic = 100.0}]", "model 'credit/risk': unknown key"),
    "bad entry": (RISK + "live = [{version = 1, share = 100.0}]", "model 'credit/risk': live must be"),
    "bad name": ('["Credit Risk"]\nlive = []', "model 'Credit Risk': not a model name"),
}


@pytest.mark.parametrize("text, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_invalid_hand_edits_name_the_file_the_model_and_the_problem(home, text, message):
    (home / "deployments.toml").write_text(text + "\n")
    deployments = Deployments(home)
    with pytest.raises(DataError, match=message) as error:
        deployments.current("credit/risk")
    assert str(home / "deployments.toml") in str(error.value) and "correct it by hand" in str(error.value)
    with pytest.raises(DataError):
        deployments.propose("credit/risk", 1)
