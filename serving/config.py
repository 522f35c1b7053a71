"""Gateway settings: `[serving]` of `<home>/config.toml`, overridden by the environment; who may call."""

import hmac
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request

from tools.errors import DataError

MAX_ROWS = 100_000
HOME_ENV, MAX_ROWS_ENV, KEYS_ENV = "DSGRAPH_HOME", "DSGRAPH_MAX_ROWS", "DSGRAPH_API_KEYS"


@dataclass(frozen=True)
class Settings:
    """Where the home is, the most rows one request may send, and the API key of each project.

    A project with a key needs it (`Authorization: Bearer KEY`); one without is open to this machine
    (loopback) only, so that nothing is served to the network until someone chose a key.
    """

    home: Path
    max_rows: int = MAX_ROWS
    api_keys: dict[str, str] = field(default_factory=dict)  # project → key

    def allows(self, request: Request, project: str) -> bool:
        """Whether this client may call `project`."""
        key, token = self.api_keys.get(project), _bearer(request)
        if key is None:
            return is_loopback(request)
        return token is not None and hmac.compare_digest(key, token)

    def refusal(self, request: Request, project: str | None) -> str:
        """Why this client may not call `project` (or, with None, the gateway)."""
        if project in self.api_keys:
            if _bearer(request) is None:
                return f"Project {project} needs an API key: send the header Authorization: Bearer KEY."
            return f"The API key sent is not valid for project {project}."
        if project is None and self.api_keys:
            return "Send the API key of a project in the header Authorization: Bearer KEY."
        return (f"{'Project ' + project + ' has' if project else 'This gateway has'} no API key configured, "
                "so only this machine (loopback) may call it; configure keys in [serving.api_keys] of "
                f"config.toml or {KEYS_ENV}.")


def load_settings(home: str | os.PathLike | None = None) -> Settings:
    """Settings of `home` (default $DSGRAPH_HOME or ./checkpoints); DataError says what to fix."""
    home = Path(home or os.environ.get(HOME_ENV) or "checkpoints").resolve()
    config = _config(home / "config.toml").get("serving", {})
    max_rows = os.environ.get(MAX_ROWS_ENV) or config.get("max_rows", MAX_ROWS)
    if not str(max_rows).isdigit() or int(max_rows) < 1:
        raise DataError(f"max_rows must be a whole number of at least 1, not {max_rows!r}: fix "
                        f"{MAX_ROWS_ENV} or [serving] max_rows in {home / 'config.toml'}.")
    keys = _keys_from_env(os.environ[KEYS_ENV]) if os.environ.get(KEYS_ENV) else config.get("api_keys", {})
    if not isinstance(keys, dict) or not all(isinstance(key, str) and key for key in keys.values()):
        raise DataError(f"[serving.api_keys] in {home / 'config.toml'} must map each project to a key, e.g. "
                        'credit = "a-long-secret".')
    return Settings(home, int(max_rows), {project.strip().lower(): key for project, key in keys.items()})


def is_loopback(request: Request) -> bool:
    """Whether the client calls from this machine."""
    try:
        return ipaddress.ip_address(request.client.host).is_loopback if request.client else False
    except ValueError:
        return False


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _config(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"{path} cannot be read ({error}); fix or remove it.") from None


def _keys_from_env(text: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in text.split(",") if item.strip()]
    if not all(sep and project.strip() and key.strip() for project, sep, key in pairs):
        raise DataError(f'{KEYS_ENV} must look like "credit=key1,fraud=key2" (project=key, comma-separated).')
    return {project.strip(): key.strip() for project, _, key in pairs}
