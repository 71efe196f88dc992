"""Members' memory limits in cgroup v2: the kernel holds each member (and every process it starts)
to `memory.max` and kills it there, instead of the host running out.

Two ways in, chosen once by `choose()`:
- the user's systemd (`busctl --user`): a transient slice per member with MemoryMax, and each
  forked member moved into a scope of that slice. The slice outlives the member's restarts, so
  its `memory.events` still holds the `oom_kill` count after the member is gone.
- `OPENCLAW_FLEET_CGROUP=DIR`: a cgroup v2 directory this user may write (delegated to it, holding
  no processes itself): a child directory per member with `memory.max`, the member's pid written
  to its `cgroup.procs`.
`OPENCLAW_FLEET_CGROUP=off` skips both (the caller falls back to RLIMIT_AS). Either way swap is
closed to the member (`memory.swap.max` 0) and an OOM kill takes the member's whole cgroup
(`memory.oom.group`, in DIR mode), so no half of a member lives on.

The supervisor calls these right after each fork; every bus call has a short timeout, so a
stuck bus slows one start by seconds at worst, never hangs the fleet.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

CGROUP_ENV = "OPENCLAW_FLEET_CGROUP"
BUS_TIMEOUT_S = 2
_SAFE_UNIT = re.compile(r"[A-Za-z0-9:_.]")


class CgroupError(Exception):
    """This way of limiting memory is not available, or one step of it failed (the one line why)."""


class Cgroups(Protocol):
    description: str  # one line: where members' cgroups are made

    def place(self, name: str, pid: int) -> None: ...

    def oom_kills(self, name: str) -> int | None: ...

    def release(self, name: str) -> None: ...

    def close(self) -> None: ...


def choose(env: Mapping[str, str], memory_bytes: int) -> tuple[Cgroups | None, str]:
    """The cgroup way to hold members to `memory_bytes`, or None and why not (one line)."""
    asked = (env.get(CGROUP_ENV) or "").strip()
    if asked.lower() == "off":
        return None, f"{CGROUP_ENV}=off"
    try:
        if asked:
            return CgroupDir(Path(asked), memory_bytes), ""
        return SystemdSlices(env, memory_bytes), ""
    except CgroupError as exc:
        return None, str(exc)


def unified_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on a hybrid host)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(" - ", 1)
        if len(fields) == 2 and fields[1].split(" ", 1)[0] == "cgroup2":
            return Path(fields[0].split(" ")[4])
    return None


def controllers(directory: Path) -> set[str]:
    try:
        return set((directory / "cgroup.controllers").read_text().split())
    except OSError:
        return set()


def _events(directory: Path) -> dict[str, int]:
    """memory.events of `directory` as numbers (empty when unreadable)."""
    try:
        text = (directory / "memory.events").read_text()
    except OSError:
        return {}
    pairs = (line.split() for line in text.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def _write(path: Path, value: str, optional: bool = False) -> None:
    """One value into a cgroup file; `optional` files may be absent (no swap accounting, older kernels)."""
    try:
        path.write_text(value)
    except FileNotFoundError:
        if not optional:
            raise CgroupError(f"{path} is missing (is {path.parent} a cgroup v2 directory?)") from None
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror or exc}") from None


class CgroupDir:
    """A delegated cgroup v2 directory: one child directory per member."""

    def __init__(self, root: Path, memory_bytes: int) -> None:
        where = f"{CGROUP_ENV}={root}"
        if not (root / "cgroup.procs").is_file():
            raise CgroupError(f"{where} is not a cgroup v2 directory")
        if "memory" not in controllers(root):
            offered = " ".join(sorted(controllers(root))) or "none"
            raise CgroupError(f"{where} has no memory controller (it offers: {offered})")
        if not os.access(root, os.W_OK):
            raise CgroupError(f"{where} is not writable by this user")
        try:
            enabled = "memory" in (root / "cgroup.subtree_control").read_text().split()
            if not enabled:
                (root / "cgroup.subtree_control").write_text("+memory")
        except OSError as exc:
            why = "it holds processes itself" if exc.errno == errno.EBUSY else (exc.strerror or str(exc))
            raise CgroupError(f"{where}: cannot give its children the memory controller ({why})") from None
        self.root = root
        self.memory_bytes = memory_bytes
        self.description = f"{where}, memory.max per member"
        self._seen: dict[str, int] = {}  # member -> oom_kill count last seen
        self._left: set[Path] = set()  # released, not yet removed (its processes were still leaving)

    def path(self, name: str) -> Path:
        return self.root / ("openclaw-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in name))

    def place(self, name: str, pid: int) -> None:
        directory = self.path(name)
        if name not in self._seen:
            try:
                directory.mkdir(exist_ok=True)
            except OSError as exc:
                raise CgroupError(f"cannot make {directory}: {exc.strerror or exc}") from None
            _write(directory / "memory.max", str(self.memory_bytes))
            _write(directory / "memory.swap.max", "0", optional=True)
            _write(directory / "memory.oom.group", "1", optional=True)
            self._seen[name] = _events(directory).get("oom_kill", 0)
            self._left.discard(directory)
        _write(directory / "cgroup.procs", str(pid))

    def oom_kills(self, name: str) -> int | None:
        """How many OOM kills the member's cgroup saw since the last call (None: not ours)."""
        if name not in self._seen:
            return None
        now = _events(self.path(name)).get("oom_kill", 0)
        risen, self._seen[name] = now - self._seen[name], now
        return risen

    def release(self, name: str) -> None:
        if self._seen.pop(name, None) is None:
            return
        directory = self.path(name)
        if (directory / "cgroup.kill").exists():  # whatever the member left behind goes with it
            with contextlib.suppress(OSError):
                (directory / "cgroup.kill").write_text("1")
        try:
            directory.rmdir()
        except OSError:
            self._left.add(directory)  # processes still leaving: close() tries again

    def close(self) -> None:
        for name in list(self._seen):
            self.release(name)
        for directory in self._left:  # only ours: another fleet may share the directory
            with contextlib.suppress(OSError):
                directory.rmdir()
        self._left.clear()


