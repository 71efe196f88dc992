"""What no tool may see on this host, whichever instance it runs for.

Every instance's state dir (config with its token, credentials, sessions, logs; the workspaces
inside are given back one by one by the view), config files kept outside a state dir, the
host-wide registry of running gateways, the host's own credentials (password hashes, SSH host
keys) and the sockets of service managers that would run a command outside the fence for us
(systemd, D-Bus, container engines). Computed per tool call, so an instance started a moment ago
is covered too.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from openclaw.profiles.paths import InstancePaths, runtime_dir

SYSTEM_SECRETS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh/ssh_host_*_key")
SERVICE_SOCKETS = ("/run/user", "/run/dbus", "/run/systemd", "/run/docker.sock", "/run/docker",
                   "/run/containerd", "/run/podman", "/var/run/docker.sock", "/var/lib/docker")


@dataclass(frozen=True)
class Hidden:
    """Real paths of everything hidden (existing only; a mount needs something to cover)."""

    state_dirs: tuple[Path, ...]
    config_files: tuple[Path, ...]
    registry: tuple[Path, ...]
    system: tuple[Path, ...]
    home: Path

    @property
    def all(self) -> tuple[Path, ...]:
        return self.state_dirs + self.config_files + self.registry + self.system


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


def host_hidden(paths: InstancePaths) -> Hidden:
    """Blocking (reads the registry and lists home): call it off the event loop."""
    from openclaw.ports.instances import host_state_dirs
    from openclaw.ports.registry import running_gateways

    states = _existing([paths.state_dir, *host_state_dirs(paths)])
    configs = [paths.config_path] + [Path(r["configPath"]) for r in running_gateways()
                                     if isinstance(r.get("configPath"), str)]
    config_files = tuple(p for p in _existing(configs) if not _inside(p, states))
    system = [Path(p) for pattern in SYSTEM_SECRETS for p in sorted(glob.glob(pattern))]
    system += [Path(p) for p in SERVICE_SOCKETS]
    return Hidden(states, config_files, _existing([runtime_dir()]), _existing(system), _real(paths.home))


def is_state_dir_name(path: Path, home: Path) -> bool:
    """`~/.openclaw` or `~/.openclaw-NAME`, existing or not: where an instance's state would live."""
    return path.parent == home and (path.name == ".openclaw" or path.name.startswith(".openclaw-"))
