"""Mermaid of the graph with a thread's executed nodes, current node and per-node timings (offline)."""

import re
from collections import defaultdict
from typing import Any

STYLES = {
    "executed": "fill:#d1fae5,stroke:#059669,stroke-width:2px",
    "failed": "fill:#fee2e2,stroke:#dc2626,stroke-width:2px",
    "current": "fill:#fde68a,stroke:#d97706,stroke-width:3px",
}
NODE_LINE = re.compile(r"^(\s*)(\w+)\((\w+)\)\s*$")


def highlight(mermaid: str, steps: list[dict[str, Any]], current: list[str]) -> str:
    """`mermaid` with executed / failed / current nodes styled and each executed node's total seconds."""
    seconds: dict[str, float] = defaultdict(float)
    classes: dict[str, str] = {}
    for step in steps:
        if step.get("status") in ("done", "failed"):
            seconds[step["node"]] += float(step.get("seconds") or 0.0)
            if classes.get(step["node"]) != "failed":
                classes[step["node"]] = "failed" if step["status"] == "failed" else "executed"
    if steps or current:
        classes.setdefault("planner", "executed")
    if not current and steps:
        classes.setdefault("reporter", "executed")
    classes.update({node: "current" for node in current})
    lines = [_label(line, seconds) for line in mermaid.rstrip().splitlines()]
    lines += [f"\tclassDef {name} {style}" for name, style in STYLES.items()]
    for name in STYLES:
        nodes = [node for node, cls in classes.items() if cls == name]
        if nodes:
            lines.append(f"\tclass {','.join(nodes)} {name}")
    return "\n".join(lines) + "\n"


def _label(line: str, seconds: dict[str, float]) -> str:
    """A node line with its total time in the label, e.g. `trainer("trainer · 3.1 s")`."""
    match = NODE_LINE.match(line)
    if not match or match.group(2) not in seconds:
        return line
    indent, node, label = match.groups()
    return f'{indent}{node}("{label} · {seconds[node]:.1f} s")'
