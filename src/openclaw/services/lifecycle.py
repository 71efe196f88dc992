"""Installing and driving a profile's gateway service: the library behind `openclaw gateway
install|uninstall|start|stop|restart` (and, later, the rescue bot).

Every operation first checks that a service manager is running, so where
there is none (containers, CI) nothing is written.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.store import format_issues, read_config, update_config
from openclaw.errors import ConfigError, OpenClawError
from openclaw.ports.footprint import footprint_for, resolve_base_port
from openclaw.profiles.paths import InstancePaths
from openclaw.services.base import (
    NoServiceManager,
    ServiceError,
    ServiceManager,
    ServiceStatus,
    service_platform,
)
from openclaw.services.spec import ServiceSpec, build_spec
from openclaw.timestamps import utc_iso

HEALTH_WAIT_S = 15.0


def manager_for(platform: str) -> ServiceManager:
    if platform == "linux":
        from openclaw.services.systemd import SystemdManager

        return SystemdManager()
    if platform == "darwin":
        from openclaw.services.launchd import LaunchdManager

        return LaunchdManager()
    from openclaw.services.schtasks import SchtasksManager

    return SchtasksManager()


@dataclass
class ServiceResult:
    action: str
    result: str
    status: ServiceStatus | None
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "ok": True, "result": self.result,
                "service": self.status.as_dict() if self.status else None, "warnings": self.warnings}


def require_profile_paths(paths: InstancePaths) -> None:
    """Services belong to profiles; a hand-isolated state dir cannot adopt one."""
    if paths.custom_state or paths.config_path != paths.state_dir / "openclaw.json":
        raise ServiceError(
            f"service management needs a profile: this shell uses a custom state dir or config "
            f"({paths.state_dir}); use `openclaw --profile NAME gateway install` (or run it in the foreground)"
        )


def _config_port(paths: InstancePaths, env: Mapping[str, str]) -> int:
    snap = read_config(paths.config_path, env, validate=False)
    return resolve_base_port(None, snap.view(), paths.profile, env={})[0]


def _context(paths: InstancePaths, port: int | None, env: Mapping[str, str]) -> tuple[ServiceManager, ServiceSpec]:
    require_profile_paths(paths)
    platform = service_platform(env)
    manager = manager_for(platform)
    try:
        manager.check_available()
    except NoServiceManager as exc:
        raise NoServiceManager(f"{exc}; run the gateway in the foreground instead: "
                               f"{paths.cli} gateway") from None
    if port is None:
        recorded = manager.installed_port(manager.file_for(build_spec(paths, 0, platform, env)))
        port = recorded or _config_port(paths, env)
    return manager, build_spec(paths, port, platform, env)


def _audit(paths: InstancePaths, action: str) -> None:
    """Lifecycle actions are appended to `<state>/logs/gateway-restart.log`."""
    logs = paths.logs_dir
    logs.mkdir(parents=True, exist_ok=True)
    stamp = utc_iso(timespec="seconds")
    with (logs / "gateway-restart.log").open("a", encoding="utf-8") as fh:
        fh.write(f"[{stamp}] openclaw gateway lifecycle source=cli action={action} pid={os.getpid()}\n")


def _prepare_config(paths: InstancePaths, port: int, warnings: list[str], env: Mapping[str, str]) -> None:
    """Record the service's port in the config and make sure token auth has a token."""
    snap = read_config(paths.config_path, env)
    if snap.issues:
        raise ConfigError(format_issues(paths.config_path, snap.issues)
                          + "\nFix the config first: a service would only restart-loop on it (exit 78).")

    def mutate(data: dict[str, Any]) -> None:
        gateway = data.setdefault("gateway", {})
        gateway.setdefault("mode", "local")
        gateway["port"] = port
        auth = gateway.setdefault("auth", {})
        if (auth.get("mode") in (None, "token") and not auth.get("token")
                and not env.get("OPENCLAW_GATEWAY_TOKEN")):
            auth["token"] = secrets.token_hex(24)
            warnings.append("No gateway token found. Generated one and saved it to the config.")

    update_config(paths.config_path, mutate, env)


def install(paths: InstancePaths, env: Mapping[str, str], port: int | None = None,
            force: bool = False) -> ServiceResult:
    manager, spec = _context(paths, port if port is not None else _config_port(paths, env), env)
    current = manager.status(spec)
    if current.installed and current.enabled and not force:
        return ServiceResult("install", "already-installed", current, [
            f"Gateway service already {current.loaded_text}.",
            f"Reinstall with: {paths.cli} gateway install --force",
        ])
    conflicts = manager.conflicts(spec)
    if conflicts:
        raise ServiceError(
            f"a system-level service with the same name exists ({conflicts[0]}); two managers would fight over "
            "one gateway. Remove it or keep managing it by hand"
        )
    if port is not None:
        from openclaw.ports.instances import other_instances
        from openclaw.ports.planner import check_explicit_port

        check_explicit_port(port, footprint_for(port), other_instances(paths, env), force)
    warnings: list[str] = []
    _prepare_config(paths, spec.port, warnings, env)
    snapshot = {p: (p.read_bytes() if p.exists() else None) for p in manager.owned_files(spec)}
    manager.write_files(spec)
    try:
        manager.activate(spec)
    except ServiceError:
        _restore(snapshot)
        raise
    _audit(paths, "install")
    status = manager.status(spec)
    return ServiceResult("install", "installed", status, [f"Installed {manager.label} service: {status.file}"],
                         warnings)


