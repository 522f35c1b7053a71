"""Declarative deployments: which registered versions serve each model, in one human-editable TOML file."""

import fcntl
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from tools.errors import DataError, ModelError, ToolError
from tools.model_registry import NAME, ModelRegistry, check_name

FILE = "deployments.toml"
HISTORY = "deployments-history.jsonl"
LOCK = "deployments.lock"
MODES = ("live", "shadow")
CENTS = 10_000  # 100 % in hundredths of a percent: shares are apportioned in whole cents to sum exactly
HEADER = """\
dsgraph deployments: which registered model versions answer requests (the gateway rereads this file).
One table per model, e.g. ["credit/risk"], with
  live = [{version = 1, traffic = 80.0}, {version = 2, traffic = 20.0}]   # percent, adding up to 100
  shadow = [3]   # versions that get a copy of every request; their answers are not returned
Edit it by hand or ask dsgraph to deploy / roll back: your comments are kept, and dsgraph logs each of its
changes in deployments-history.jsonl."""


class Deployments:
    """The deployments of a dsgraph home: `<home>/deployments.toml` and its change history.

    A change is proposed (nothing written), then applied: under a file lock, only if the model's deployment
    is still what the change started from, with the file replaced atomically and the change appended to
    the history.
    """

    def __init__(self, home: str | os.PathLike) -> None:
        self.home = Path(home)
        self.file = self.home / FILE
        self.history_file = self.home / HISTORY

    def current(self, name: str) -> list[dict[str, Any]]:
        """[{"version", "traffic", "mode"}] of `name`, live versions then shadows; [] when not deployed."""
        return self.all().get(check_name(name), [])

    def all(self) -> dict[str, list[dict[str, Any]]]:
        """Every deployed model's `current` list, by name."""
        return {name: entries for name, entries in _parse(self.file, self._text())[1].items() if entries}

    def propose(self, name: str, version: int, traffic: float = 100.0, mode: str = "live") -> dict[str, Any]:
        """The change deploying `version` of `name` live at `traffic` percent, or as a shadow (not applied).

        A shadow ignores `traffic` (it gets a copy of every request). Returns {"name", "from", "to", "note"}:
        `from` and `to` shaped as `current` gives them, `note` a remark or None.
        """
        name = check_name(name)
        if mode not in MODES:
            raise ModelError(f"Deployment mode must be live or shadow, not {mode!r}.")
        version = _version(version)
        ModelRegistry(self.home).get(name, version)  # an unknown version fails here, naming the known ones
        before = self.current(name)
        live = {e["version"]: e["traffic"] for e in before if e["mode"] == "live" and e["version"] != version}
        shadow = {e["version"] for e in before if e["mode"] == "shadow"} - {version}
        notes = []
        if mode == "shadow":
            if not live:
                alone = f" other than version {version}" if version in {e["version"] for e in before} else ""
                raise ModelError(f"{name} has no live version{alone} whose requests a shadow could copy; "
                                 "deploy a version live first.")
            shares, notes = _scaled(live, CENTS)
            shadow.add(version)
        else:
            share = _traffic(traffic)
            if not live and share < CENTS:
                notes.append(f"Version {version} takes 100% of the live traffic: no other version of {name} "
                             "is live.")
            if not live or share == CENTS:
                shares = {version: CENTS}
            else:
                shares, notes = _scaled(live, CENTS - share)
                shares[version] = share
        after = _entries(shares, shadow)
        if _same(before, after):
            notes.append(f"{name} is deployed like this already; nothing changes.")
        return {"name": name, "from": before, "to": after, "note": " ".join(notes) or None}

    def propose_rollback(self, name: str) -> dict[str, Any]:
        """The change back to how `name` was deployed before its newest recorded change; nothing written."""
        name = check_name(name)
        changes = self.history(name)
        if not changes:
            raise ToolError(f"{name} has no recorded deployment change to roll back; deploy a version first.")
        last, before = changes[-1], self.current(name)
        if _same(before, last["from"]):
            raise ToolError(f"{name} is already deployed as before its last change ({describe(before)}); "
                            "nothing to roll back.")
        by = f" by {last['who']}" if last.get("who") else ""
        reason = f" ({last['why']})" if last.get("why") else ""
        note = f"Undoes the change of {last['at']}{by}{reason}, which made it {describe(last['to'])}."
        return {"name": name, "from": before, "to": _normalized(last["from"]), "note": note}

    def apply(self, change: dict[str, Any], who: str = "", why: str = "") -> None:
        """Write `change` (from `propose` or `propose_rollback`) and log it; ToolError when it is stale."""
        name = check_name(change["name"])
        _check(change["to"], ModelError, f"The change of {name}")
        target = _normalized(change["to"])
        self.home.mkdir(parents=True, exist_ok=True)
        with self._locked():
            document, models = _parse(self.file, self._text())
            before = models.get(name, [])
            if not _same(before, change["from"]):
                raise ToolError(f"The deployment of {name} changed after this change was proposed: it is now "
                                f"{describe(before)}, not {describe(change['from'])}. Nothing was applied; "
                                "propose the change again.")
            if _same(before, target):
                return
            _set(document, name, target)
            self._write(tomlkit.dumps(document))
            self._log({"at": datetime.now(UTC).isoformat(timespec="seconds"), "who": who, "name": name,
                       "from": before, "to": target, "why": why})

    def history(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every applied change, oldest first (of `name` only when given)."""
        name = check_name(name) if name is not None else None
        if not self.history_file.is_file():
            return []
        changes = []
        for number, line in enumerate(self.history_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                change = json.loads(line)
            except ValueError:
                raise DataError(f"{self.history_file}, line {number}, is not a JSON change; correct or "
                                "delete that line.") from None
            if name is None or change.get("name") == name:
                changes.append(change)
        return changes

    def mtime(self) -> float:
        """When the deployments file last changed (0.0 when there is none): a cheap check for a reload."""
        return self.file.stat().st_mtime if self.file.exists() else 0.0

    def stamp(self) -> tuple[int, int, int] | None:
        """(mtime in ns, inode, size) of the file: differs after every write, even within one clock tick."""
        if not self.file.exists():
            return None
        stat = self.file.stat()
        return stat.st_mtime_ns, stat.st_ino, stat.st_size

    def _text(self) -> str:
        return self.file.read_text(encoding="utf-8") if self.file.exists() else ""

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive across processes: two changes applied at once would otherwise lose one of them."""
        with open(self.home / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, text: str) -> None:
        """Replace the file atomically (readers see the old or the new file, never half of one)."""
        mode = self.file.stat().st_mode & 0o777 if self.file.exists() else 0o644
        handle, temporary = tempfile.mkstemp(dir=self.home, prefix=".deployments-", suffix=".toml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, self.file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _log(self, change: dict[str, Any]) -> None:
        with open(self.history_file, "a", encoding="utf-8") as out:
            out.write(json.dumps(change) + "\n")
            out.flush()
            os.fsync(out.fileno())


def catalog(home: str | os.PathLike) -> list[dict[str, Any]]:
    """Every registered model with its versions and deployment, as `models --json` and GET /v1/models give
    them: [{"name", "versions": [{"version", "experiment", "metrics", "created_at"}], "deployment"}]."""
    registry, deployed = ModelRegistry(home), Deployments(home).all()
    return [{"name": name, "versions": [_summary(meta) for meta in registry.versions(name)],
             "deployment": deployed.get(name, [])} for name in registry.names()]


def _summary(meta: dict[str, Any]) -> dict[str, Any]:
    experiment = meta.get("experiment") or {}
    return {"version": meta["version"], "experiment": experiment.get("id"),
            "metrics": experiment.get("metrics"), "created_at": meta["created_at"]}


def describe(entries: list[dict[str, Any]]) -> str:
    """A deployment in words: "version 1 live at 80%, version 2 live at 20%, version 3 shadow"."""
    if not entries:
        return "not deployed"
    return ", ".join(f"version {e['version']} live at {e['traffic']:g}%" if e["mode"] == "live"
                     else f"version {e['version']} shadow" for e in _normalized(entries))


def _parse(path: Path, text: str) -> tuple[tomlkit.TOMLDocument, dict[str, list[dict[str, Any]]]]:
    """The document (comments and layout kept) and each model's checked entries; else DataError."""
    try:
        document = tomlkit.parse(text) if text.strip() else _new_document()
    except TOMLKitError as error:
        raise DataError(f"{path} is not valid TOML ({error}); correct it by hand.") from None
    models = {}
    for name, table in document.unwrap().items():
        where = f"{path}, model {name!r}"
        if not NAME.fullmatch(name):
            raise DataError(f"{where}: not a model name (PROJECT/MODEL in lower case, e.g. "
                            '["credit/risk"]); correct it by hand.')
        if not isinstance(table, dict):
            raise DataError(f"{where}: not a table with live = [...] and shadow = [...]; correct it by hand.")
        models[name] = _read_table(table, where)
    return document, models


def _read_table(table: dict, where: str) -> list[dict[str, Any]]:
    """A model table's entries, each checked; DataError with `where` and the problem otherwise."""
    unknown = set(table) - set(MODES)
    live, shadow = table.get("live", []), table.get("shadow", [])
    problem = None
    if unknown:
        problem = f"unknown key(s) {', '.join(sorted(unknown))} (a model has only live and shadow)"
    elif not isinstance(live, list) or not all(isinstance(e, dict) and set(e) == {"version", "traffic"}
                                               for e in live):
        problem = "live must be a list like [{version = 1, traffic = 100.0}]"
    elif not isinstance(shadow, list):
        problem = "shadow must be a list of versions like [3]"
    if problem:
        raise DataError(f"{where}: {problem}; correct it by hand.")
    entries = [{"version": e["version"], "traffic": e["traffic"], "mode": "live"} for e in live]
    entries += [{"version": version, "traffic": 0.0, "mode": "shadow"} for version in shadow]
    _check(entries, DataError, where)
    return _normalized(entries)


def _check(entries: list[dict[str, Any]], error: type[ToolError], where: str) -> None:
    """Raise `error` unless the entries are a valid deployment: versions ≥ 1 once each, live traffic
    above 0 and adding up to 100, and a live version whenever there is a shadow."""
    versions = [e["version"] for e in entries]
    live = [e["traffic"] for e in entries if e["mode"] == "live"]
    problem = None
    if any(e["mode"] not in MODES for e in entries):
        problem = "a mode is neither live nor shadow"
    elif not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in versions):
        problem = f"versions must be whole numbers from 1, got {versions}"
    elif len(set(versions)) < len(versions):
        twice = sorted({v for v in versions if versions.count(v) > 1})
        problem = f"version(s) {', '.join(map(str, twice))} listed twice (a version is either live or shadow)"
    elif not all(_is_number(t) and 0 < t <= 100 for t in live):
        problem = f"live traffic must be above 0 and at most 100 percent, got {live}"
    elif live and abs(sum(live) - 100) > 1e-6:
        problem = f"live traffic adds up to {sum(live):g}%, not 100%"
    elif versions and not live:
        problem = "shadow versions need a live version beside them"
    if problem:
        advice = "; correct it by hand" if error is DataError else ""
        raise error(f"{where}: {problem}{advice}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _new_document() -> tomlkit.TOMLDocument:
    document = tomlkit.document()
    for line in HEADER.splitlines():
        document.add(tomlkit.comment(line))
    document.add(tomlkit.nl())
    return document


def _set(document: tomlkit.TOMLDocument, name: str, entries: list[dict[str, Any]]) -> None:
    """Write `name`'s entries into its table in place, so the comments around it stay."""
    if not entries:
        if name in document:
            document.remove(name)
        return
    if name not in document:
        document.add(name, tomlkit.table())
    table = document[name]
    live = tomlkit.array()
    for e in entries:
        if e["mode"] == "live":
            pair = tomlkit.inline_table()
            pair.update({"version": e["version"], "traffic": float(e["traffic"])})
            live.append(pair)
    table["live"] = live
    # An empty shadow list stays written: a key added later would land after the comments ending the table.
    table["shadow"] = tomlkit.array()
    table["shadow"].extend(e["version"] for e in entries if e["mode"] == "shadow")


def _normalized(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries in the `current` shape and order: live by version, then shadow by version."""
    plain = [{"version": e["version"], "traffic": float(e["traffic"]) if e["mode"] == "live" else 0.0,
              "mode": e["mode"]} for e in entries]
    return sorted(plain, key=lambda e: (MODES.index(e["mode"]), e["version"]))


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Whether two entry lists are the same deployment (order and number types aside)."""
    def key(entries):
        return sorted((e["mode"], int(e["version"]), round(float(e["traffic"]) * 100)) for e in entries)
    return key(a) == key(b)


def _version(version: Any) -> int:
    if isinstance(version, bool) or not str(version).isdigit() or int(version) < 1:
        raise ModelError(f"A version is a whole number from 1, not {version!r}.")
    return int(version)


def _traffic(traffic: Any) -> int:
    """Live traffic in cents of a percent; ModelError unless 0 < traffic ≤ 100."""
    if not _is_number(traffic) or not 0 < traffic <= 100 or round(traffic * 100) == 0:
        raise ModelError(f"Live traffic must be more than 0 and at most 100 percent (at least 0.01), "
                         f"not {traffic!r}.")
    return round(traffic * 100)


def _scaled(live: dict[int, float], total: int) -> tuple[dict[int, int], list[str]]:
    """`live` shares scaled to `total` cents in proportion (largest remainders get the odd cents); a version
    whose share rounds to nothing leaves, with a note."""
    weight = sum(live.values())
    exact = {version: share * total / weight for version, share in live.items()}
    cents = {version: math.floor(value) for version, value in exact.items()}
    by_remainder = sorted(exact, key=lambda version: (cents[version] - exact[version], version))
    for version in by_remainder[:total - sum(cents.values())]:
        cents[version] += 1
    gone = sorted(version for version, value in cents.items() if value == 0)
    if not gone:
        return cents, []
    kept = {version: value for version, value in cents.items() if value}
    return kept, [f"Version(s) {', '.join(map(str, gone))} leave live traffic: their share rounds to 0%."]


def _entries(shares: dict[int, int], shadow: set[int]) -> list[dict[str, Any]]:
    live = [{"version": version, "traffic": cents / 100, "mode": "live"} for version, cents in shares.items()]
    return _normalized(live + [{"version": version, "traffic": 0.0, "mode": "shadow"} for version in shadow])
