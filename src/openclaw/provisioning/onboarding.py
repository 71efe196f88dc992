"""Onboarding (`openclaw onboard`): propose, collect and apply one instance's answers.

The wizard is a list of steps, each asking for (or taking from flags) part of
the answers; nothing is written until every answer is in, so Ctrl-C leaves
no trace. Channel and model steps register themselves in `STEPS` when their
features land.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.agents.workspace import ensure_workspace, workspace_dir
from openclaw.config.store import format_issues, read_config, update_config
from openclaw.config.view import Config
from openclaw.errors import ConfigError, OpenClawError, UsageError
from openclaw.fsutil import ensure_private_dir
from openclaw.ports.footprint import Footprint, check_footprint_fits, footprint_for
from openclaw.ports.instances import isolation_check, other_instances
from openclaw.ports.planner import collisions_with, plan_base, seed_bases_besides
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.env import expand_user
from openclaw.profiles.names import DEFAULT_PORT
from openclaw.profiles.paths import InstancePaths
from openclaw.provisioning.channel_step import ChannelStep
from openclaw.provisioning.wizard import Answers, Proposal, Step

BIND_MODES = ("loopback", "lan", "tailnet", "auto")
AUTH_MODES = ("token", "password", "none")
MAIN_GAP = 20  # a profile beside the default instance starts at least this far above it


def _service_availability(paths: InstancePaths, env: Mapping[str, str]) -> tuple[bool, str | None]:
    from openclaw.services.base import ServiceError, service_platform
    from openclaw.services.lifecycle import manager_for, require_profile_paths

    try:
        require_profile_paths(paths)
        manager_for(service_platform(env)).check_available()
    except ServiceError as exc:
        return False, str(exc)
    return True, None


def propose(paths: InstancePaths, env: Mapping[str, str]) -> Proposal:
    snap = read_config(paths.config_path, env)
    if snap.issues:
        raise ConfigError(format_issues(paths.config_path, snap.issues)
                          + "\nFix it first (openclaw config validate lists the same problems).")
    others = other_instances(paths, env)
    current = snap.get("gateway", "port")
    if isinstance(current, int):
        port = current
    else:
        main = next((i for i in others if i.profile is None), None)
        start = max(DEFAULT_PORT, main.base + MAIN_GAP) if main and paths.profile else DEFAULT_PORT
        port = plan_base(others, listening_ports(), start=start, reserved=seed_bases_besides(paths.profile)).base
    available, reason = _service_availability(paths, env)
    return Proposal(
        workspace=str(workspace_dir(snap.view(), paths, env)),
        port=port,
        bind=snap.get("gateway", "bind") or "loopback",
        auth=snap.get("gateway", "auth", "mode") or "token",
        service_available=available,
        service_reason=reason,
        others=others,
        env=env,
    )


def port_problem(port_text: str, proposal: Proposal) -> str | None:
    """Why a typed port is unusable (for the wizard's re-prompt), or None."""
    if not port_text.strip().isdigit() or not 1 <= int(port_text) <= 65535:
        return "enter a port number from 1 to 65535"
    fp = footprint_for(int(port_text))
    try:
        check_footprint_fits(fp)
    except OpenClawError as exc:
        return str(exc)
    found = collisions_with(fp, proposal.others)
    if found:
        return f"its footprint overlaps {found[0].other}; try {proposal.port}"
    return None


def check_answers(answers: Answers, proposal: Proposal, force: bool = False) -> None:
    if answers.bind not in BIND_MODES:
        raise UsageError(f"--gateway-bind must be one of {', '.join(BIND_MODES)}")
    if answers.auth not in AUTH_MODES:
        raise UsageError(f"--gateway-auth must be one of {', '.join(AUTH_MODES)}")
    if answers.auth == "none" and answers.bind != "loopback":
        raise UsageError("--gateway-auth none is only allowed with --gateway-bind loopback")
    if answers.auth == "password" and not answers.password:
        raise UsageError("--gateway-auth password needs --gateway-password")
    problem = port_problem(str(answers.port), proposal)
    if problem and not (force and "overlaps" in problem):
        raise OpenClawError(f"--gateway-port {answers.port}: {problem}" + ("" if force else " (or pass --force)"))
    if answers.install_daemon and not proposal.service_available:
        raise OpenClawError(f"cannot install the service: {proposal.service_reason}")


@dataclass
class OnboardResult:
    paths: InstancePaths
    answers: Answers
    footprint: Footprint
    workspace: Path
    config_status: str
    service: dict[str, Any] | None
    service_name: str  # this profile's unit, label or task name, installed or not
    running: dict[str, Any] | None = None  # a gateway already serving this state dir: pid, port, applies
    channels: dict[str, str] = field(default_factory=dict)  # name -> saved (by this run) | kept (as it was)

    def model(self) -> dict[str, Any] | None:
        choice = self.answers.extra.get("model")
        return {"ref": choice.ref, "provider": choice.provider, "key": choice.key_note()} if choice else None

    def as_dict(self) -> dict[str, Any]:
        a = self.answers
        return {
            "ok": True, "profile": self.paths.name, "stateDir": str(self.paths.state_dir),
            "configPath": str(self.paths.config_path), "configStatus": self.config_status,
            "workspaceDir": str(self.workspace), "port": a.port, "bind": a.bind, "auth": a.auth,
            "footprint": self.footprint.as_dict(), "service": self.service, "serviceName": self.service_name,
            "model": self.model(), "channels": self.channels,
            "running": self.running,
            "next": next_commands(self.paths, bool(self.service), self.running),
        }


def next_commands(paths: InstancePaths, service_installed: bool, running: dict[str, Any] | None = None) -> list[str]:
    """What to run next: start the gateway, unless it runs already (then, with hot reload off, the
    in-process restart that makes it read the new config)."""
    prefix = paths.cli
    if service_installed:
        first = [f"{prefix} gateway status"]
    elif running is None:
        first = [f"{prefix} gateway"]
    else:
        first = [f"kill -USR1 {running['pid']}"] if running["applies"] == "restart" else []
    return [*first, f"{prefix} status", "openclaw gateways", f"{prefix} doctor"]


def running_gateway(paths: InstancePaths, config: Config) -> dict[str, Any] | None:
    """The gateway already serving this state dir (ours, or upstream's by its lock), and how it takes
    a new config: `live` (hot reload; gateway.* changes restart it in-process) or `restart`."""
    from openclaw.ports.instances import lock_record
    from openclaw.ports.registry import record_for

    rec = record_for(paths.state_dir) or lock_record(paths)
    if rec is None:
        return None
    reload_off = config.get("gateway", "reload", "mode") == "off"
    return {"pid": rec["pid"], "port": rec["port"], "applies": "restart" if reload_off else "live"}


def apply(paths: InstancePaths, answers: Answers, env: Mapping[str, str]) -> OnboardResult:
    """Write everything in one go: state dir, config, workspace, then (optionally) the service."""
    ensure_private_dir(paths.state_dir)
    workspace = expand_user(answers.workspace, env).resolve()

    def mutate(data: dict[str, Any]) -> None:
        gateway = data.setdefault("gateway", {})
        gateway.update(mode="local", port=answers.port, bind=answers.bind)
        auth = gateway.setdefault("auth", {})
        auth["mode"] = answers.auth
        if answers.auth == "token":
            auth["token"] = answers.token or auth.get("token") or secrets.token_hex(24)
        if answers.auth == "password":
            auth["password"] = answers.password
        data.setdefault("agents", {}).setdefault("defaults", {})["workspace"] = str(workspace)
        for step in STEPS:
            step.write(data, answers)

    update = update_config(paths.config_path, mutate, env, check=isolation_check(paths, env))
    ensure_workspace(workspace)
    ensure_private_dir(paths.state_dir / "agents" / "main" / "sessions")
    service = None
    if answers.install_daemon:
        from openclaw.services import lifecycle

        service = lifecycle.install(paths, env, force=True).as_dict()["service"]
    status = "created" if update.created else ("updated" if update.changed else "unchanged")
    from openclaw.services.lifecycle import service_name

    after = Config(update.after)
    return OnboardResult(paths, answers, footprint_for(answers.port, after), workspace, status, service,
                         service_name(paths, env), running_gateway(paths, after), channel_states(answers, after))


def channel_states(answers: Answers, config: Config) -> dict[str, str]:
    """Each channel this run wrote (`saved`) or found configured and left alone (`kept`)."""
    states = {s.name: "saved" for s in CHANNEL_STEPS if s.name in answers.extra}
    return {**{name: "kept" for name in config.channel_names if name in _CHANNEL_NAMES}, **states}


def _default_steps() -> list[Step]:
    from openclaw.provisioning.model_step import ModelStep

    return [ModelStep(), *CHANNEL_STEPS]


def _channel_steps() -> list[ChannelStep]:
    from openclaw.provisioning.discord_step import DISCORD
    from openclaw.provisioning.slack_step import SLACK
    from openclaw.provisioning.telegram_step import TELEGRAM

    return [TELEGRAM, DISCORD, SLACK]


CHANNEL_STEPS = _channel_steps()  # asked after the model, in this order; each takes its own flags too
_CHANNEL_NAMES = {s.name for s in CHANNEL_STEPS}
STEPS: list[Step] = _default_steps()  # model and channel steps, asked after the gateway questions
