"""`gateway status --deep` and `doctor`: every gateway-like service on this host, and what is wrong
with it (a profile whose state dir is gone, a port that drifted, a user/system duplicate)."""

from __future__ import annotations

import plistlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.store import read_config
from openclaw.ports.footprint import resolve_base_port
from openclaw.services.spec import port_from_text

MARKERS = ("openclaw", "clawdbot", "moltbot")
LEGACY = ("clawdbot", "moltbot")
_ENV_LINE = re.compile(r'^Environment="?([A-Z0-9_]+)=(.*?)"?\s*$', re.M)


@dataclass
class FoundService:
    platform: str
    scope: str  # user | system
    name: str
    path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    legacy: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path | None:
        value = self.env.get("OPENCLAW_STATE_DIR")
        return Path(value) if value else None

    @property
    def profile(self) -> str | None:
        return self.env.get("OPENCLAW_PROFILE") or None

    def as_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "scope": self.scope, "name": self.name, "path": str(self.path),
                "profile": self.profile, "stateDir": str(self.state_dir) if self.state_dir else None,
                "port": self.port, "legacy": self.legacy, "problems": self.problems}


def _systemd_units(home: Path, env: Mapping[str, str]) -> list[FoundService]:
    from openclaw.services.systemd import system_unit_dirs, user_unit_dir

    found = []
    for scope, directory in [("user", user_unit_dir(home, env))] + [("system", d) for d in system_unit_dirs(env)]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.service")):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            lowered = text.lower() + path.name.lower()
            if not any(m in lowered for m in MARKERS):
                continue
            env = {k: v.replace('\\"', '"') for k, v in _ENV_LINE.findall(text)}
            found.append(FoundService("linux", scope, path.name, path, env, port_from_text(text),
                                      legacy=any(m in lowered for m in LEGACY) and "openclaw" not in lowered))
    return found


def _launchd_plists(home: Path, env: Mapping[str, str]) -> list[FoundService]:
    from openclaw.services.launchd import agents_dir, daemons_dir, port_from_args

    found = []
    for scope, directory in (("user", agents_dir(home)), ("system", daemons_dir(env))):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.plist")):
            if not any(m in path.name.lower() for m in MARKERS):
                continue
            try:
                data = plistlib.loads(path.read_bytes())
            except (OSError, plistlib.InvalidFileException, ValueError):
                data = {}
            port = port_from_args(data.get("ProgramArguments") or [])
            env = {str(k): str(v) for k, v in (data.get("EnvironmentVariables") or {}).items()}
            found.append(FoundService("darwin", scope, str(data.get("Label") or path.stem), path, env, port,
                                      legacy=any(m in path.name.lower() for m in LEGACY)))
    return found


def _diagnose(services: list[FoundService], env: Mapping[str, str]) -> None:
    names: dict[str, list[FoundService]] = {}
    for svc in services:
        names.setdefault(svc.name, []).append(svc)
        if svc.legacy:
            svc.problems.append("legacy service from an older install")
        state = svc.state_dir
        if state is not None and not state.exists():
            svc.problems.append(f"stale: its state dir {state} is gone")
        elif state is not None and svc.port:
            config = Path(svc.env.get("OPENCLAW_CONFIG_PATH") or state / "openclaw.json")
            snap = read_config(config, env, validate=False)
            config_port = resolve_base_port(None, snap.view(), svc.profile, env={})[0]
            if config_port != svc.port:
                svc.problems.append(f"port drift: service runs {svc.port}, config says {config_port}")
    for same in names.values():
        scopes = {s.scope for s in same}
        if len(scopes) > 1:
            for svc in same:
                other = next(o for o in same if o.scope != svc.scope)
                svc.problems.append(f"duplicate: also installed as a {other.scope} service ({other.path})")


def scan_services(home: Path, platform: str, env: Mapping[str, str]) -> list[FoundService]:
    if platform == "linux":
        services = _systemd_units(home, env)
    elif platform == "darwin":
        services = _launchd_plists(home, env)
    else:
        services = _scheduled_tasks()
    _diagnose(services, env)
    return services


def _scheduled_tasks() -> list[FoundService]:
    from openclaw.services.base import NoServiceManager, run

    try:
        proc = run(["schtasks", "/Query", "/FO", "CSV", "/NH"], check=False)
    except NoServiceManager:
        return []
    found = []
    for line in proc.stdout.splitlines():
        name = line.split(",")[0].strip('"').lstrip("\\")
        if name.startswith("OpenClaw Gateway"):
            found.append(FoundService("win32", "user", name, Path(name)))
    return found
