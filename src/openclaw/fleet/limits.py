"""Per-member limits of a fleet: memory, open files, agent concurrency.

A member over its memory ends and is restarted and reported; the host never runs out. The
supervisor builds one `Enforcer` before its first fork, which picks how memory is held:
- `cgroup`: cgroup v2 through the user's systemd, or a delegated directory
  (`OPENCLAW_FLEET_CGROUP=DIR`, see fleet.cgroup): the kernel charges the member with the pages
  it writes and kills it at `memory.max`; `over_limit` sees the kill in `memory.events`.
- `rlimit`: RLIMIT_AS in the member (`OPENCLAW_FLEET_CGROUP=off`, or no cgroup way here). An
  allocation past it fails with MemoryError, which the armed catch-alls turn into exit 75
  (openclaw.memguard). Address space is not memory: a forked member starts with the
  supervisor's whole mapped stack (~65 MiB, shared, mostly never written), each glibc malloc
  arena reserves 64 MiB and each thread its stack (8 MiB): untuned, a member after a few agent
  turns has reserved ~420 MiB. So the member gets one arena, 1 MiB thread stacks, and
  RLIMIT_AS = what it has mapped at fork + the limit: `--memory 256M` means 256 MiB beyond what
  it shares with the supervisor, as under a cgroup (which also charges the member for its
  copies of shared pages it writes, ~20 MB for a busy member). Measured (bench/fleet_limits.py,
  2 cores): a member needs ~4 MiB beyond the shared stack to serve /healthz and ~11 MiB for 100
  agent turns, so the 64 MiB floor of `--memory` leaves it room. Every process the member starts
  inherits the same RLIMIT_AS, so programs that reserve large address ranges (Chromium, Node)
  need the cgroup way.
- `none`: no memory limit asked.
Open files (RLIMIT_NOFILE, soft and hard) apply under every way; agent concurrency is config
(`agents.defaults.maxConcurrent`, which bounds the agent runtime's run semaphore).
"""

from __future__ import annotations

import os
import re
import resource
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw import memguard
from openclaw.errors import UsageError
from openclaw.fleet import cgroup

OVER_LIMIT_EXIT = memguard.OVER_LIMIT_EXIT
MIN_MEMORY = 64 << 20
MIN_OPEN_FILES = 64
MAX_CONCURRENCY = 1024  # the config schema's bound for agents.defaults.maxConcurrent
THREAD_STACK = 1 << 20  # for threads the member starts under RLIMIT_AS (glibc's default is 8 MiB each)
M_ARENA_MAX = -8  # glibc mallopt parameter
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'256M', '1G', '300MiB', '1.5g', '268435456' -> bytes (binary units, as systemd and docker read them)."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise UsageError(f"--memory {text!r}: expected a size such as 256M, 1G, 300MiB or a byte count")
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


def format_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class MemberLimits:
    memory_bytes: int | None = None  # --memory 256M / 1G / 300MiB / bytes
    open_files: int | None = None  # --open-files N (RLIMIT_NOFILE soft and hard)
    agent_concurrency: int | None = None  # --agent-concurrency N -> agents.defaults.maxConcurrent

    @classmethod
    def parse(cls, memory: str | None, open_files: int | None, agent_concurrency: int | None) -> MemberLimits:
        """The flags as given; UsageError (one line) for a value no member could run with."""
        memory_bytes = parse_size(memory) if memory is not None else None
        if memory_bytes is not None and memory_bytes < MIN_MEMORY:
            raise UsageError(f"--memory {memory}: a member needs at least {format_size(MIN_MEMORY)}")
        if open_files is not None:
            if open_files < MIN_OPEN_FILES:
                raise UsageError(f"--open-files {open_files}: a member needs at least {MIN_OPEN_FILES}")
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            if hard != resource.RLIM_INFINITY and open_files > hard and os.geteuid() != 0:
                raise UsageError(f"--open-files {open_files}: above this user's hard limit {hard} (ulimit -Hn)")
        if agent_concurrency is not None and not 1 <= agent_concurrency <= MAX_CONCURRENCY:
            raise UsageError(f"--agent-concurrency {agent_concurrency}: expected 1 to {MAX_CONCURRENCY}")
        return cls(memory_bytes, open_files, agent_concurrency)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemberLimits:
        """Back from `as_dict()` (the fleet's record)."""
        memory = data.get("memory")
        return cls.parse(str(memory) if memory is not None else None, data.get("openFiles"),
                         data.get("agentConcurrency"))

    def as_dict(self) -> dict[str, Any]:
        return {"memory": self.memory_bytes, "openFiles": self.open_files, "agentConcurrency": self.agent_concurrency}

    def config_overrides(self) -> dict[str, Any]:
        """What each member's config gets for these limits."""
        if self.agent_concurrency is None:
            return {}
        return {"agents": {"defaults": {"maxConcurrent": self.agent_concurrency}}}

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.memory_bytes, self.open_files, self.agent_concurrency))


