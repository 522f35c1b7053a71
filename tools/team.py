"""Who may see what on a shared server: users (argon2-hashed passwords), the projects they belong to, and the
owner and project of every conversation.

Rules: the owner of a thread reads and writes it; members of its project read and fork it; nobody else sees
it. A browser session without a login is its own anonymous user ("anonymous:<session>"), in no project.
"""

import os
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tools.errors import ToolError

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # user and project names (a project starts PROJECT/MODEL)
_HASHER = PasswordHasher()


class TeamError(ToolError):
    """A request about users, projects or ownership that cannot be served; the message says why."""


class Team:
    """Users, projects and thread ownership of one dsgraph home, in `<home>/team.db` (SQLite, WAL)."""

    def __init__(self, home: str | os.PathLike) -> None:
        self.path = Path(home) / "team.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL,"
                " created_at TEXT);"
                "CREATE TABLE IF NOT EXISTS members (user TEXT, project TEXT, PRIMARY KEY (user, project));"
                "CREATE TABLE IF NOT EXISTS threads (thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
                " project TEXT);")

    def add_user(self, name: str, password: str, projects: tuple[str, ...] = ()) -> None:
        """Create a user (TeamError when the name is taken or invalid, or the password is too short)."""
        name = _checked(name, "user")
        if len(password) < 8:
            raise TeamError("A password needs at least 8 characters.")
        with closing(self._connect()) as db, db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise TeamError(f"There is already a user {name}.")
            db.execute("INSERT INTO users VALUES (?, ?, ?)",
                       (name, _HASHER.hash(password), datetime.now(UTC).isoformat(timespec="seconds")))
            db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?)",
                           [(name, _checked(project, "project")) for project in projects])

    def join(self, name: str, project: str) -> None:
        """Add a user to a project (created on first use)."""
        with closing(self._connect()) as db, db:
            if not db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise TeamError(f"There is no user {name}; add it with `python app.py users add {name}`.")
            db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (name, _checked(project, "project")))

    def verify(self, name: str, password: str) -> bool:
        """Whether `password` is the user's (constant-time argon2 check; False for an unknown user)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT hash FROM users WHERE name = ?", (name.strip().lower(),)).fetchone()
        try:
            return bool(row) and _HASHER.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            return False

    def users(self) -> list[dict]:
        """Every user with their projects, by name."""
        with closing(self._connect()) as db:
            names = db.execute("SELECT name, created_at FROM users ORDER BY name").fetchall()
            members = db.execute("SELECT user, project FROM members ORDER BY project").fetchall()
        return [{"name": name, "projects": [p for u, p in members if u == name], "created_at": created}
                for name, created in names]

    def has_users(self) -> bool:
        """Whether anyone can log in (then the server asks for a login)."""
        with closing(self._connect()) as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def projects_of(self, user: str) -> list[str]:
        """The projects a user belongs to (none for an anonymous session)."""
        with closing(self._connect()) as db:
            return [p for (p,) in db.execute("SELECT project FROM members WHERE user = ? ORDER BY project",
                                             (user,))]

    def model_projects(self, user: str) -> set[str] | None:
        """Projects whose registered models `user` may see, register and deploy: their projects and their own
        name; None (no limit) while nobody can log in, as on a personal server."""
        return {user, *self.projects_of(user)} if self.has_users() else None

    def check_model(self, user: str, name: str) -> None:
        """TeamError unless `user` may register or deploy the model PROJECT/MODEL `name`."""
        projects = self.model_projects(user)
        if projects is not None and name.split("/")[0] not in projects:
            raise TeamError(f"{name} belongs to project {name.split('/')[0]}, which you are not a member of; "
                            f"your projects: {', '.join(sorted(projects))}.")

    def claim(self, thread_id: str, owner: str, project: str | None = None) -> None:
        """Record the owner (and project) of a new thread; a thread that has one keeps it."""
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR IGNORE INTO threads VALUES (?, ?, ?)", (thread_id, owner, project))

    def owner(self, thread_id: str) -> tuple[str, str | None] | None:
        """(owner, project) of a thread, or None when nobody claimed it (made by the local CLI)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT owner, project FROM threads WHERE thread_id = ?",
                             (thread_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def may_read(self, user: str, thread_id: str) -> bool:
        """The owner, and members of the thread's project, may read and fork it."""
        found = self.owner(thread_id)
        return bool(found) and (found[0] == user or (found[1] in self.projects_of(user)))

    def may_write(self, user: str, thread_id: str) -> bool:
        """Only the owner sends messages to a thread (a new thread is anyone's to start)."""
        found = self.owner(thread_id)
        return found is None or found[0] == user

    def readable(self, user: str) -> set[str]:
        """Ids of every thread `user` may read."""
        projects = self.projects_of(user)
        with closing(self._connect()) as db:
            rows = db.execute("SELECT thread_id, owner, project FROM threads").fetchall()
        return {t for t, owner, project in rows if owner == user or (project and project in projects)}

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)


def _checked(name: str, what: str) -> str:
    name = name.strip().lower()
    if not NAME.fullmatch(name):
        raise TeamError(f"{name!r} is not a valid {what} name: lower-case letters, digits, '-' and '_', "
                        "starting with a letter or digit.")
    return name
