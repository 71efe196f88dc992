"""An instance's footprint: every port it may bind (base, control, canvas, the CDP range)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openclaw.config.view import Config, section
from openclaw.errors import ConfigError, UsageError
from openclaw.profiles.names import profile_default_port

CONTROL_OFFSET = 2
CANVAS_OFFSET = 4
CDP_OFFSET = 9  # from the control port
CDP_SPAN = 100
MAX_PORT = 65535


@dataclass(frozen=True)
class Footprint:
    base: int
    control: int
    canvas: int
    cdp_start: int
    cdp_end: int
    extra_cdp: tuple[int, ...] = field(default_factory=tuple)

    def ports(self) -> set[int]:
        out = {self.base, self.control, self.canvas, *self.extra_cdp}
        out.update(range(self.cdp_start, self.cdp_end + 1))
        return out

    def overlap(self, other: Footprint) -> list[int]:
        return sorted(self.ports() & other.ports())

    def role_of(self, port: int) -> str:
        if port == self.base:
            return "gateway"
        if port == self.control:
            return "browser control"
        if port == self.canvas:
            return "canvas"
        return "CDP"

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "control": self.control,
            "canvas": self.canvas,
            "cdpRange": [self.cdp_start, self.cdp_end],
            "cdpPorts": list(self.extra_cdp),
        }

    @property
    def cdp_label(self) -> str:
        return f"{self.cdp_start}-{self.cdp_end}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def footprint_for(base: int, config: Config | None = None) -> Footprint:
    """Derive the footprint from a base port and the config's overrides."""
    config = config or Config(None)
    browser = config.browser
    control = _int(browser.get("controlPort")) or base + CONTROL_OFFSET
    canvas = _int(config.canvas.port) or base + CANVAS_OFFSET
    cdp_start = _int(browser.get("cdpPortRangeStart")) or control + CDP_OFFSET
    cdp_end = cdp_start + CDP_SPAN - 1
    extras: list[int] = []
    for prof in section(browser.get("profiles")).values():
        port = _int(prof.get("cdpPort")) if isinstance(prof, dict) else None
        if port and not cdp_start <= port <= cdp_end:
            extras.append(port)
    return Footprint(base, control, canvas, cdp_start, cdp_end, tuple(sorted(set(extras))))


def check_footprint_fits(fp: Footprint) -> None:
    top = max(fp.ports())
    if top > MAX_PORT:
        raise UsageError(f"port {fp.base} is too high: its footprint reaches {top} (max {MAX_PORT})")


def parse_env_port(value: str) -> int:
    """`OPENCLAW_GATEWAY_PORT` accepts `1234`, `host:1234` and `[v6]:1234`."""
    text = value.strip()
    match = re.fullmatch(r"(?:\[[^\]]+\]:|[^:\[\]]+:)?(\d{1,5})", text)
    if not match or not 1 <= int(match.group(1)) <= MAX_PORT:
        raise ConfigError(f"OPENCLAW_GATEWAY_PORT={value!r} is not a port; use a number from 1 to 65535")
    return int(match.group(1))


def resolve_base_port(
    flag_port: int | None,
    config: Config | None,
    profile: str | None,
    env: Mapping[str, str],
) -> tuple[int, str]:
    """Base = `--port` > `OPENCLAW_GATEWAY_PORT` > `gateway.port` > profile default; returns (port, source)."""
    if flag_port is not None:
        return flag_port, "flag"
    env_value = (env.get("OPENCLAW_GATEWAY_PORT") or "").strip()
    if env_value:
        return parse_env_port(env_value), "env"
    port = _int(config.gateway_port) if config is not None else None
    if port:
        return port, "config"
    return profile_default_port(profile), "default"


def format_ports(ports: Iterable[int]) -> str:
    """`18800-18804, 18810` from a set of ports."""
    items = sorted(set(ports))
    if not items:
        return ""
    runs: list[str] = []
    start = prev = items[0]
    for port in [*items[1:], None]:
        if port is not None and port == prev + 1:
            prev = port
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if port is not None:
            start = prev = port
    return ", ".join(runs)
