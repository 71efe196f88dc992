"""The host-wide registry of running gateways (one small JSON file each).

Gateways register on start and remove their entry on stop. Entries left by a
`kill -9` are recognized as stale by pid + start marker and ignored.
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
    """Live entries only; stale ones (dead pid) are removed as they are found."""
    out: list[dict[str, Any]] = []
    directory = registry_dir()
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid = record.get("pid")
        if isinstance(pid, int) and pid_alive(pid, record.get("startMarker")):
            out.append(record)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return out
