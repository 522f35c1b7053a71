"""Browser sessions: one thread and workspace each, session-scoped file serving, clean-up at the end."""

import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from tools import formats

UPLOAD_TYPES = formats.UPLOAD_SUFFIXES


def new_thread_id() -> str:
    """A fresh, unguessable thread id."""
    return uuid.uuid4().hex


@dataclass
class Session:
    """What one browser session owns: its thread, the stop switch of its run and the files it served."""

    home: Path
    thread_id: str = field(default_factory=new_thread_id)
    stop: threading.Event = field(default_factory=threading.Event)
    messages: list[gr.ChatMessage] = field(default_factory=list)
    serve_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dsgraph-ui-")))
    temp_uploads: set[Path] = field(default_factory=set)
    implementations: dict[str, str] = field(default_factory=dict)  # role -> name, from the Settings tab

    @property
    def workspace(self) -> Path:
        """The current thread's artifact folder (created on demand)."""
        path = self.home / "workspaces" / self.thread_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def start_new(self) -> None:
        """Begin a new conversation (a fresh thread) in this session."""
        self.thread_id = new_thread_id()
        self.messages = []

    def upload(self, temp_path: str | Path) -> Path:
        """Copy a file the browser uploaded into the workspace's uploads/ and remember the temp copy."""
        source = Path(temp_path)
        if source.suffix.lower() not in UPLOAD_TYPES:
            raise gr.Error(f"{source.name}: unsupported file type; upload {formats.DESCRIPTION}.")
        target = self.workspace / "uploads" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.temp_uploads.add(source)
        return target

    def serve(self, path: str | Path) -> str:
        """A copy of a workspace file that Gradio may hand to this session's browser.

        Copies live in this session's temp folder (Gradio moves them into its cache under a salted content
        hash); the home itself is never an allowed path, so no URL reaches another session's workspace.
        """
        source = Path(path)
        try:
            relative = source.resolve().relative_to(self.workspace.resolve())
        except ValueError:
            relative = Path(source.name)
        target = self.serve_dir / self.thread_id / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return str(target)

    def close(self) -> None:
        """Stop the running work and delete the temporary files; checkpoints and workspaces persist."""
        self.stop.set()
        shutil.rmtree(self.serve_dir, ignore_errors=True)
        for upload in self.temp_uploads:
            upload.unlink(missing_ok=True)
            if upload.parent.is_dir() and not any(upload.parent.iterdir()):
                upload.parent.rmdir()
        self.temp_uploads.clear()


class Sessions:
    """Session registry keyed by Gradio's session hash (a browser tab or a gradio_client Client)."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self._by_hash: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, request: gr.Request) -> Session:
        """The session of `request`, created on first use."""
        key = request.session_hash or "anonymous"
        with self._lock:
            if key not in self._by_hash:
                self._by_hash[key] = Session(self.home)
            return self._by_hash[key]

    def close(self, request: gr.Request) -> None:
        """End the session of `request` (tab closed): stop its run, clean its temporary files."""
        with self._lock:
            session = self._by_hash.pop(request.session_hash or "anonymous", None)
        if session is not None:
            session.close()

    def close_all(self) -> None:
        """End every session (server shutdown)."""
        with self._lock:
            sessions, self._by_hash = list(self._by_hash.values()), {}
        for session in sessions:
            session.close()
