"""Which implementation serves each node role: built-ins, `dsgraph.nodes` entry points and `config.toml`."""

import importlib
import tomllib
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from graph.context import Context

ENTRY_POINT_GROUP = "dsgraph.nodes"
ROLES = ("planner", "eda", "trainer", "tuner", "deployer", "monitor", "reporter")
DEFAULTS = {"planner": "rules", **{role: "default" for role in ROLES[1:]}}
BUILTINS: dict[str, dict[str, str]] = {
    "planner": {"rules": "nodes.planner_rules:plan", "llm": "nodes.planner_llm:plan"},
    "eda": {"default": "nodes.eda:run"},
    "trainer": {"default": "nodes.trainer:run"},
    "tuner": {"default": "nodes.tuner:run"},
    "deployer": {"default": "nodes.deployer:run"},
    "monitor": {"default": "nodes.monitor:run"},
    "reporter": {"default": "nodes.reporter:run", "llm": "nodes.reporter_llm:run"},
}
ACCELERATED_ROLES = ("eda", "trainer", "tuner", "deployer", "monitor")  # they import pandas / scikit-learn


class RegistryError(ValueError):
    """An unknown role or implementation name; the message lists the known ones."""


@cache
def _plugins() -> tuple[tuple[str, str, str], ...]:
    """(role, name, "module:function") of every installed `dsgraph.nodes` entry point."""
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        role, _, name = ep.name.partition(".")
        if role in ROLES and name:
            found.append((role, name, ep.value))
    return tuple(found)


def implementations(role: str) -> dict[str, str]:
    """Implementation name -> "module:function" for `role` (built-ins, then entry points)."""
    if role not in ROLES:
        raise RegistryError(f"unknown node role {role!r}; roles are {', '.join(ROLES)}")
    table = dict(BUILTINS[role])
    table.update({name: target for r, name, target in _plugins() if r == role})
    return table


def read_config(home: Path) -> dict[str, str]:
    """The `[nodes]` table of `<home>/config.toml` (role -> implementation name), empty when absent."""
    path = Path(home) / "config.toml"
    if not path.exists():
        return {}
    nodes = tomllib.loads(path.read_text(encoding="utf-8")).get("nodes", {})
    return {role: str(name) for role, name in nodes.items() if role in ROLES}


def choose(home: Path, overrides: dict[str, str | None] | None = None) -> dict[str, str]:
    """Role -> implementation name: defaults, then config.toml, then explicit overrides (CLI flags)."""
    chosen = {**DEFAULTS, **read_config(home)}
    chosen.update({role: name for role, name in (overrides or {}).items() if name})
    for role, name in chosen.items():
        known = implementations(role)
        if name not in known:
            raise RegistryError(f"unknown {role} implementation {name!r}; choose one of {', '.join(known)}")
    return chosen


def chosen_name(role: str, ctx: Context) -> str:
    """The implementation name `ctx` selects for `role`."""
    if role == "planner":
        return ctx.implementations.get("planner") or ctx.planner
    return ctx.implementations.get(role) or DEFAULTS[role]


def target(role: str, ctx: Context) -> str:
    """The "module:function" that serves `role` under `ctx`."""
    name = chosen_name(role, ctx)
    known = implementations(role)
    if name not in known:
        raise RegistryError(f"unknown {role} implementation {name!r}; choose one of {', '.join(known)}")
    return known[name]


def resolve(role: str, ctx: Context) -> Callable:
    """Import (once) the function serving `role`; the accelerator is activated before eda/trainer/tuner."""
    if role in ACCELERATED_ROLES:
        from tools import accel

        accel.activate(ctx.accel)
    return _load(target(role, ctx))


@cache
def _load(spec: str) -> Callable:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)
