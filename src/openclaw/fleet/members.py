"""A fleet's identity: its members' names and the files its supervisor keeps.

A fleet is named by its prefix within one HOME; its members are ordinary profiles
`<prefix>-1` .. `<prefix>-N`. The supervisor's socket, record and log live in the per-user
runtime dir (beside the running-gateway registry), keyed by prefix and HOME, so two HOMEs may
each run a fleet called `fleet` without meeting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.errors import UsageError
from openclaw.profiles.names import PROFILE_RE
from openclaw.profiles.paths import InstancePaths, paths_for_state_dir, runtime_dir

DEFAULT_PREFIX = "fleet"
MAX_MEMBERS = 500  # each footprint spans 111 ports: 500 members take ~55,000 of them


def check_prefix(prefix: str) -> str:
    """A prefix that yields valid profile names, none of them the default or dev profile."""
    name = prefix.strip()
    if not PROFILE_RE.match(f"{name}-1") or len(name) > 56 or name.lower() in ("default", "dev"):
        raise UsageError(f'invalid fleet prefix "{prefix}": use letters, numbers, "_", "-" (at most 56)')
    return name


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_MEMBERS:
        raise UsageError(f"a fleet has 1 to {MAX_MEMBERS} members (asked for {count})")
    return count


def member_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


def member_paths(home: Path, name: str) -> InstancePaths:
    return paths_for_state_dir(home / f".openclaw-{name}", home)


@dataclass(frozen=True)
class FleetFiles:
    """Where one fleet's supervisor keeps its socket, record and log."""

    prefix: str
    home: Path

    @property
    def key(self) -> str:
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:10]
        return f"{self.prefix}-{digest}"

    @property
    def directory(self) -> Path:
        return runtime_dir() / "fleets"

    @property
    def socket(self) -> Path:
        return self.directory / f"{self.key}.sock"

    @property
    def record(self) -> Path:
        return self.directory / f"{self.key}.json"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.key}.log"

    def read_record(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.record.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def fleet_files(prefix: str, home: Path) -> FleetFiles:
    return FleetFiles(check_prefix(prefix), home)
