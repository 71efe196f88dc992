"""What every service manager (systemd, launchd, Task Scheduler) shares: the command runner,
the status record and the errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.services.spec import ServiceSpec

COMMAND_TIMEOUT_S = 30


class ServiceError(OpenClawError):
    """A service-manager operation failed (exit 1)."""

    def __init__(self, message: str, hints: list[str] | None = None) -> None:
        super().__init__(message)
        self.hints = hints or []


class NoServiceManager(ServiceError):
    """No service manager is running here (containers, CI, headless sessions)."""


def service_platform(env: Mapping[str, str]) -> str:
    """`linux`, `darwin` or `win32`; OPENCLAW_SERVICE_PLATFORM overrides (tests, cross-generation)."""
    value = env.get("OPENCLAW_SERVICE_PLATFORM") or sys.platform
    if value.startswith("linux"):
        return "linux"
    if value in ("darwin", "win32"):
        return value
    raise ServiceError(f"no managed service support for platform {value!r}")


def run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a service-manager command; failures become one-line ServiceErrors."""
    if shutil.which(cmd[0]) is None:
        raise NoServiceManager(f"{cmd[0]} not found")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ServiceError(f"`{' '.join(cmd)}` timed out after {COMMAND_TIMEOUT_S}s") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        last = detail[-1] if detail else "no output"
        raise ServiceError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {last}")
    return proc


@dataclass
class ServiceStatus:
    manager: str  # "systemd user" | "LaunchAgent" | "Scheduled Task"
    name: str
    file: Path
    installed: bool
    enabled: bool = False
    active: bool = False
    state: str = "unknown"
    pid: int | None = None
    installed_port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loaded_text(self) -> str:
        return {"systemd user": "enabled", "LaunchAgent": "loaded", "Scheduled Task": "registered"}[self.manager]

    @property
    def not_loaded_text(self) -> str:
        return {"systemd user": "disabled", "LaunchAgent": "not loaded", "Scheduled Task": "missing"}[self.manager]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.manager, "name": self.name, "file": str(self.file), "installed": self.installed,
            "loaded": self.enabled, "loadedText": self.loaded_text, "notLoadedText": self.not_loaded_text,
            "active": self.active, "state": self.state, "pid": self.pid, "installedPort": self.installed_port,
            **self.extra,
        }


class ServiceManager:
    """One platform's service manager. Subclasses render files and drive the manager's CLI."""

    label = ""

    def name_for(self, spec: ServiceSpec) -> str:
        raise NotImplementedError

    def file_for(self, spec: ServiceSpec) -> Path:
        raise NotImplementedError

    def check_available(self) -> None:
        """Raise NoServiceManager with a plain reason when there is nothing to talk to."""
        raise NotImplementedError

    def conflicts(self, spec: ServiceSpec) -> list[str]:
        """Reasons installing would fight another definition (e.g. a system-level unit)."""
        return []

    def owned_files(self, spec: ServiceSpec) -> list[Path]:
        """Every file this manager writes for the service (definition first)."""
        raise NotImplementedError

    def write_files(self, spec: ServiceSpec) -> list[Path]:
        raise NotImplementedError

    def remove_files(self, spec: ServiceSpec) -> list[Path]:
        removed = []
        for path in self.owned_files(spec):
            if path.exists():
                path.unlink()
                removed.append(path)
        return removed

    def reload_definitions(self) -> None:
        """Tell the manager its definitions changed (systemd daemon-reload); a no-op elsewhere."""

    def activate(self, spec: ServiceSpec) -> None:
        raise NotImplementedError

    def deactivate(self, spec: ServiceSpec) -> None:
        raise NotImplementedError

    def start(self, spec: ServiceSpec) -> None:
        raise NotImplementedError

    def stop(self, spec: ServiceSpec) -> None:
        raise NotImplementedError

    def restart(self, spec: ServiceSpec) -> None:
        raise NotImplementedError

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        raise NotImplementedError

    def _file_status(self, spec: ServiceSpec) -> ServiceStatus:
        """What the definition file alone says: installed, and with which port."""
        path = self.file_for(spec)
        status = ServiceStatus(self.label, self.name_for(spec), path, path.exists())
        if status.installed:
            status.installed_port = self.installed_port(path)
        return status

    def installed_port(self, path: Path) -> int | None:
        """The `--port` recorded in an installed definition."""
        from openclaw.services.spec import port_from_text

        try:
            return port_from_text(path.read_text(encoding=self.file_encoding))
        except (OSError, UnicodeDecodeError):
            return None

    file_encoding = "utf-8"
