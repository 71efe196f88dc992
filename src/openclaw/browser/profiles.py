"""Browser profiles: which Chromium each profile drives, and its CDP port.

A managed profile gets the first free port of its instance's CDP range the
first time it is used; the choice is written to `browser.profiles.<name>.cdpPort`
so it never moves. A `cdpUrl` profile attaches to a Chrome someone else runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openclaw.browser.errors import BrowserError
from openclaw.config.view import Config, section
from openclaw.ports.footprint import Footprint

DEFAULT_PROFILE = "openclaw"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PALETTE = ("#FF4500", "#0066CC", "#00AA00", "#9933FF", "#FF6699", "#00CCCC", "#FF9900", "#6666FF", "#CC3366",
           "#339966")


@dataclass(frozen=True)
class BrowserProfile:
    name: str
    cdp_port: int | None
    cdp_url: str
    color: str
    remote: bool
    user_data_dir: Path | None
    configured: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cdpPort": self.cdp_port, "cdpUrl": self.cdp_url, "color": self.color,
                "isRemote": self.remote, "transport": "cdp", "driver": "openclaw",
                "userDataDir": str(self.user_data_dir) if self.user_data_dir else None}


@dataclass(frozen=True)
class BrowserConfig:
    """`browser.*` resolved against one instance (its state dir and footprint)."""

    enabled: bool
    control_port: int
    cdp_start: int
    cdp_end: int
    headless: bool | None
    executable_path: str | None
    default_profile: str
    cdp_url: str | None
    profiles: dict[str, dict[str, Any]]
    state_dir: Path
    no_sandbox: bool = False  # `browser.noSandbox`: containers refuse Chromium's sandbox

    @classmethod
    def from_config(cls, config: Config, footprint: Footprint, state_dir: Path) -> BrowserConfig:
        browser = config.browser
        profiles = section(browser.get("profiles"))
        return cls(
            enabled=browser.get("enabled", True) is not False,
            control_port=footprint.control,
            cdp_start=footprint.cdp_start,
            cdp_end=footprint.cdp_end,
            headless=browser.get("headless") if isinstance(browser.get("headless"), bool) else None,
            executable_path=browser.get("executablePath") or None,
            no_sandbox=browser.get("noSandbox") is True,
            default_profile=browser.get("defaultProfile") or DEFAULT_PROFILE,
            cdp_url=browser.get("cdpUrl") or None,
            profiles={k: v for k, v in profiles.items() if isinstance(v, dict)},
            state_dir=state_dir,
        )

    def user_data_dir(self, name: str) -> Path:
        return self.state_dir / "browser" / name / "user-data"

    def names(self) -> list[str]:
        names = list(self.profiles)
        if self.default_profile not in names:
            names.insert(0, self.default_profile)
        return names

    def resolve(self, name: str) -> BrowserProfile:
        """A profile from config; the default profile exists even before it is configured."""
        raw = self.profiles.get(name)
        if raw is None and name != self.default_profile:
            raise BrowserError(404, "PROFILE_NOT_FOUND", f'browser profile "{name}" not found')
        configured = name in self.profiles
        raw = raw or {}
        color = raw.get("color") or self.color_of(name)
        url = raw.get("cdpUrl") or (self.cdp_url if name == self.default_profile and not raw.get("cdpPort") else None)
        if url:
            return BrowserProfile(name, _url_port(url), url, color, True, None, configured)
        port = raw.get("cdpPort")
        cdp_url = f"http://127.0.0.1:{port}" if port else ""
        return BrowserProfile(name, port, cdp_url, color, False, self.user_data_dir(name), configured)

    def color_of(self, name: str) -> str:
        """A profile's colour, derived from its place among the profiles (the default first), never
        stored: upstream's schema has no `color` key. One set by hand is honoured."""
        order = [self.default_profile] + [n for n in self.profiles if n != self.default_profile]
        index = order.index(name) if name in order else len(order)
        return PALETTE[index % len(PALETTE)]

    def used_ports(self) -> set[int]:
        ports = set()
        for raw in self.profiles.values():
            if isinstance(raw.get("cdpPort"), int):
                ports.add(raw["cdpPort"])
            elif raw.get("cdpUrl"):
                port = _url_port(raw["cdpUrl"])
                if port:
                    ports.add(port)
        return ports


def _url_port(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.port:
        return parts.port
    return {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(parts.scheme)


def check_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise BrowserError(400, "INVALID_PROFILE_NAME",
                           "profile names use lowercase letters, digits and '-' (at most 64 characters)")


def first_free_port(cfg: BrowserConfig, taken: Iterable[int]) -> int:
    """The first port of this instance's CDP range that nothing else uses."""
    blocked = set(taken) | cfg.used_ports()
    for port in range(cfg.cdp_start, cfg.cdp_end + 1):
        if port not in blocked:
            return port
    raise BrowserError(507, "NO_CDP_PORT", f"no available CDP ports in range {cfg.cdp_start}-{cfg.cdp_end}")


def summary(cfg: BrowserConfig, browsers: dict[str, Any]) -> dict[str, Any]:
    """For status: the control port and each profile's CDP port (no network calls)."""
    profiles = []
    for name in cfg.names():
        prof = cfg.resolve(name)
        browser = browsers.get(name)
        profiles.append({"name": name, "cdpPort": prof.cdp_port, "cdpUrl": prof.cdp_url or None,
                         "remote": prof.remote, "running": bool(browser and browser.alive()),
                         "pid": browser.pid if browser else None})
    return {"enabled": cfg.enabled, "controlPort": cfg.control_port, "cdpRange": [cfg.cdp_start, cfg.cdp_end],
            "defaultProfile": cfg.default_profile, "profiles": profiles}
