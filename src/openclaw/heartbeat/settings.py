"""Which agents beat and how: `agents.defaults.heartbeat` merged with each agent's own block, read
with upstream's rules (an agent's block replaces keys of the defaults; once any agent has a block,
only those agents beat; no block anywhere: the default agent beats every 30 minutes)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openclaw.config.view import Config, section
from openclaw.profiles.paths import InstancePaths

DEFAULT_EVERY = "30m"
MAX_TIMEOUT_S = 600  # a heartbeat turn's limit when neither the block nor agents.defaults set one
UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def interval_ms(every: Any) -> int | None:
    """`every` in milliseconds: a duration (`90s`, `1h30m`), a bare number in minutes; None when it
    is zero (`0m`: no cadence, wakes still run) or cannot be read."""
    if isinstance(every, bool) or every is None:
        return None
    if isinstance(every, int | float):
        ms = int(every * UNITS_MS["m"])
        return ms if ms > 0 else None
    text = str(every).strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        text += "m"
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text):
        return None
    ms = int(sum(float(n) * UNITS_MS[u] for n, u in parts))
    return ms if ms > 0 else None


def valid_every(every: Any) -> bool:
    """Whether `every` reads as a duration (zero included): what the config schema accepts."""
    if isinstance(every, int | float) and not isinstance(every, bool):
        return every >= 0
    text = str(every).strip().lower()
    return bool(re.fullmatch(r"\d+(?:\.\d+)?", text) or (_PART.findall(text) and not _PART.sub("", text)))


def valid_clock(text: Any, end: bool = False) -> bool:
    """`HH:MM` (00:00 to 23:59; `24:00` as an end)."""
    match = _CLOCK.match(str(text)) if isinstance(text, str) else None
    return bool(match) and (match.group(1) != "24" or (end and match.group(2) == "00"))  # type: ignore[union-attr]


@dataclass(frozen=True)
class Heartbeat:
    """One agent's effective heartbeat block."""

    agent_id: str
    raw: Mapping[str, Any]

    @property
    def every_ms(self) -> int | None:
        return interval_ms(self.raw.get("every", DEFAULT_EVERY))

    @property
    def prompt(self) -> str | None:
        text = self.raw.get("prompt")
        return text if isinstance(text, str) and text.strip() else None

    @property
    def target(self) -> str:
        return str(self.raw.get("target") or "owner").strip() or "owner"

    @property
    def to(self) -> str | None:
        value = self.raw.get("to")
        return str(value).strip() or None if value is not None else None

    @property
    def account_id(self) -> str | None:
        value = self.raw.get("accountId")
        return str(value).strip() or None if value is not None else None

    @property
    def direct_blocked(self) -> bool:
        return self.raw.get("directPolicy") == "block"

    @property
    def model(self) -> str | None:
        value = self.raw.get("model")
        return value.strip() or None if isinstance(value, str) else None

    @property
    def light_context(self) -> bool:
        return self.raw.get("lightContext") is True

    @property
    def isolated(self) -> bool:
        return self.raw.get("isolatedSession") is True

    def session_key(self) -> str:
        """The session its runs share (`session`, default the agent's main session)."""
        name = str(self.raw.get("session") or "main").strip() or "main"
        return name if name.startswith("agent:") else f"agent:{self.agent_id}:{name}"

    def timeout_s(self, config: Config) -> float | None:
        """`timeoutSeconds`, else agents.defaults.timeoutSeconds, else the interval (at most 600 s)."""
        own = self.raw.get("timeoutSeconds")
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            return float(own)
        if "timeoutSeconds" in config.part("agents", "defaults"):
            return config.agent_defaults.timeout_s
        every = self.every_ms
        return float(min(MAX_TIMEOUT_S, max(1, -(-every // 1000)))) if every else float(MAX_TIMEOUT_S)

    def active_at(self, config: Config, when: datetime) -> bool:
        """Within `activeHours` (start included, end excluded; equal ends: never); no block: always."""
        hours = section(self.raw.get("activeHours"))
        start, end = hours.get("start"), hours.get("end")
        if not (valid_clock(start) and valid_clock(end, end=True)):
            return True
        local = when.astimezone(_zone(hours.get("timezone"), config))
        now = local.hour * 60 + local.minute
        first, last = _minutes(str(start)), _minutes(str(end))
        if first == last:
            return False
        return first <= now < last if first < last else now >= first or now < last


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _zone(name: Any, config: Config) -> Any:
    """`user` (agents.defaults.userTimezone, else this host's), `local`, or an IANA name."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    wanted = str(name or "user").strip()
    if wanted == "user":
        wanted = str(config.get("agents", "defaults", "userTimezone") or "local")
    if wanted == "local":
        return None
    try:
        return ZoneInfo(wanted)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # the schema rejects an unknown zone; an old file falls back to the host's


def heartbeat_agents(config: Config) -> list[Heartbeat]:
    """The agents that beat, each with its merged block (upstream's enrolment rules)."""
    defaults = config.get("agents", "defaults", "heartbeat")
    defaults = defaults if isinstance(defaults, Mapping) else None
    own = [a for a in config.agents if isinstance(a.raw.get("heartbeat"), Mapping)]
    if own:
        return [Heartbeat(a.id, {**(defaults or {}), **a.raw["heartbeat"]}) for a in own]
    chosen = str((defaults or {}).get("agentId") or "").strip()
    if chosen:
        return [Heartbeat(chosen, dict(defaults or {}))]
    if defaults is not None:
        return [Heartbeat(a.id, dict(defaults)) for a in config.agents]
    return [Heartbeat(config.default_agent_id, {})]


def heartbeat_for(config: Config, agent_id: str) -> Heartbeat:
    """An agent's block (the defaults with its own on top), enrolled or not (a wake may name any agent)."""
    found = next((h for h in heartbeat_agents(config) if h.agent_id == agent_id), None)
    if found is not None:
        return found
    defaults = section(config.get("agents", "defaults", "heartbeat"))
    return Heartbeat(agent_id, {**defaults, **section(config.agent(agent_id).raw.get("heartbeat"))})


def configured(config: Config) -> bool:
    """A heartbeat block anywhere in the config."""
    return isinstance(config.get("agents", "defaults", "heartbeat"), Mapping) or any(
        isinstance(a.raw.get("heartbeat"), Mapping) for a in config.agents)


ADOPTED: set[Path] = set()  # state dirs whose store held an enabled heartbeat job when the gateway started


def adopt(state_dir: Path) -> None:
    """The store holds an enabled heartbeat job (upstream declares one for an instance with a
    model): this instance keeps beating after a switch, with or without a heartbeat block. Read
    once per process, at start (`services.start_cron`)."""
    ADOPTED.add(state_dir)


def wanted(config: Config, paths: InstancePaths) -> bool:
    """Whether this instance schedules heartbeats: a heartbeat block in its config, the rescue role
    (whose heartbeat watches its targets), or a heartbeat job already in its store (`adopt`). Unlike
    upstream, a model alone does not start one on a new instance: a turn every 30 minutes nobody
    asked for costs money, and the job would put the cron tables into every such instance's state
    store (see README "Heartbeats"). Otherwise the scheduler and its store stay unloaded."""
    from openclaw.rescue.operations import has_rescue_role

    return configured(config) or paths.state_dir in ADOPTED or has_rescue_role(config, paths)


def format_every(ms: int) -> str:
    """`30m`, `1h`, `90s`: the largest unit that divides the interval."""
    for unit in ("d", "h", "m", "s"):
        if ms % UNITS_MS[unit] == 0:
            return f"{ms // UNITS_MS[unit]}{unit}"
    return f"{ms}ms"


def summary(config: Config, paths: InstancePaths) -> dict[str, dict[str, Any]]:
    """Per agent, what health and status report: `{enabled, every, everyMs}` (agents that do not
    beat here: disabled)."""
    beats = {b.agent_id: b.every_ms for b in heartbeat_agents(config)} if wanted(config, paths) else {}
    out = {}
    for agent in config.agents:
        every = beats.get(agent.id)
        out[agent.id] = {"enabled": True, "every": format_every(every), "everyMs": every} if every else \
            {"enabled": False, "every": "disabled", "everyMs": None}
    return out
