"""The platform-neutral description of one profile's gateway service.

Every platform's files are pure functions of this spec, so they can be
generated and checked on any OS.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw.profiles.names import launchd_label, service_description, systemd_unit, windows_task
from openclaw.profiles.paths import InstancePaths

SECRET_ENV = ("OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD")
PASSTHROUGH_ENV = ("TMPDIR", "OPENCLAW_RUNTIME_DIR", "OPENCLAW_HOME")
_PORT_RE = re.compile(r"--port[ =\"']+(\d{1,5})")


@dataclass(frozen=True)
class ServiceSpec:
    profile: str | None
    description: str
    program: tuple[str, ...]
    env: dict[str, str]
    secrets: dict[str, str]
    state_dir: Path
    config_path: Path
    home: Path
    port: int
    platform: str
    names: dict[str, str] = field(default_factory=dict)  # systemd / launchd / windows names
    host: Mapping[str, str] = field(default_factory=dict)  # the env it is managed from: unit dirs, account

    @property
    def systemd_unit(self) -> str:
        return self.names["systemd"]

    @property
    def launchd_label(self) -> str:
        return self.names["launchd"]

    @property
    def windows_task(self) -> str:
        return self.names["windows"]

    @property
    def log_name(self) -> str:
        return "gateway.log" if not self.profile else f"gateway-{self.profile}.log"


def program_args(port: int, python: str | None = None) -> tuple[str, ...]:
    """This installation's CLI, through the Python that installed it."""
    return (python or sys.executable, "-m", "openclaw", "gateway", "--port", str(port))


def _minimal_path(python: str, platform: str, env: Mapping[str, str]) -> str:
    if platform == "win32":
        return env.get("PATH", "")
    dirs = [os.path.dirname(python), "/usr/local/bin", "/usr/bin", "/bin"]
    if platform == "darwin":
        dirs = [os.path.dirname(python), "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin",
                "/usr/sbin", "/sbin"]
    return ":".join(dict.fromkeys(dirs))


def build_spec(paths: InstancePaths, port: int, platform: str, env: Mapping[str, str],
               python: str | None = None) -> ServiceSpec:
    python = python or sys.executable
    names = {
        "systemd": systemd_unit(paths.profile),
        "launchd": launchd_label(paths.profile),
        "windows": windows_task(paths.profile),
    }
    service_env = {
        "HOME": str(paths.home),
        "PATH": _minimal_path(python, platform, env),
        "OPENCLAW_PROFILE": paths.profile or "",
        "OPENCLAW_STATE_DIR": str(paths.state_dir),
        "OPENCLAW_CONFIG_PATH": str(paths.config_path),
        "OPENCLAW_GATEWAY_PORT": str(port),
        "OPENCLAW_SERVICE_MARKER": "openclaw",
        "OPENCLAW_SERVICE_KIND": "gateway",
    }
    service_env.update({k: env[k] for k in PASSTHROUGH_ENV if env.get(k)})
    identity = {"linux": ("OPENCLAW_SYSTEMD_UNIT", names["systemd"]),
                "darwin": ("OPENCLAW_LAUNCHD_LABEL", names["launchd"]),
                "win32": ("OPENCLAW_WINDOWS_TASK_NAME", names["windows"])}[platform]
    service_env[identity[0]] = identity[1]
    return ServiceSpec(
        profile=paths.profile,
        description=service_description(paths.profile),
        program=program_args(port, python),
        env={k: v for k, v in service_env.items() if v},
        secrets={k: env[k] for k in SECRET_ENV if env.get(k)},
        state_dir=paths.state_dir,
        config_path=paths.config_path,
        home=paths.home,
        port=port,
        platform=platform,
        names=names,
        host=env,
    )


def port_from_text(text: str) -> int | None:
    """The gateway port recorded in a service definition (`--port N`)."""
    match = _PORT_RE.search(text)
    return int(match.group(1)) if match else None


def check_value(key: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"{key} contains a line break; service files cannot carry it")