def _restore(snapshot: dict[Path, bytes | None]) -> None:
    """Put service files back as they were before a failed install."""
    for path, data in snapshot.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)


def uninstall(paths: InstancePaths, env: Mapping[str, str]) -> ServiceResult:
    manager, spec = _context(paths, None, env)
    status = manager.status(spec)
    if not status.installed:
        return ServiceResult("uninstall", "not-installed", status,
                             ["Gateway service is not installed; nothing to remove."])
    manager.deactivate(spec)
    removed = manager.remove_files(spec)
    manager.reload_definitions()
    _audit(paths, "uninstall")
    return ServiceResult("uninstall", "removed", manager.status(spec),
                         [f"Removed {manager.label} service: {removed[0] if removed else status.file}"])


def _installed(paths: InstancePaths, env: Mapping[str, str]) -> tuple[ServiceManager, ServiceSpec, ServiceStatus]:
    manager, spec = _context(paths, None, env)
    status = manager.status(spec)
    if not status.installed:
        raise ServiceError(f"Gateway service is not installed. Install it with: "
                           f"{paths.cli} gateway install")
    return manager, spec, status


def start(paths: InstancePaths, env: Mapping[str, str], wait: float = HEALTH_WAIT_S) -> ServiceResult:
    manager, spec, _ = _installed(paths, env)
    manager.start(spec)
    _audit(paths, "start")
    return _proved("start", "started", manager, spec, paths, wait)


def restart(paths: InstancePaths, env: Mapping[str, str], wait: float = HEALTH_WAIT_S) -> ServiceResult:
    manager, spec, _ = _installed(paths, env)
    manager.restart(spec)
    _audit(paths, "restart")
    return _proved("restart", "restarted", manager, spec, paths, wait)


def stop(paths: InstancePaths, env: Mapping[str, str]) -> ServiceResult:
    manager, spec = _context(paths, None, env)
    status = manager.status(spec)
    if not status.installed:
        return ServiceResult("stop", "not-installed", status, ["Gateway service is not installed; nothing to stop."])
    manager.stop(spec)
    _audit(paths, "stop")
    return ServiceResult("stop", "stopped", manager.status(spec), [f"Stopped {manager.label} service {status.name}."])


def _proved(action: str, result: str, manager: ServiceManager, spec: ServiceSpec, paths: InstancePaths,
            wait: float) -> ServiceResult:
    """Report success only once the gateway answers /healthz (unless wait is 0)."""
    done = f"{result.capitalize()} {manager.label} service {manager.name_for(spec)}"
    if wait <= 0:
        return ServiceResult(action, result, manager.status(spec), [done + "."])
    from openclaw.ports.instances import healthz

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if healthz(spec.port, timeout=0.5):
            return ServiceResult(action, result, manager.status(spec), [done + f"; healthy on port {spec.port}."])
        time.sleep(0.2)
    raise OpenClawError(
        f"{done}, but the gateway is not healthy on port {spec.port} after {wait:.0f}s; "
        f"see: {paths.cli} logs --local", exit_code=2,
    )


def service_name(paths: InstancePaths, env: Mapping[str, str]) -> str:
    """This profile's service name on this platform (unit, label or task)."""
    try:
        platform = service_platform(env)
    except ServiceError:
        platform = "linux"
    return manager_for(platform).name_for(build_spec(paths, 0, platform, env))


def definition_exists(paths: InstancePaths, env: Mapping[str, str]) -> bool:
    """A cheap check (no subprocess): is a service definition for this profile on disk?"""
    try:
        platform = service_platform(env)
    except ServiceError:
        return False
    manager = manager_for(platform)
    return manager.file_for(build_spec(paths, 0, platform, env)).exists()


def service_view(paths: InstancePaths, env: Mapping[str, str]) -> dict[str, Any]:
    """The service part of `gateway status`: never raises, says why when there is none."""
    try:
        manager, spec = _context(paths, None, env)
        status = manager.status(spec)
    except ServiceError as exc:
        return {"available": False, "reason": str(exc)}
    config_port = _config_port(paths, env)
    view = {"available": True, **status.as_dict(), "configPort": config_port}
    view["drift"] = bool(status.installed and status.installed_port and status.installed_port != config_port)
    return view
