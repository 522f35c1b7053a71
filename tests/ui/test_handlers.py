"""Handler unit tests: a hand-written event stream in the Agent's shapes, no app, no browser."""

from pathlib import Path

import pytest

from graph.builder import build_graph
from ui import handlers
from ui.session import Session, Sessions

BASE_GRAPH = build_graph().get_graph().draw_mermaid()


@pytest.fixture
def session(tmp_path: Path):
    made = Session(tmp_path / "home", thread_id="th1")
    yield made
    made.close()


def _png(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return str(path)


def _events(workspace: Path) -> list[dict]:
    plan = [{"id": "t1s1", "node": "eda", "action": "describe", "args": {}},
            {"id": "t1s2", "node": "tuner", "action": "tune", "args": {"model": "svc", "n_trials": 3}},
            {"id": "t1s3", "node": "trainer", "action": "train", "args": {}}]
    missing = _png(workspace / "plots" / "missingness.png")
    history = _png(workspace / "plots" / "optuna_history-th1-t1s2.png")
    return [
        {"type": "plan", "plan": plan, "planner": "rules", "notes": ["planner: rules"], "seconds": 0.01},
        {"type": "step", "step": {**plan[0], "status": "running", "seconds": 0.0, "error": None, "log": []}},
        {"type": "step", "step": {**plan[0], "status": "done", "seconds": 1.234, "error": None,
                                  "log": ["implementation: eda.default", "12 columns"],
                                  "result": {"markdown": "**891 rows**", "plots": {"missingness": missing}}}},
        {"type": "progress", "step_id": "t1s2", "model": "svc", "k": 2, "n": 3, "best": 0.8123,
         "elapsed_s": 65.0, "eta_s": 32.5, "state": "COMPLETE"},
        {"type": "step", "step": {**plan[1], "status": "failed", "seconds": 2.0, "error": "bad target",
                                  "log": ["implementation: tuner.default"], "result": {"plots": [history]}}},
        {"type": "done", "thread_id": "th1", "checkpoint_id": "c9", "reply": "Done.", "error": "bad target",
         "experiments": [], "steps": [], "plan": [], "artifacts": {}, "dataset": None},
    ]


def test_turn_streams_steps_progress_plots_and_reply(session: Session):
    turn = handlers.Turn(session, "describe and tune", upload="titanic.csv")
    events = _events(session.workspace)
    turn.apply(events[0])
    titles = [m.metadata["title"] for m in turn.messages()[2:]]
    assert titles == ["… eda · describe", "… tuner · tune", "… trainer · train"]
    assert all(m.metadata["status"] == "pending" for m in turn.messages()[2:])
    assert "mermaid" in turn.graph(BASE_GRAPH) and "class eda current" in turn.graph(BASE_GRAPH)

    turn.apply(events[1])
    turn.apply(events[2])
    describe = turn.steps["t1s1"]
    assert describe.metadata["status"] == "done" and describe.metadata["duration"] == 1.23
    assert describe.metadata["log"].startswith("done · planner rules · eda.default · ")
    assert "891 rows" in describe.content and "implementation" not in describe.content
    image = turn.plots["t1s1"][0].content
    assert Path(image["path"]).is_relative_to(session.serve_dir) and Path(image["path"]).is_file()

    turn.apply(events[3])
    assert turn.progress == "tuning svc: trial 2 of 3 · best 0.8123 · 1:05 elapsed · ~0:32 left"
    assert turn.steps["t1s2"].metadata["log"] == turn.progress

    turn.apply(events[4])
    turn.apply(events[5])
    tune = turn.steps["t1s2"]
    assert tune.metadata["title"] == "✗ tuner · tune" and "**Error:** bad target" in tune.content
    assert turn.steps["t1s3"].metadata == {**turn.steps["t1s3"].metadata, "status": "done",
                                           "title": "↷ trainer · train"}
    assert turn.reply.content == "Done.\n\n⚠ bad target"
    order = [m.metadata.get("id") or m.role for m in turn.messages()]
    assert order == ["user", "plan", "t1s1", "assistant", "t1s2", "assistant", "t1s3", "assistant"]
    assert "file: `titanic.csv`" in turn.messages()[0].content


def test_trainer_plots_come_from_the_best_record_of_the_step(session: Session):
    turn = handlers.Turn(session, "train")
    step = {"id": "t2s1", "node": "trainer", "action": "train", "args": {}}
    turn.apply({"type": "plan", "plan": [step], "planner": "rules"})
    turn.apply({"type": "step", "step": {**step, "status": "done", "seconds": 1, "error": None, "log": []}})
    records = [{"id": f"th1-t2s1-{key}", "task": "classification", "metrics": {"accuracy": acc},
                "plots": {"roc": _png(session.workspace / "plots" / f"roc-{key}.png")}}
               for key, acc in (("knn", 0.7), ("random_forest", 0.8))]
    turn.apply({"type": "done", "thread_id": "th1", "reply": "ok", "experiments": records})
    assert [Path(m.content["path"]).name for m in turn.plots["t2s1"]] == ["roc-random_forest.png"]


def test_progress_line_while_training():
    line = handlers.progress_line({"k": 0, "n": 3, "model": "knn", "state": "training"})
    assert line == "training knn: model 1 of 3"


def test_run_turn_survives_a_failing_stream_and_keeps_history(session: Session):
    def broken():
        yield {"type": "plan", "plan": [], "planner": "rules"}
        raise RuntimeError("disk on fire")

    turn = handlers.Turn(session, "hello")
    frames = list(handlers.run_turn(session, turn, broken, BASE_GRAPH))
    reply = frames[-1].messages[-1].content
    assert "RuntimeError: disk on fire" in reply and "internal error" not in reply
    assert "Earlier results, checkpoints and files are kept" in reply
    assert "Traceback" not in frames[-1].messages[-1].content
    assert session.messages == turn.messages()

    done = [{"type": "done", "thread_id": "th-forked", "reply": "forked"}]
    list(handlers.run_turn(session, handlers.Turn(session, "again"), lambda: done, BASE_GRAPH))
    assert session.thread_id == "th-forked" and len(session.messages) == len(turn.messages()) + 2


def test_parse_message_reads_multimodal_values():
    assert handlers.parse_message({"text": " hi ", "files": [{"path": "/a.csv"}, "/b.csv"]}) == (
        "hi", ["/a.csv", "/b.csv"])
    assert handlers.parse_message("plain") == ("plain", [])


def test_upload_serve_and_close(tmp_path: Path, samples: Path):
    session = Session(tmp_path / "home")
    temp = tmp_path / "gradio" / "abc" / "titanic.csv"
    temp.parent.mkdir(parents=True)
    temp.write_bytes((samples / "titanic.csv").read_bytes())
    copied = session.upload(temp)
    assert copied == session.workspace / "uploads" / "titanic.csv"
    assert copied.read_bytes() == temp.read_bytes()
    with pytest.raises(Exception, match="unsupported file type"):
        session.upload(tmp_path / "model.exe")
    served = Path(session.serve(copied))
    assert served.is_relative_to(session.serve_dir) and served.read_bytes() == copied.read_bytes()
    session.close()
    assert not session.serve_dir.exists() and not temp.exists() and copied.exists()
    assert session.stop.is_set()


def test_sessions_are_disjoint(tmp_path: Path):
    class Request:
        def __init__(self, session_hash: str):
            self.session_hash = session_hash

    sessions = Sessions(tmp_path)
    a, b = sessions.get(Request("a")), sessions.get(Request("b"))
    assert a is sessions.get(Request("a")) and a.thread_id != b.thread_id
    assert a.workspace != b.workspace and a.serve_dir != b.serve_dir
    sessions.close(Request("a"))
    assert not a.serve_dir.exists() and b.serve_dir.exists()
    sessions.close_all()
    assert not b.serve_dir.exists()


def test_experiment_tables():
    records = [{"id": "r1", "thread_id": "t", "node": "trainer", "model": "knn", "task": "classification",
                "params": {"n_neighbors": 5}, "metrics": {"accuracy": 0.81234, "f1": 0.8}, "cv": None,
                "n_trials": None, "seconds": 1.0, "device": "cpu", "created_at": "2026"},
               {"id": "r2", "thread_id": "t", "node": "tuner", "model": "svc", "task": "classification",
                "params": {"C": 2.0}, "metrics": {"accuracy": 0.83}, "cv": {"mean": 0.82},
                "n_trials": 20, "seconds": 9.0, "device": "cpu", "created_at": "2026"}]
    table = handlers.experiments_table(records)
    assert list(table["id"]) == ["r1", "r2"] and table.loc[0, "accuracy"] == 0.8123
    assert table.loc[1, "cv_mean"] == 0.82
    side = handlers.compare_table(records, "r1", "r2")
    assert list(side.columns) == ["field", "knn · r1", "svc · r2"]
    rows = dict(zip(side["field"], zip(side["knn · r1"], side["svc · r2"], strict=True), strict=True))
    assert rows["metric.accuracy"] == ("0.81234", "0.83") and rows["param.C"] == ("", "2.0")
    assert handlers.experiments_table([]).empty


def test_thread_messages_rebuild_a_stored_conversation(session: Session):
    from langchain_core.messages import AIMessage, HumanMessage

    state = {"messages": [HumanMessage("describe"), AIMessage("It has 891 rows.")],
             "steps": [{"id": "t1s1", "node": "eda", "action": "describe", "status": "done", "seconds": 1.0,
                        "error": None, "log": ["implementation: eda.default"]}]}
    messages = handlers.thread_messages(state, session)
    assert [m.role for m in messages] == ["user", "assistant", "assistant"]
    assert messages[1].metadata["title"] == "✓ eda · describe"
    assert messages[2].content == "It has 891 rows."
