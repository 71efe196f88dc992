"""Where an instance's gateway lock files live, who owns them, and whether one is stale.

The gateway takes these locks (`gateway.locks`); `doctor` and other tools only
read them, so the reading side lives here, below both.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from openclaw.fsutil import FileLock
from openclaw.procutil import pid_alive
from openclaw.profiles.paths import InstancePaths, runtime_dir


def state_lock_path(paths: InstancePaths) -> Path:
    return paths.lock_dir / "gateway.state.lock"


def config_lock_path(config_path: Path) -> Path:
    """Host-wide, keyed by the config path, so two state dirs cannot share one config."""
    digest = hashlib.sha256(os.path.abspath(config_path).encode()).hexdigest()[:8]
    return runtime_dir() / "locks" / f"gateway.{digest}.lock"


def read_owner(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def live_foreign_owner(record: dict[str, Any] | None) -> bool:
    """A record whose process still runs but holds no OS lock (e.g. another implementation)."""
    if not record or not isinstance(record.get("pid"), int) or record["pid"] == os.getpid():
        return False
    return pid_alive(record["pid"], record.get("startMarker"))


def lock_is_stale(path: Path) -> bool:
    """Left behind: no process holds the OS lock and the recorded owner is gone."""
    if live_foreign_owner(read_owner(path)):
        return False
    lock = FileLock(path)
    if not lock.try_acquire():
        return False  # held by a live process
    lock.release(remove=False)
    return True
