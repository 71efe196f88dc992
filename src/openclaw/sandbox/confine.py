"""One tool call's confinement: the policy, the mechanism, the view, and the environment its
commands get. Built per call off the event loop (it reads the registry and probes the host once).

Commands never get the gateway's own secrets in their environment: its token and password, the
values its config holds or references as secrets, the providers' and channels' keys, and the
`OPENCLAW_*` selectors that would point a nested `openclaw` at this instance.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.config.redact import is_secret_key
from openclaw.config.secret_env import CHANNEL_SECRET_ENV, OTHER_PROVIDER_KEYS
from openclaw.config.view import Config
from openclaw.models.catalog import BUILTIN, env_key_name
from openclaw.profiles.paths import InstancePaths
from openclaw.sandbox import bwrap
from openclaw.sandbox.backend import Backend, detect
from openclaw.sandbox.hidden import host_hidden
from openclaw.sandbox.settings import SandboxSettings, sandbox_settings
from openclaw.sandbox.view import View, bind_problems, build_view, sandbox_root

KNOWN_SECRET_ENV = frozenset(CHANNEL_SECRET_ENV | set(OTHER_PROVIDER_KEYS) | {env_key_name(p) for p in BUILTIN})
LAUNCHER = Path(__file__).with_name("landlock.py")


class Refused(Exception):
    """The call may not run here (no mechanism to fence it, or a read-only workspace)."""


@dataclass(frozen=True)
class Confinement:
    settings: SandboxSettings
    backend: Backend
    view: View
    env: dict[str, str]
    agent_id: str
    session_key: str

    @property
    def fenced(self) -> bool:
        """Commands run inside the fence (or the sandbox); False only with `fence: false` and no sandbox."""
        return self.settings.fence or self.view.sandboxed

    def require(self, what: str) -> None:
        """Refuse `what` (exec, a file change) when it should be fenced and nothing can fence it."""
        if self.fenced and not self.backend.available:
            raise Refused(self.backend.unavailable_message(what))

    def command(self, argv: list[str]) -> list[str]:
        """The command line that runs `argv` confined (as it is, when unfenced)."""
        self.require("exec")
        if not self.fenced:
            return argv
        if self.backend.name == "bubblewrap":
            assert self.backend.bwrap is not None
            return bwrap.argv(self.backend.bwrap, self.view, argv)
        import json

        from openclaw.sandbox.lockrules import rules

        spec = {"abi": self.backend.landlock_abi, "network": self.view.network,
                "rules": rules(self.view, self.backend.landlock_abi)}
        return [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec, separators=(",", ":")), "--", *argv]


def secret_values(config: Any, key: str = "") -> tuple[set[str], set[str]]:
    """(secret strings the config holds, env names it takes secrets from)."""
    values: set[str] = set()
    names: set[str] = set()
    if isinstance(config, Mapping):
        if config.get("source") == "env" and isinstance(config.get("id"), str):
            names.add(config["id"])
        for k, v in config.items():
            if isinstance(v, str) and v and is_secret_key(str(k)):
                values.add(v)
            else:
                more_values, more_names = secret_values(v, str(k))
                values |= more_values
                names |= more_names
    elif isinstance(config, list):
        for item in config:
            more_values, more_names = secret_values(item, key)
            values |= more_values
            names |= more_names
    return values, names


def tool_env(base: Mapping[str, str], config: Config, tmp: str | None) -> dict[str, str]:
    values, names = secret_values(config.raw)
    names |= {env_key_name(pid) for pid in config.providers}  # where a configured provider's key may come from
    env = {k: v for k, v in base.items()
           if not k.startswith("OPENCLAW_") and k not in KNOWN_SECRET_ENV and k not in names and v not in values}
    if tmp:
        env["TMPDIR"] = tmp
    return env


def confinement(paths: InstancePaths, config: Config, base_env: Mapping[str, str], agent_id: str,
                session_key: str, workspace: Path, prepare: bool = False,
                readable: tuple[Path, ...] = ()) -> Confinement:
    """Blocking: call it off the event loop. `prepare` makes the folders a call needs (its /tmp,
    the sandbox's own workspace); `readable` are folders given back read-only (the run's skills)."""
    settings = sandbox_settings(config, agent_id)
    backend = detect(base_env)
    hidden = host_hidden(paths, base_env)
    problems = bind_problems(settings, hidden)
    root = sandbox_root(settings, paths.state_dir, hidden.home)
    if settings.workspace_root and _outside_own(root, paths.state_dir, hidden):
        note = (f"workspaceRoot {settings.workspace_root} lies in another instance's state dir; "
                f"{paths.state_dir / 'sandboxes'} is used instead")
        settings = SandboxSettings(**{**settings.__dict__, "workspace_root": None, "notes": (*settings.notes, note)})
    if problems:
        settings = SandboxSettings(**{**settings.__dict__, "binds": tuple(
            b for b in settings.binds if not any(str(b) in p for p in problems)), "notes": settings.notes + tuple(
            f"{p}; left out" for p in problems)})
    sandboxed = settings.applies_to(agent_id, session_key)
    fenced = settings.fence or sandboxed
    view = build_view(settings, hidden, paths.state_dir, workspace, sandboxed, agent_id, session_key,
                      remap=backend.remaps and fenced, readable=readable)
    for folder in (view.tmp, view.workdir) if prepare else ():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = None if not fenced else "/tmp" if backend.remaps else str(view.tmp)
    return Confinement(settings, backend, view, tool_env(base_env, config, tmp), agent_id, session_key)


def _outside_own(root: Path, own_state: Path, hidden: Any) -> bool:
    """True when `root` is inside something hidden that is not this instance's own state dir."""
    real, own = Path(os.path.realpath(root)), Path(os.path.realpath(own_state))
    return any((real == h or h in real.parents) and h != own for h in hidden.all)


class ToolSandbox:
    """What the file tools and `exec` ask for their confinement, per call."""

    def __init__(self, paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str]) -> None:
        self.paths = paths
        self.config = config
        self.env = env
        self._guarded = False

    async def confine(self, agent_id: str, session_key: str, workspace: Path,
                      readable: tuple[Path, ...] = ()) -> Confinement:
        import asyncio

        if not self._guarded:  # the gateway does this at start; a runtime outside one (agent --local) here
            from openclaw.procutil import forbid_inspection

            self._guarded = True
            await asyncio.to_thread(forbid_inspection)
        return await asyncio.to_thread(confinement, self.paths, self.config(), dict(self.env), agent_id,
                                       session_key, workspace, True, readable)
