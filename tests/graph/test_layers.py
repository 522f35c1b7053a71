"""The package layering of STYLE.md: tools ← nodes ← graph wiring ← app / ui, checked on the real imports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"graph", "nodes", "tools", "ui"}
NODE_VIEW_OF_GRAPH = {"graph.state", "graph.context", "graph.protocols", "graph.vocabulary"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module in PACKAGES:  # `from graph import runner` imports graph.runner
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", sorted((ROOT / "tools").glob("*.py")), ids=lambda p: p.name)
def test_tools_import_no_graph_node_ui_or_langgraph(path):
    forbidden = {"graph", "nodes", "ui", "app", "serving", "langgraph", "langchain_core", "gradio"}
    assert not {top(m) for m in imported_modules(path)} & forbidden


@pytest.mark.parametrize("path", sorted((ROOT / "nodes").glob("*.py")), ids=lambda p: p.name)
def test_nodes_see_only_state_context_protocols_and_vocabulary_of_graph(path):
    from_graph = {m for m in imported_modules(path) if top(m) == "graph" and m != "graph"}
    assert from_graph <= NODE_VIEW_OF_GRAPH, path.name
    assert not {top(m) for m in imported_modules(path)} & {"ui", "app", "serving"}


@pytest.mark.parametrize("path", sorted((ROOT / "serving").glob("*.py")), ids=lambda p: p.name)
def test_the_gateway_uses_tools_only(path):
    forbidden = {"graph", "nodes", "ui", "app", "langgraph", "gradio"}
    assert not {top(m) for m in imported_modules(path)} & forbidden