class Enforcer:
    """Chosen once in the supervisor, before the first fork; its `in_child` runs in each member."""

    def __init__(self, limits: MemberLimits, env: Mapping[str, str]) -> None:
        self.limits = limits
        self.cgroups: cgroup.Cgroups | None = None
        self._unplaced: dict[str, str] = {}  # member -> why it was stopped rather than run unlimited
        memory = limits.memory_bytes
        if memory is None:
            self.backend, self.reason = "none", "no memory limit asked"
        elif not sys.platform.startswith("linux"):
            self.backend, self.reason = "none", f"memory limits need Linux; {format_size(memory)} is not enforced"
        else:
            self.cgroups, why = cgroup.choose(env, memory)
            if self.cgroups is not None:
                self.backend, self.reason = "cgroup", f"{self.cgroups.description}: {format_size(memory)}"
            else:
                self.backend = "rlimit"
                self.reason = f"{why}: RLIMIT_AS, {format_size(memory)} beyond the shared stack"

    def child_env(self, name: str) -> dict[str, str]:
        """Extra environment for the member (and so for the programs it starts)."""
        return {"MALLOC_ARENA_MAX": "1"} if self.backend == "rlimit" else {}

    def in_child(self, name: str) -> None:
        """In the forked member, before the gateway starts: its limits, and memguard armed."""
        if self.limits.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.limits.open_files, self.limits.open_files))
        if self.limits.memory_bytes is None:
            return
        memguard.arm(f"fleet member {name} (memory limit {format_size(self.limits.memory_bytes)}, {self.backend})")
        if self.backend == "rlimit":
            _one_arena()
            threading.stack_size(THREAD_STACK)
            ceiling = mapped_bytes() + self.limits.memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))

    def place(self, name: str, pid: int) -> None:
        """In the supervisor right after the fork: into the member's cgroup. A member that cannot be
        put there is stopped (and reported by `over_limit`), never left to run unlimited."""
        if self.cgroups is None:
            return
        try:
            self.cgroups.place(name, pid)
        except cgroup.CgroupError as exc:
            if _running(pid):
                self._unplaced[name] = str(exc)
                os.kill(pid, signal.SIGKILL)

    def over_limit(self, name: str, status: int) -> str | None:
        """Why a member that ended (raw waitpid status) ended at its limit, in one line; None otherwise."""
        memory = format_size(self.limits.memory_bytes or 0)
        kills = self.cgroups.oom_kills(name) if self.cgroups is not None else None  # read once per end
        if name in self._unplaced:
            return f"not started under its memory limit: {self._unplaced.pop(name)}"
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == OVER_LIMIT_EXIT and self.limits.memory_bytes:
            return f"ran out of memory at its limit ({memory}, {self.backend})"
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and kills:
            return f"killed by the kernel at its memory limit ({memory}, cgroup)"
        return None

    def release(self, name: str) -> None:
        """The member is gone for good: its cgroup goes too."""
        if self.cgroups is not None:
            self.cgroups.release(name)

    def close(self) -> None:
        if self.cgroups is not None:
            self.cgroups.close()


def mapped_bytes() -> int:
    """This process's address space now (VmSize)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _one_arena() -> None:
    """One malloc arena for every thread (glibc reserves 64 MiB of address space per arena). The
    environment variable is read at process start, which for a forked member was the supervisor's.
    It holds only in a child of a parent that never ran a thread (glibc fixes the arena count at
    the first thread's first allocation, and a parent thread's arena, inherited, would let the
    member grow inside address space already counted): the supervisor runs none."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)
    except (OSError, AttributeError):
        pass  # not glibc: no per-thread arenas to hold back


def _running(pid: int) -> bool:
    """Alive and not a zombie (one that died before it could be placed has its own reason)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


__all__ = ["OVER_LIMIT_EXIT", "Enforcer", "MemberLimits", "format_size", "mapped_bytes", "parse_size"]
