"""The host-wide registry of running gateways (one small JSON file each).

Gateways register on start and remove their entry on stop. Entries left by a
`kill -9` are recognized as stale by pid + start marker and dropped; an entry
without a start marker cannot be told from a recycled pid, so it is stale too.
The directory is per user, not per HOME: entries carry the `home` they run for,
so a listing can tell this HOME's instances from its port neighbours.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from openclaw.fsutil import atomic_write, ensure_private_dir
from openclaw.procutil import pid_alive
from openclaw.profiles.paths import runtime_dir


def registry_dir() -> Path:
    return runtime_dir() / "gateways"


def _entry_path(state_dir: Path) -> Path:
    key = hashlib.sha256(os.path.abspath(state_dir).encode()).hexdigest()[:16]
    return registry_dir() / f"{key}.json"


def register(state_dir: Path, record: dict[str, Any]) -> Path:
    ensure_private_dir(registry_dir())
    path = _entry_path(state_dir)
    atomic_write(path, json.dumps(record, indent=2) + "\n")
    return path


def unregister(state_dir: Path, pid: int) -> None:
    path = _entry_path(state_dir)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()


def record_for(state_dir: Path, records: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The live registry entry of the gateway that owns `state_dir`, if it runs."""
    mine = os.path.abspath(state_dir)
    records = running_gateways() if records is None else records
    return next((r for r in records if os.path.abspath(r.get("stateDir", "")) == mine), None)


def running_gateways() -> list[dict[str, Any]]:
    """Live, complete entries only; stale ones (dead or recycled pid) are removed as they are found."""
    out: list[dict[str, Any]] = []
    directory = registry_dir()
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not is_live(record):
            with contextlib.suppress(OSError):
                path.unlink()
        elif isinstance(record.get("stateDir"), str) and isinstance(record.get("port"), int):
            out.append(record)
    return out


def is_live(record: dict[str, Any]) -> bool:
    """The recorded pid runs and is the process that wrote `record` (same start marker)."""
    pid, marker = record.get("pid"), record.get("startMarker")
    return isinstance(pid, int) and isinstance(marker, str) and pid_alive(pid, marker)


def owned_by(record: dict[str, Any], home: Path) -> bool:
    """Whether a running gateway is one of `home`'s instances: the HOME it recorded, or (an entry
    that recorded none) a state dir inside `home`. Others are port neighbours, not ours to manage."""
    mine = os.path.realpath(home)
    owner = record.get("home")
    if isinstance(owner, str):
        return os.path.realpath(owner) == mine
    state = os.path.realpath(str(record.get("stateDir", "")))
    return state == mine or state.startswith(mine.rstrip(os.sep) + os.sep)
