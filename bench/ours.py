"""dsgraph's side: the same requests a user would send, through the Agent, timed per turn and per step."""

import statistics
import time
from pathlib import Path
from typing import Any

from bench.measure import measured

CHEAP_TURNS = ("help", "history", "best")
CHEAP_REPEATS = 3


class Session:
    """One Agent over a fresh home; every turn is timed and its peak memory sampled."""

    def __init__(self, home: Path, accel: str | None = None) -> None:
        from graph.agent import Agent

        self.agent = Agent(home, accel=accel)
        self.turns: list[dict[str, Any]] = []

    def ask(self, message: str, **kwargs: Any) -> dict[str, Any]:
        """One turn; records wall time, the steps' own seconds and the overhead (the difference)."""
        started = time.time()
        with measured() as took:
            result = self.agent.ask(message, **kwargs)
        steps = result.get("steps") or []
        tool_s = sum(s.get("seconds") or 0.0 for s in steps)
        failed = [f"{s['action']}: {s.get('error')}" for s in steps if s.get("status") == "failed"]
        turn = {"message": message, "thread_id": result.get("thread_id"), "started": started,
                "seconds": took.seconds, "tool_s": tool_s, "overhead_ms": (took.seconds - tool_s) * 1000,
                "peak_rss_mb": took.peak_rss_mb, "failed": failed,
                "steps": [{k: s.get(k) for k in ("id", "node", "action", "status", "seconds", "error")}
                          for s in steps],
                "experiments": [_record(e) for e in result.get("experiments") or []]}
        self.turns.append(turn)
        if failed or result.get("error"):
            raise RuntimeError(f"dsgraph turn {message!r} failed: {failed or result.get('error')}")
        return turn


def _record(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "model", "task", "metrics", "seconds", "n_trials", "params", "cv")
    return {k: record.get(k) for k in keys}


def best_record(turn: dict[str, Any], metric: str) -> dict[str, Any]:
    """The turn's experiment with the highest `metric`."""
    return max(turn["experiments"], key=lambda e: e["metrics"].get(metric, float("-inf")))


def run(data: Path, home: Path, n_trials: int, accel: str | None = None) -> dict[str, Any]:
    """Classification set, tuning of its best model, regression set, then cheap turns and checkpoint sizes."""
    session = Session(home, accel)
    load = session.ask("target is survived", data=str(data))
    thread = load["thread_id"]
    classification = session.ask("train classifiers", thread_id=thread)
    model = best_record(classification, "accuracy")["model"]
    tuning = session.ask(f"tune {model} with {n_trials} trials", thread_id=thread)
    tune_step = next(s for s in tuning["steps"] if s["action"] == "tune")
    trials = study_trials(home, f"{thread}-{tune_step['id']}", tuning["started"])

    reg_load = session.ask("target is fare", data=str(data))
    regression = session.ask("train regression models", thread_id=reg_load["thread_id"])

    cheap = [session.ask(message, thread_id=thread) for _ in range(CHEAP_REPEATS) for message in CHEAP_TURNS]
    sizes = [size for t in (thread, reg_load["thread_id"]) for size in session.agent.checkpoint_sizes(t)]
    return {"classification": classification, "regression": regression, "tuning": tuning | {"trials": trials},
            "tuned_model": model, "loads": [load, reg_load], "cheap": cheap,
            "overhead_ms": statistics.median(t["overhead_ms"] for t in session.turns),
            "overhead_cheap_ms": statistics.median(t["overhead_ms"] for t in cheap),
            "checkpoint_bytes": {"max": max(sizes), "median": statistics.median(sizes), "count": len(sizes)}}


def study_trials(home: Path, study_name: str, started: float) -> list[dict[str, Any]]:
    """Finished trials of the tune step's Optuna study: value and seconds since the turn began."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{home / 'optuna.db'}")
    rows = []
    for trial in study.trials:
        if trial.datetime_complete is None:
            continue
        rows.append({"trial": trial.number, "state": trial.state.name, "value": trial.value,
                     "t": trial.datetime_complete.timestamp() - started})
    return sorted(rows, key=lambda r: r["t"])


def time_to_quality(trials: list[dict[str, Any]], target: float) -> float | None:
    """Seconds until a completed trial first reached `target` (None when none did)."""
    hits = [t["t"] for t in trials
            if t["state"] == "COMPLETE" and t["value"] is not None and t["value"] >= target]
    return min(hits) if hits else None


def scale(data: Path, home: Path, accel: str | None = None) -> dict[str, Any]:
    """The scale run: describe, then the default classification set, on one large file."""
    session = Session(home, accel)
    describe = session.ask("describe the data", data=str(data))
    session.ask("target is survived", thread_id=describe["thread_id"])
    train = session.ask("train classifiers", thread_id=describe["thread_id"])
    return {"describe": describe, "classification": train, "turns": session.turns,
            "seconds": sum(t["seconds"] for t in session.turns),
            "peak_rss_mb": max(t["peak_rss_mb"] for t in session.turns)}
