"""Run-time settings injected into every node through LangGraph's `context=`, never checkpointed."""

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

THREAD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a thread id names folders and lock files: never a path


@dataclass(frozen=True)
class Context:
    home: Path
    planner: str = "rules"
    implementations: dict[str, str] = field(default_factory=dict)  # role -> implementation name
    accel: str = "auto"
    stop: threading.Event | None = None  # set by the UI's Stop button; the tuner ends after the running trial
    llm: dict[str, Any] = field(default_factory=dict)  # LLM settings (api key, base url, model, ...)
    approve_all: bool = False  # `ask --yes`: deploy and rollback go ahead without pausing for approval
    user: str = ""  # who asks (ownership, deployment history); empty for the local CLI
    roots: tuple[Path, ...] | None = None  # where `load` / `predict` may read (server); None: anywhere

    def workspace(self, thread_id: str) -> Path:
        """The thread's artifact folder (created on demand); a thread id is never a path."""
        if not THREAD_ID.fullmatch(thread_id or ""):
            raise ValueError(f"invalid thread id {thread_id!r}: letters, digits, - and _ only")
        path = self.home / "workspaces" / thread_id
        path.mkdir(parents=True, exist_ok=True)
        return path
