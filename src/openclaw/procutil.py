"""Process identity (pid + start marker) so a recycled pid is never mistaken for its owner."""

from __future__ import annotations

import os
import sys


def _linux_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces or parens)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def start_marker(pid: int) -> str | None:
    """An opaque value that changes when the pid is reused; None if the process is gone."""
    if sys.platform.startswith("linux"):
        fields = _linux_stat(pid)
        return fields[19] if fields and len(fields) > 19 else None
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except (psutil.Error, OSError, ValueError):  # gone, not ours to read, or not a valid pid
        return None


def pid_alive(pid: int, marker: str | None = None) -> bool:
    """True when `pid` runs (not a zombie) and, if a marker is given, is the process that recorded it."""
    if pid <= 0:
        return False
    if sys.platform.startswith("linux"):
        fields = _linux_stat(pid)
        if not fields or fields[0] == "Z":
            return False
    current = start_marker(pid)
    return current is not None and (marker is None or marker == current)


def self_marker() -> str | None:
    return start_marker(os.getpid())


def forbid_inspection() -> bool:
    """Stop other processes of this user from reading this one's environment, memory or open files
    (`/proc/<pid>/environ`, `mem`, `fd`; ptrace) and from a core dump: the gateway holds secrets and
    its tools start commands. Only a process with CAP_SYS_PTRACE still can. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # paid once, when the first tool runs

    pr_set_dumpable = 4
    try:
        result: int = ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)  # restype c_int
        return result == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int, sig: int = 15) -> bool:
    """Have the kernel send `sig` to this process when its parent (`parent`) dies, so a child can
    never outlive the process that supervises it; exits at once when that parent is already gone.
    False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ok = ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # it died between fork and prctl: no signal will come
        os._exit(0)
    return bool(ok)
