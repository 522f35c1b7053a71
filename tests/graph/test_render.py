"""The drawn graph is true to the wiring, and a thread's executed path is highlighted with timings."""

import json
from pathlib import Path

from graph.builder import graph
from graph.render import highlight

ROOT = Path(__file__).resolve().parents[2]


def test_graph_draws_every_route_and_langgraph_json_exports_it() -> None:
    mermaid = graph.get_graph().draw_mermaid()
    for edge in ("__start__ --> planner", "planner -.-> tuner", "tuner -.-> reporter",
                 "reporter -.-> __end__", "reporter -.-> trainer", "eda -.-> eda"):
        assert edge in mermaid
    exported = json.loads((ROOT / "langgraph.json").read_text())["graphs"]["dsgraph"]
    assert exported == "./graph/builder.py:graph" and graph.checkpointer is None


def test_highlight_marks_executed_failed_and_current_nodes_with_seconds() -> None:
    steps = [{"node": "eda", "status": "done", "seconds": 1.25},
             {"node": "eda", "status": "done", "seconds": 1.0},
             {"node": "trainer", "status": "failed", "seconds": 0.5},
             {"node": "tuner", "status": "skipped"}]
    drawn = highlight(graph.get_graph().draw_mermaid(), steps, [])
    assert 'eda("eda · 2.2 s")' in drawn and 'trainer("trainer · 0.5 s")' in drawn
    assert "class eda,planner,reporter executed" in drawn
    assert "class trainer failed" in drawn and "tuner(tuner)" in drawn
    assert "class tuner current" in highlight(graph.get_graph().draw_mermaid(), steps[:2], ["tuner"])
