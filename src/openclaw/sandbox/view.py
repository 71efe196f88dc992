"""The file system a tool sees, as a mount table: one description for bubblewrap's mounts, Landlock's
rules and the file tools' own walk, so the three cannot disagree.

Each `Mount` puts a host folder (or nothing, for what is hidden) at a path. The deepest mount that
contains a path decides how that path is seen. The fence: the host as it is, minus everything
`hidden`, with this agent's workspace and this instance's /tmp given back. The full sandbox: the
system read-only, homes and /tmp hidden, then the workspace (per `workspaceAccess`), extra binds
and a /tmp of the sandbox's own.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openclaw.sandbox.hidden import Hidden
from openclaw.sandbox.settings import SandboxSettings

Kind = Literal["bind", "hidden", "proc", "dev"]


@dataclass(frozen=True)
class Mount:
    target: Path
    kind: Kind
    source: Path | None = None  # the host folder or file, for binds
    writable: bool = False
    why: str = ""

    def host(self, path: Path) -> Path:
        """Where `path` (at or below this mount's target) lives on the host."""
        assert self.source is not None
        rest = path.relative_to(self.target)
        return self.source / rest if rest.parts else self.source


@dataclass(frozen=True)
class View:
    mounts: tuple[Mount, ...]  # parents before children
    workdir: Path
    tmp: Path  # the host folder behind this view's /tmp (also TMPDIR for its commands)
    home: Path
    sandboxed: bool
    network: bool
    hidden_ids: frozenset[tuple[int, int]]  # (st_dev, st_ino) of everything hidden

    def mount_for(self, path: Path) -> Mount:
        """The deepest mount at or above `path` (an absolute, normalised path)."""
        best = self.mounts[0]
        for mount in self.mounts:
            if (path == mount.target or mount.target in path.parents) and \
                    len(mount.target.parts) >= len(best.target.parts):
                best = mount
        return best


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def _ids(paths: tuple[Path, ...]) -> frozenset[tuple[int, int]]:
    out = set()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return frozenset(out)


def scope_slug(settings: SandboxSettings, agent_id: str, session_key: str) -> str:
    """A folder name per sandbox scope: one per agent, per session, or one for all."""
    if settings.scope == "shared":
        return "shared"
    if settings.scope == "session":
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", session_key)[:48]
        return f"session-{safe}-{hashlib.sha256(session_key.encode()).hexdigest()[:8]}"
    return f"agent-{re.sub(r'[^A-Za-z0-9._-]+', '-', agent_id)[:64]}"


def sandbox_root(settings: SandboxSettings, state_dir: Path, home: Path) -> Path:
    """`workspaceRoot` (upstream's default `<state>/sandboxes`)."""
    if settings.workspace_root:
        raw = settings.workspace_root
        return Path(os.path.abspath(str(home) + raw[1:] if raw.startswith("~") else raw))
    return state_dir / "sandboxes"


def _hidden_mounts(hidden: Hidden) -> list[Mount]:
    whys = ((hidden.state_dirs, "an instance's state dir"), (hidden.config_files, "an instance's config"),
            (hidden.workspaces, "another instance's workspace"), (hidden.registry, "the registry of running gateways"),
            (hidden.system, "host credentials or a service manager's socket"))
    return [Mount(path, "hidden", why=why) for paths, why in whys for path in paths]


def build_view(settings: SandboxSettings, hidden: Hidden, state_dir: Path, workspace: Path, sandboxed: bool,
               agent_id: str, session_key: str, remap: bool, readable: tuple[Path, ...] = ()) -> View:
    """The view for one tool call. `remap` is False for backends that cannot show a host folder at
    another path (Landlock): then /tmp stays the host's and TMPDIR points at the instance's own.
    `readable` folders (the run's skills, an MCP server's program) are given back read-only where
    the view would not show them, unless they lie in what another instance owns."""
    workspace = _real(workspace)
    root = sandbox_root(settings, state_dir, hidden.home)
    slug = scope_slug(settings, agent_id, session_key)
    tmp = root / slug / "tmp" if sandboxed else root / "tmp"
    mounts = [Mount(Path("/"), "bind", Path("/"), not sandboxed, "the system" + (", read-only" if sandboxed else "")),
              Mount(Path("/proc"), "proc", why="this sandbox's processes only"),
              Mount(Path("/dev"), "dev", why="null, zero, random, tty")]
    if sandboxed:
        mounts += [Mount(p, "hidden", why="homes are not part of the sandbox")
                   for p in _existing_dirs(Path("/home"), Path("/root"), hidden.home)]
        mounts += [Mount(p, "hidden", why="the host's temporary files") for p in _existing_dirs(Path("/var/tmp"))]
    if remap:
        mounts.append(Mount(Path("/tmp"), "bind", tmp, True,
                            f"this {'sandbox' if sandboxed else 'instance'}'s own /tmp"))
    else:
        if sandboxed:
            mounts.append(Mount(Path("/tmp"), "hidden", why="the host's temporary files"))
        mounts.append(Mount(tmp, "bind", tmp, True, "TMPDIR for commands"))
    if sandboxed and settings.workspace_access == "none":
        workdir = root / slug / "workspace"
        mounts.append(Mount(workdir, "bind", workdir, True, "the sandbox's own workspace"))
    else:
        workdir = workspace
        access = settings.workspace_access if sandboxed else "rw"
        mounts.append(Mount(workspace, "bind", workspace, access == "rw", f"the agent's workspace ({access})"))
    if sandboxed:
        for bind in settings.binds:  # without remapping, a bind is seen at its own path
            source = _real(os.path.expanduser(bind.source))
            target = Path(os.path.normpath(bind.target)) if remap else source
            mode = "rw" if bind.writable else "ro"
            mounts.append(Mount(target, "bind", source, bind.writable, f"extra bind ({mode})"))
    mounts = _dedupe(mounts)
    given = [m.target for m in mounts if m.kind == "bind" and m.target != Path("/")]
    mounts += [m for m in _hidden_mounts(hidden) if _visible(m.target, mounts) and m.target not in given]
    mounts += _readable_mounts(readable, mounts, hidden, _real(state_dir))
    ordered = sorted(_dedupe(mounts), key=lambda m: len(m.target.parts))
    return View(tuple(ordered), workdir, tmp, hidden.home, sandboxed, settings.network or not sandboxed,
                _ids(hidden.all))


def _readable_mounts(folders: tuple[Path, ...], mounts: list[Mount], hidden: Hidden, own_state: Path) -> list[Mount]:
    """Read-only binds at their own paths for the folders the view would not show; never one inside
    what another instance owns (its state dir, config, workspace) or the host's secrets."""
    foreign = [p for p in hidden.all if p != own_state]
    out: list[Mount] = []
    for folder in dict.fromkeys(_real(f) for f in folders):
        if any(folder == p or p in folder.parents for p in foreign) or not folder.is_dir():
            continue
        if not _visible(folder, mounts + out):
            out.append(Mount(folder, "bind", folder, False, "read-only: a skill's folder or an MCP server's program"))
    return out


def _visible(path: Path, mounts: list[Mount]) -> bool:
    """Whether the host's `path` shows at the same path through `mounts` (then it must be covered)."""
    above = [m for m in mounts if m.target == path or m.target in path.parents]
    deepest = max(above, key=lambda m: len(m.target.parts))
    return deepest.kind == "bind" and deepest.host(path) == path


def _dedupe(mounts: list[Mount]) -> list[Mount]:
    """One mount per target: the last definition wins."""
    last: dict[Path, Mount] = {}
    for mount in mounts:
        last.pop(mount.target, None)
        last[mount.target] = mount
    return list(last.values())


def _existing_dirs(*paths: Path) -> list[Path]:
    return [_real(p) for p in paths if p.is_dir()]


def bind_problems(settings: SandboxSettings, hidden: Hidden) -> list[str]:
    """Binds that would show something hidden (a state dir inside a bound folder, or one of them)."""
    problems = []
    for bind in settings.binds:
        source = _real(os.path.expanduser(bind.source))
        for path in hidden.all:
            if path == source or path in source.parents or source in path.parents:
                problems.append(f"bind {bind} would expose {path}; bind a folder outside every instance's state dir")
                break
    return problems
