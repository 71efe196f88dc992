"""Operating on another instance of this host: inspect, repair, start, stop.

The rescue bot's chat commands call these; agent tools can call them too.
Service-managed instances go through their service manager; others are
signalled directly, or started as a detached process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw.config.history import GoodConfig
from openclaw.config.history import rollback as restore_last_good
from openclaw.config.keypath import get_path, parse_path, set_path
from openclaw.config.redact import redact_at
from openclaw.config.store import read_config, update_config
from openclaw.config.view import Config
from openclaw.errors import ConfigError, OpenClawError
from openclaw.logtail import read_tail
from openclaw.ports.instances import Instance, discover_instances, healthz, isolation_check
from openclaw.ports.registry import record_for
from openclaw.profiles.paths import InstancePaths

START_WAIT_S = 30.0


class RescueError(OpenClawError):
    """An operation refused or failed; the message is what the operator reads."""


@dataclass
class Context:
    """Who runs an operator command: this instance, and the instances it may act on."""

    me: InstancePaths
    targets: list[str] | None  # rescue.targets; None = every other instance
    env: Mapping[str, str]  # the gateway's environment: cluster targets, and what a started instance inherits


@dataclass(frozen=True)
class Target:
    name: str
    paths: InstancePaths
    env: Mapping[str, str]  # the rescue gateway's own: config `${VAR}`s, and what a started gateway inherits


def _is_me(inst: Instance, me: InstancePaths) -> bool:
    return os.path.abspath(inst.state_dir) == os.path.abspath(me.state_dir)


def _find(instances: list[Instance], wanted: str) -> Instance | None:
    """By profile name; `main` also means the default instance (the seeds' main bot) unless a
    profile is really named `main`."""
    found = next((i for i in instances if i.name == wanted), None)
    if found is None and wanted == "main":
        found = next((i for i in instances if i.profile is None), None)
    return found


def _allowed(inst: Instance, wanted: str, allowed: list[str] | None) -> bool:
    if allowed is None:
        return True
    names = {wanted, inst.name} | ({"main", "default"} if inst.profile is None else set())
    return bool(names & set(allowed))


def may_target(inst: Instance, allowed: list[str] | None) -> bool:
    """Whether `rescue.targets` (None: every other instance) lets a rescue bot touch `inst`."""
    return _allowed(inst, inst.name, allowed)


def resolve_target(name: str, me: InstancePaths, allowed: list[str] | None, env: Mapping[str, str]) -> Target:
    """An instance by profile name (or, with no name, the only other one), if this rescue
    instance may touch it."""
    wanted = (name or "").strip()
    instances = discover_instances(me.home, env)
    if not wanted:
        return only_other(me, allowed, env, instances)
    inst = _find(instances, wanted)
    if inst is None:
        known = ", ".join(i.name for i in instances if not _is_me(i, me)) or "none"
        raise RescueError(f"no instance named {wanted} on this host (known: {known})")
    if _is_me(inst, me):
        raise RescueError(f"{wanted} is this gateway itself; use the CLI on the host for it")
    if not _allowed(inst, wanted, allowed):
        raise RescueError(f"{wanted} is not in rescue.targets ({', '.join(allowed or []) or 'empty'})")
    return Target(inst.name, inst.paths(me.home), env)


def only_other(me: InstancePaths, allowed: list[str] | None, env: Mapping[str, str],
               instances: list[Instance] | None = None) -> Target:
    """The one instance besides this one (within rescue.targets), for commands that leave the
    profile out; several (or none) is a question back."""
    instances = discover_instances(me.home, env) if instances is None else instances
    others = [i for i in instances if not _is_me(i, me) and may_target(i, allowed)]
    if len(others) == 1:
        return Target(others[0].name, others[0].paths(me.home), env)
    known = ", ".join(i.name for i in others) or "none"
    raise RescueError(f"name a profile, e.g. /status {others[0].name if others else 'main'} (known: {known})")


def names(me: InstancePaths, env: Mapping[str, str]) -> set[str]:
    """Every name a command may use for an instance of this host (profiles, and `main`)."""
    instances = discover_instances(me.home, env)
    out = {i.name for i in instances}
    if any(i.profile is None for i in instances):
        out.add("main")
    return out


def has_rescue_role(config: Config, paths: InstancePaths) -> bool:
    """A `rescue` section in its config, or the profile named `rescue`."""
    return config.has_rescue_section or paths.profile == "rescue"


def _record(paths: InstancePaths) -> dict[str, Any] | None:
    return record_for(paths.state_dir)


def status(target: Target) -> dict[str, Any]:
    snap = read_config(target.paths.config_path, target.env)
    rec = _record(target.paths)
    port = int(rec["port"]) if rec else snap.get("gateway", "port")
    from openclaw.services.lifecycle import definition_exists

    return {
        "profile": target.name, "stateDir": str(target.paths.state_dir), "running": rec is not None,
        "pid": rec["pid"] if rec else None, "port": port,
        "healthy": rec is not None and healthz(int(rec["port"])),
        "configValid": snap.exists and snap.valid, "configExists": snap.exists,
        "configIssues": [str(i) for i in snap.issues], "service": definition_exists(target.paths, target.env),
    }


def logs(target: Target, lines: int = 20) -> list[str]:
    from openclaw.logfile import log_path

    tail: list[str] = read_tail(log_path(target.paths.logs_dir), None, max(1, min(lines, 200)), 200_000)["lines"]
    return tail


def doctor(target: Target) -> Any:
    from openclaw.doctor.run import run_doctor

    return run_doctor(target.paths, target.env)


def config_get(target: Target, key: str) -> Any:
    snap = read_config(target.paths.config_path, target.env, validate=False)
    parts = parse_path(key)
    try:
        value = get_path(snap.data, parts)
    except KeyError:
        raise RescueError(f"{key} is not set in {target.name}'s config") from None
    return redact_at(parts, value)


def config_set(target: Target, key: str, value: Any) -> list[str]:
    """Validated before writing (nothing written if invalid); the old file stays as openclaw.json.bak."""
    parts = parse_path(key)
    try:
        update = update_config(target.paths.config_path, lambda d: set_path(d, parts, value), target.env,
                               require_valid=True, check=isolation_check(target.paths, target.env))
    except ConfigError as exc:
        problems = [line.strip()[2:] for line in str(exc).splitlines() if line.strip().startswith("- ")]
        raise RescueError(f"refused, nothing written: {'; '.join(problems) or exc}") from None
    return update.changed


def rollback(target: Target) -> GoodConfig:
    good = restore_last_good(target.paths.history_dir, target.paths.config_path)
    if good is None:
        raise RescueError(f"{target.name} has no last-known-good config yet (one is recorded at every good start)")
    return good


# -- lifecycle --------------------------------------------------------------------------------
def _managed(target: Target) -> bool:
    from openclaw.services.base import ServiceError, service_platform
    from openclaw.services.lifecycle import definition_exists, manager_for

    if not definition_exists(target.paths, target.env):
        return False
    try:
        manager_for(service_platform(target.env)).check_available()
    except ServiceError:
        return False
    return True


def _require_valid_config(target: Target) -> None:
    snap = read_config(target.paths.config_path, target.env)
    if not snap.exists:
        raise RescueError(f"{target.name} has no config ({target.paths.config_path})")
    if snap.issues:
        raise RescueError(
            f"{target.name}'s config is invalid ({snap.issues[0]}); fix it with /config or /rollback first")


def _start_in_fleet(target: Target) -> bool:
    """A fleet member is started by its running supervisor (it stays supervised); False when the
    target is no member of a running fleet."""
    from openclaw.fleetlink import FleetUnreachable, request, supervisor_of

    link = supervisor_of(target.paths.state_dir)
    if link is None:
        return False
    name, sock = link
    try:
        answer = request(sock, "restart", timeout=10.0, name=name)
    except FleetUnreachable:
        return False
    if not answer.get("ok"):
        raise RescueError(f"{target.name}: its fleet supervisor refused the start: {answer.get('error')}")
    return True


def spawn_detached(target: Target) -> None:
    """Start `openclaw gateway` for the target as its own session (double fork: no zombie here)."""
    env = {k: v for k, v in target.env.items() if not k.startswith("OPENCLAW_")}
    env.update({k: target.env[k] for k in ("OPENCLAW_HOME", "OPENCLAW_RUNTIME_DIR") if target.env.get(k)})
    env.update(OPENCLAW_STATE_DIR=str(target.paths.state_dir), OPENCLAW_CONFIG_PATH=str(target.paths.config_path))
    if target.paths.profile:
        env["OPENCLAW_PROFILE"] = target.paths.profile
    target.paths.logs_dir.mkdir(parents=True, exist_ok=True)
    with open(target.paths.logs_dir / "gateway.out", "ab") as out:
        cmd = [sys.executable, "-m", "openclaw", "gateway"]
        if os.name == "nt":  # pragma: no cover - Windows has no fork
            subprocess.Popen(cmd, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                             creationflags=0x00000008 | 0x00000200)
            return
        subprocess.run(["/bin/sh", "-c", '"$@" </dev/null & exit 0', "sh", *cmd], env=env, stdout=out, stderr=out,
                       check=True, start_new_session=True)


async def _wait_started(target: Target, since: float) -> dict[str, Any]:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        rec = _record(target.paths)
        if rec and rec.get("startedAt", 0) >= since and await asyncio.to_thread(healthz, int(rec["port"])):
            return rec
        await asyncio.sleep(0.2)
    tail = logs(target, 3)
    raise RescueError(f"{target.name} did not become healthy in {START_WAIT_S:.0f}s"
                      + (f"; last log: {tail[-1][:200]}" if tail else ""))


async def start(target: Target) -> str:
    rec = _record(target.paths)
    if rec:
        return f"{target.name} is already running (pid {rec['pid']}, port {rec['port']})"
    _require_valid_config(target)
    since = time.time()
    if _managed(target):
        from openclaw.services import lifecycle

        result = await asyncio.to_thread(lifecycle.start, target.paths, target.env, START_WAIT_S)
        return " ".join(result.messages)
    if not await asyncio.to_thread(_start_in_fleet, target):
        await asyncio.to_thread(spawn_detached, target)
    rec = await _wait_started(target, since)
    return f"{target.name} started (pid {rec['pid']}) and is healthy on port {rec['port']}"


async def stop(target: Target) -> str:
    if _managed(target):
        from openclaw.services import lifecycle

        result = await asyncio.to_thread(lifecycle.stop, target.paths, target.env)
        return " ".join(result.messages)
    rec = _record(target.paths)
    if rec is None:
        return f"{target.name} is not running"
    os.kill(rec["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _record(target.paths) and time.monotonic() < deadline:  # noqa: ASYNC110 - another process's file
        await asyncio.sleep(0.1)
    if _record(target.paths):
        raise RescueError(f"{target.name} (pid {rec['pid']}) did not stop within 15s")
    return f"{target.name} stopped (pid {rec['pid']})"


async def restart(target: Target) -> str:
    _require_valid_config(target)
    since = time.time()
    if _managed(target):
        from openclaw.services import lifecycle

        result = await asyncio.to_thread(lifecycle.restart, target.paths, target.env, START_WAIT_S)
        return " ".join(result.messages)
    rec = _record(target.paths)
    if rec is None:
        return await start(target)
    os.kill(rec["pid"], getattr(signal, "SIGUSR1", signal.SIGTERM))  # in-process restart, re-reads the config
    rec = await _wait_started(target, since)
    return f"{target.name} restarted (pid {rec['pid']}) and is healthy on port {rec['port']}"