def unit_escape(name: str) -> str:
    """A member name as one part of a unit name (a '-' in a slice name would nest it)."""
    return "".join(c if _SAFE_UNIT.fullmatch(c) else "".join(f"\\x{b:02x}" for b in c.encode()) for c in name)


class SystemdSlices:
    """The user's systemd, through `busctl --user`: a slice per member, a scope per forked process."""

    def __init__(self, env: Mapping[str, str], memory_bytes: int) -> None:
        self.busctl = shutil.which("busctl", path=env.get("PATH"))
        if self.busctl is None:
            raise CgroupError("no busctl on PATH (no systemd)")
        runtime = env.get("XDG_RUNTIME_DIR")
        if not env.get("DBUS_SESSION_BUS_ADDRESS") and not (runtime and Path(runtime, "bus").exists()):
            raise CgroupError("no user systemd bus (no DBUS_SESSION_BUS_ADDRESS, no $XDG_RUNTIME_DIR/bus)")
        self.env = dict(env)
        mount = unified_mount()
        if mount is None:
            raise CgroupError("no cgroup v2 hierarchy mounted")
        self.mount = mount
        manager = self._property("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "ControlGroup")
        if "memory" not in controllers(mount / manager.lstrip("/")):
            raise CgroupError(f"the user's systemd has no memory controller delegated ({manager})")
        self.memory_bytes = memory_bytes
        self.manager_group = mount / manager.lstrip("/")  # a top-level slice's cgroup is right under it
        self.description = f"user systemd, a slice per member with MemoryMax ({manager})"
        self._tag = f"openclaw_fleet_{os.getpid()}"
        self._made = 0
        self._slices: dict[str, str] = {}  # member -> its slice (a new one after a release)
        self._seen: dict[str, int] = {}

    def _bus(self, what: str, *args: str) -> str:
        argv = [str(self.busctl), "--user", f"--timeout={BUS_TIMEOUT_S}", *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=BUS_TIMEOUT_S + 1,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CgroupError(f"busctl --user ({what}): {exc}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise CgroupError(f"the user's systemd refused {what}: {last}")
        return done.stdout.strip()

    def _manager(self, method: str, signature: str, *args: str) -> str:
        return self._bus(f"{method} {args[0]}", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", method, signature, *args)

    def _property(self, path: str, interface: str, name: str) -> str:
        out = self._bus(f"reading {name}", "get-property", "org.freedesktop.systemd1", path, interface, name)
        return shlex.split(out)[1]  # 's "/user.slice/..."'

    def place(self, name: str, pid: int) -> None:
        unit = self._slices.get(name)
        if unit is None:
            self._made += 1
            unit = f"{self._tag}_{self._made}_{unit_escape(name)}.slice"  # no '-': not nested in another
            self._manager("StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail", "3",
                          "Description", "s", f"openclaw fleet member {name}",
                          "MemoryMax", "t", str(self.memory_bytes), "MemorySwapMax", "t", "0", "0")
            self._slices[name] = unit
            self._seen[name] = 0
        scope = f"{unit.removesuffix('.slice')}_{pid}.scope"
        self._manager("StartTransientUnit", "ssa(sv)a(sa(sv))", scope, "fail", "3",
                      "PIDs", "au", "1", str(pid), "Slice", "s", unit, "CollectMode", "s", "inactive-or-failed", "0")

    def oom_kills(self, name: str) -> int | None:
        """OOM kills in the member's slice since the last call (memory.events counts its scopes' too)."""
        unit = self._slices.get(name)
        if unit is None:
            return None
        now = _events(self.manager_group / unit).get("oom_kill", 0)
        risen, self._seen[name] = now - self._seen[name], now
        return risen

    def release(self, name: str) -> None:
        unit = self._slices.pop(name, None)
        self._seen.pop(name, None)
        if unit is None:
            return
        with contextlib.suppress(CgroupError):  # gone already
            self._manager("StopUnit", "ss", unit, "replace")  # stops its scopes: nothing of the member stays

    def close(self) -> None:
        for name in list(self._slices):
            self.release(name)


__all__ = ["CGROUP_ENV", "CgroupDir", "CgroupError", "Cgroups", "SystemdSlices", "choose", "controllers",
           "unified_mount", "unit_escape"]
