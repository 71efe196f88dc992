"""Provisioning an instance (`openclaw setup`): state dir, config, port, token, workspace.

Idempotent: re-running keeps the token, the port and every user edit, and
only fills in what is missing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openclaw.agents.workspace import WorkspaceResult, ensure_workspace, workspace_dir
from openclaw.config.store import format_issues, read_config, update_config
from openclaw.config.view import Config
from openclaw.errors import ConfigError
from openclaw.fsutil import ensure_private_dir
from openclaw.ports.footprint import Footprint, footprint_for, parse_env_port
from openclaw.ports.instances import Collision, Instance, isolation_check, other_instances
from openclaw.ports.planner import check_explicit_port, collisions_with, plan_base, seed_bases_besides
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.env import expand_user
from openclaw.profiles.names import DEFAULT_PORT, DEV_PORT, DEV_PROFILE
from openclaw.profiles.paths import InstancePaths


@dataclass
class SetupResult:
    paths: InstancePaths
    config_status: str  # created | updated | unchanged
    changes: list[str]
    port: int
    port_source: str  # flag | env | config | planned
    footprint: Footprint
    workspace: WorkspaceResult
    collisions: list[Collision] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile": self.paths.name,
            "stateDir": str(self.paths.state_dir),
            "configPath": str(self.paths.config_path),
            "configStatus": self.config_status,
            "changes": self.changes,
            "port": self.port,
            "portSource": self.port_source,
            "footprint": self.footprint.as_dict(),
            "workspaceDir": str(self.workspace.path),
            "workspaceFilesCreated": self.workspace.created_files,
            "collisions": [c.as_dict() for c in self.collisions],
        }


def setup_instance(
    paths: InstancePaths,
    env: Mapping[str, str],
    port: int | None = None,
    workspace: str | None = None,
    force: bool = False,
) -> SetupResult:
    ensure_private_dir(paths.state_dir)
    snap = read_config(paths.config_path, env)
    if snap.issues:
        raise ConfigError(
            format_issues(paths.config_path, snap.issues)
            + "\nFix it (openclaw config validate shows the same list) and re-run setup."
        )
    others = other_instances(paths, env)
    chosen, source, collisions = _choose_port(paths, snap.view(), port, env, others, force)
    workspace_value = str(expand_user(workspace, env).resolve()) if workspace else None
    changes: list[str] = []

    def mutate(data: dict[str, Any]) -> None:
        gateway = data.setdefault("gateway", {})
        if not gateway.get("mode"):
            gateway["mode"] = "local"
            changes.append("set gateway.mode")
        if gateway.get("port") != chosen:
            gateway["port"] = chosen
            changes.append("set gateway.port")
        if not gateway.get("bind"):  # explicit: upstream's default is `auto` (all interfaces in a container)
            gateway["bind"] = "loopback"
            changes.append("set gateway.bind")
        auth = gateway.setdefault("auth", {})
        if auth.get("mode") in (None, "token") and not auth.get("token"):
            auth.setdefault("mode", "token")
            auth["token"] = secrets.token_hex(24)
            changes.append("set gateway.auth.token")
        defaults = data.setdefault("agents", {}).setdefault("defaults", {})
        wanted = workspace_value or defaults.get("workspace") or str(paths.default_workspace)
        if defaults.get("workspace") != wanted:
            defaults["workspace"] = wanted
            changes.append("set agents.defaults.workspace")

    update = update_config(paths.config_path, mutate, env, check=isolation_check(paths, env))
    status = "created" if update.created else ("updated" if update.changed else "unchanged")
    final = read_config(paths.config_path, env)
    ws = ensure_workspace(workspace_dir(final.view(), paths, env))
    ensure_private_dir(paths.state_dir / "agents" / "main" / "sessions")
    fp = footprint_for(chosen, final.view())
    return SetupResult(paths, status, changes, chosen, source, fp, ws, collisions)


def _choose_port(
    paths: InstancePaths,
    config: Config,
    port: int | None,
    env: Mapping[str, str],
    others: list[Instance],
    force: bool,
) -> tuple[int, str, list[Collision]]:
    explicit, source = port, "flag"
    if explicit is None and (env.get("OPENCLAW_GATEWAY_PORT") or "").strip():
        explicit, source = parse_env_port(env["OPENCLAW_GATEWAY_PORT"]), "env"
    if explicit is not None:
        found = check_explicit_port(explicit, footprint_for(explicit, config), others, force)
        return explicit, source, found
    current = config.gateway_port
    if current is not None:
        return current, "config", collisions_with(footprint_for(current, config), others)
    start = DEV_PORT if paths.profile == DEV_PROFILE else DEFAULT_PORT
    plan = plan_base(others, listening_ports(), start=start, reserved=seed_bases_besides(paths.profile))
    found = check_explicit_port(plan.base, footprint_for(plan.base, config), others, force)
    return plan.base, "planned", found
