"""Process identity (pid + start marker) so a recycled pid is never mistaken for its owner."""

from __future__ import annotations

import os
import sys


def start_marker(pid: int) -> str | None:
    """An opaque value that changes when the pid is reused; None if the process is gone."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            return None
        # the command name may contain spaces or parens; fields resume after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        return fields[19] if len(fields) > 19 else None
    try:
        import psutil

        return f"{psutil.Process(pid).create_time():.3f}"
    except Exception:
        return None


def pid_alive(pid: int, marker: str | None = None) -> bool:
    """True when `pid` runs and, if a marker is given, is the same process that recorded it."""
    if pid <= 0:
        return False
    current = start_marker(pid)
    if current is None:
        return False
    if _is_zombie(pid):
        return False
    return marker is None or marker == current


def _is_zombie(pid: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].startswith("Z")


def self_marker() -> str | None:
    return start_marker(os.getpid())
