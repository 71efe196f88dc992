"""What no tool may see on this host, whichever instance it runs for.

Every instance's state dir (config with its token, credentials, sessions, logs; the workspaces
inside are given back one by one by the view), config files kept outside a state dir, the other
instances' workspaces wherever their configs put them (their prompt files steer their agents), the
host-wide registry of running gateways, the host's own credentials (password hashes, SSH host
keys) and the sockets of service managers that would run a command outside the fence for us
(systemd, D-Bus, container engines). Computed per tool call, so an instance started a moment ago
is covered too.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.profiles.paths import InstancePaths, runtime_dir

SYSTEM_SECRETS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh/ssh_host_*_key")
SERVICE_SOCKETS = ("/run/user", "/run/dbus", "/run/systemd", "/run/docker.sock", "/run/docker",
                   "/run/containerd", "/run/podman", "/var/run/docker.sock", "/var/lib/docker")


@dataclass(frozen=True)
class Hidden:
    """Real paths of everything hidden (existing only; a mount needs something to cover)."""

    state_dirs: tuple[Path, ...]
    config_files: tuple[Path, ...]
    workspaces: tuple[Path, ...]  # other instances'
    registry: tuple[Path, ...]
    system: tuple[Path, ...]
    home: Path

    @property
    def all(self) -> tuple[Path, ...]:
        return self.state_dirs + self.config_files + self.workspaces + self.registry + self.system


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def _existing(paths: list[Path]) -> tuple[Path, ...]:
    out: dict[Path, None] = {}
    for path in paths:
        if os.path.lexists(path):
            out.setdefault(_real(path), None)
    return tuple(out)


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def host_hidden(paths: InstancePaths, env: Mapping[str, str]) -> Hidden:
    """Blocking (reads the registry and lists home): call it off the event loop."""
    from openclaw.ports.instances import host_state_dirs
    from openclaw.ports.registry import running_gateways

    states = _existing([paths.state_dir, *host_state_dirs(paths)])
    records = running_gateways()
    configs = [paths.config_path] + [Path(r["configPath"]) for r in records if isinstance(r.get("configPath"), str)]
    config_files = _existing(configs)
    others = {c: s for c, s in _config_owners(paths, states, records).items() if c != _real(paths.config_path)}
    workspaces = _existing([w for config, state in others.items() for w in _workspaces_of(config, state, paths, env)])
    system = [Path(p) for pattern in SYSTEM_SECRETS for p in sorted(glob.glob(pattern))]
    system += [Path(p) for p in SERVICE_SOCKETS]
    return Hidden(states, tuple(p for p in config_files if not _inside(p, states)),
                  tuple(w for w in workspaces if not _inside(w, states)), _existing([runtime_dir()]),
                  _existing(system), _real(paths.home))


def _config_owners(paths: InstancePaths, states: tuple[Path, ...], records: list[dict[str, Any]]) -> dict[Path, Path]:
    """Every instance's config file -> its state dir."""
    owners = {_real(state / "openclaw.json"): state for state in states}
    for record in records:
        if isinstance(record.get("configPath"), str) and isinstance(record.get("stateDir"), str):
            owners[_real(record["configPath"])] = _real(record["stateDir"])
    return owners


def _workspaces_of(config: Path, state: Path, paths: InstancePaths, env: Mapping[str, str]) -> list[Path]:
    """Where another instance's agents keep their workspaces (cached on the config's mtime)."""
    try:
        stamp = os.stat(config).st_mtime_ns
    except OSError:
        return []
    cached = _WORKSPACES.get(config)
    if cached is None or cached[0] != stamp:
        cached = (stamp, _read_workspaces(config, state, paths, env))
        _WORKSPACES[config] = cached
        while len(_WORKSPACES) > 256:
            _WORKSPACES.pop(next(iter(_WORKSPACES)))
    return cached[1]


_WORKSPACES: dict[Path, tuple[int, list[Path]]] = {}


def _read_workspaces(config: Path, state: Path, paths: InstancePaths, base_env: Mapping[str, str]) -> list[Path]:
    from openclaw.agents.workspace import agent_workspace
    from openclaw.config.store import read_config
    from openclaw.profiles.paths import paths_for_state_dir

    view = read_config(config, base_env, validate=False).view()
    owner = paths_for_state_dir(state, paths.home)
    env = {**base_env, "HOME": str(paths.home)}
    env.pop("OPENCLAW_WORKSPACE_DIR", None)  # this process's own setting says nothing of theirs
    return [agent_workspace(view, owner, env, agent.id) for agent in view.agents]


def is_state_dir_name(path: Path, home: Path) -> bool:
    """`~/.openclaw` or `~/.openclaw-NAME`, existing or not: where an instance's state would live."""
    return path.parent == home and (path.name == ".openclaw" or path.name.startswith(".openclaw-"))
