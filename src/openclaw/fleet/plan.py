"""Making a fleet's members: N profiles set up in one process, their ports planned together.

`openclaw setup` run N times would read the host N times and plan each port against the last;
here the host is read once (instances, listeners) and every member's footprint is planned
against the others and the members planned before it. Re-running keeps each member's token,
port and edits, as setup does.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.agents.workspace import ensure_workspace
from openclaw.config.keypath import merge_patch
from openclaw.config.store import format_issues, read_config, update_config
from openclaw.config.validated import RECORD as VALIDATED_RECORD
from openclaw.errors import ConfigError
from openclaw.fleet.members import member_names, member_paths
from openclaw.fleetlink import write_marker
from openclaw.fsutil import ensure_private_dir
from openclaw.ports.footprint import Footprint, footprint_for
from openclaw.ports.instances import Instance, discover_instances
from openclaw.ports.planner import collisions_with, plan_base, seed_bases_besides
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.names import DEFAULT_PORT
from openclaw.profiles.paths import InstancePaths

PER_MEMBER = ("gateway.port", "gateway.auth.token", "agents.defaults.workspace")


@dataclass(frozen=True)
class MemberPlan:
    """One member as made: its profile, paths and planned footprint."""

    name: str
    paths: InstancePaths
    footprint: Footprint
    created: bool

    @property
    def port(self) -> int:
        return self.footprint.base


def read_base_config(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """`--from-config FILE`: a config every member starts from (validated here, once)."""
    snap = read_config(path, env)
    if not snap.exists:
        raise ConfigError(f"--from-config {path}: no such file")
    if snap.issues:
        raise ConfigError(format_issues(path, snap.issues) + "\nFix the file and run `fleet up` again.")
    data = copy.deepcopy(snap.data)
    for key in PER_MEMBER:  # each member's own; a shared value would be a shared token or port
        *parents, leaf = key.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return data


def plan_fleet(
    home: Path,
    env: Mapping[str, str],
    prefix: str,
    count: int,
    model: str | None = None,
    base_config: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    start_port: int | None = None,
    record: Path | None = None,
) -> list[MemberPlan]:
    """Make (or keep) members `<prefix>-1..count` and plan their ports; nothing is started. With
    `record` (the fleet's), each member's state dir names it, so others on the host (the rescue bot)
    know the member and reach its supervisor."""
    names = member_names(prefix, count)
    mine = {str(member_paths(home, n).state_dir) for n in names}
    others = [i for i in discover_instances(home, env, neighbours=True) if str(i.state_dir) not in mine]
    listening = listening_ports()
    reserved = seed_bases_besides(names[0])  # 18789 and 19001 are the default and dev instances'
    out: list[MemberPlan] = []
    for name in names:
        paths = member_paths(home, name)
        port = _port_for(paths, env, others, listening, reserved, start_port)
        fp = footprint_for(port)
        start_port = max(start_port or DEFAULT_PORT, max(fp.ports()) + 1)  # the next plan starts past this one
        created = _write_member(paths, env, port, model, base_config, overrides)
        _validate(paths, env)
        if record is not None:
            write_marker(paths.state_dir, name, record)
        ensure_workspace(paths.default_workspace)
        ensure_private_dir(paths.state_dir / "agents" / "main" / "sessions")
        others.append(_planned(paths, fp))
        out.append(MemberPlan(name, paths, fp, created))
    return out


def _port_for(paths: InstancePaths, env: Mapping[str, str], others: list[Instance],
              listening: dict[int, int | None] | None, reserved: list[int], start: int | None) -> int:
    """The member's configured port while its footprint is clear, else a newly planned one."""
    snap = read_config(paths.config_path, env, validate=False)
    current = snap.view().gateway_port if snap.exists and not snap.issues else None
    if current is not None and not collisions_with(footprint_for(current), others):
        return current
    return plan_base(others, listening, start=start or DEFAULT_PORT, reserved=reserved).base


def _write_member(paths: InstancePaths, env: Mapping[str, str], port: int, model: str | None,
                  base_config: dict[str, Any] | None, overrides: dict[str, Any] | None) -> bool:
    ensure_private_dir(paths.state_dir)
    fresh = not paths.config_path.exists()

    def mutate(data: dict[str, Any]) -> None:
        if fresh and base_config:
            data.update(copy.deepcopy(base_config))
        if overrides:
            merged = merge_patch(data, overrides)
            data.clear()
            data.update(merged)
        gateway = data.setdefault("gateway", {})
        gateway.setdefault("mode", "local")
        gateway["port"] = port
        gateway.setdefault("bind", "loopback")
        auth = gateway.setdefault("auth", {})
        if auth.get("mode") in (None, "token") and not auth.get("token"):
            auth["mode"] = "token"
            auth["token"] = secrets.token_hex(24)
        defaults = data.setdefault("agents", {}).setdefault("defaults", {})
        defaults["workspace"] = str(paths.default_workspace)
        if model:
            current = defaults.get("model")
            if isinstance(current, dict):
                current["primary"] = model
            else:
                defaults["model"] = model

    update = update_config(paths.config_path, mutate, env, require_valid=False)  # validated next, as started
    return update.created


def _validate(paths: InstancePaths, env: Mapping[str, str]) -> None:
    """Validate the member's config as its gateway will read it, and record the verdict where the
    gateway looks (config-history): the member then starts without running the schema itself, which
    saves it the time and the memory (each validation dirties pages it would otherwise share)."""
    snap = read_config(paths.config_path, env, valid_record=paths.history_dir / VALIDATED_RECORD)
    if snap.issues:
        raise ConfigError(format_issues(paths.config_path, snap.issues)
                          + f"\nFix {paths.name}'s config (or remove the member with `fleet down --purge`).")


def _planned(paths: InstancePaths, fp: Footprint) -> Instance:
    return Instance(name=paths.name, profile=paths.profile, state_dir=paths.state_dir,
                    config_path=paths.config_path, base=fp.base, port_source="planned", footprint=fp)
