"""Every instance on this host: state dirs under home plus gateways found running.

The running-gateway registry is shared by every HOME of this user: gateways another HOME runs
are port neighbours (they hold ports a plan must avoid), never instances to list, operate or deploy.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.model import Issue
from openclaw.config.store import read_config
from openclaw.config.view import Config, section
from openclaw.ports.footprint import Footprint, footprint_for, format_ports, resolve_base_port
from openclaw.ports.registry import owned_by, record_for, running_gateways
from openclaw.procutil import pid_alive
from openclaw.profiles.isolation import isolation_issues, state_dirs_near
from openclaw.profiles.names import display_name
from openclaw.profiles.paths import InstancePaths, paths_for_state_dir


@dataclass
class Collision:
    other: str
    ports: list[int]
    kind: str = "instance"  # or "socket"
    pid: int | None = None

    def describe(self) -> str:
        if self.kind == "socket":
            owner = f" (pid {self.pid})" if self.pid else ""
            return f"port {format_ports(self.ports)} in use by another process{owner}"
        return f"overlaps {self.other} on {format_ports(self.ports)}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "other": self.other, "ports": self.ports, "pid": self.pid}


@dataclass
class Instance:
    name: str
    profile: str | None
    state_dir: Path
    config_path: Path
    base: int
    port_source: str
    footprint: Footprint
    pid: int | None = None
    running: bool = False
    healthy: bool | None = None
    config_error: str | None = None
    collisions: list[Collision] = field(default_factory=list)
    browser_profiles: list[dict[str, Any]] = field(default_factory=list)
    listening: dict[str, bool] = field(default_factory=dict)  # base / control / canvas, filled by the caller
    implementation: str | None = None  # python (ours) | upstream, while running
    neighbour: bool = False  # run by another HOME: it occupies ports, it is not this HOME's to manage
    home: str | None = None  # a neighbour's HOME, as its registry entry recorded it

    @property
    def label(self) -> str:
        """The name to show: a neighbour's says whose HOME it runs for (names repeat across HOMEs)."""
        if not self.neighbour:
            return self.name
        return f"{self.name} of HOME {self.home}" if self.home else f"{self.name} at {self.state_dir}"

    def paths(self, home: Path) -> InstancePaths:
        """This instance's paths, for the operations that take one (services, workspace, rescue)."""
        return InstancePaths(self.profile, home, self.state_dir, self.config_path, False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "stateDir": str(self.state_dir),
            "configPath": str(self.config_path),
            "base": self.base,
            "portSource": self.port_source,
            "control": self.footprint.control,
            "canvas": self.footprint.canvas,
            "cdpRange": [self.footprint.cdp_start, self.footprint.cdp_end],
            "pid": self.pid,
            "running": self.running,
            "healthy": self.healthy,
            "configError": self.config_error,
            "collisions": [c.as_dict() for c in self.collisions],
            "browserProfiles": self.browser_profiles,
            "baseListening": self.listening.get("base"),
            "controlListening": self.listening.get("control"),
            "canvasListening": self.listening.get("canvas"),
            "implementation": self.implementation,
            "neighbour": self.neighbour,
            "home": self.home,
        }


def _same(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def state_dirs_under(home: Path) -> list[Path]:
    """`~/.openclaw` and `~/.openclaw-*` that hold a config or have run a gateway."""
    out: list[Path] = []
    try:
        entries = sorted(home.iterdir())
    except OSError:
        return out
    for entry in entries:
        if entry.name != ".openclaw" and not entry.name.startswith(".openclaw-"):
            continue
        if entry.is_dir() and ((entry / "openclaw.json").exists() or (entry / "tmp").is_dir()):
            out.append(entry)
    return out


def host_state_dirs(paths: InstancePaths) -> list[Path]:
    """Every state dir this host shows: this instance's, those under home, those of running gateways."""
    running = [Path(r["stateDir"]) for r in running_gateways() if isinstance(r.get("stateDir"), str)]
    return state_dirs_near(paths.home, paths.state_dir, running)


def isolation_check(paths: InstancePaths,
                    env: Mapping[str, str]) -> Callable[[Config], list[Issue]]:
    """A config check for `update_config`: paths that would expose or overwrite a state dir."""

    def check(config: Config) -> list[Issue]:
        return isolation_issues(config, host_state_dirs(paths), env)

    return check


def instance_from_paths(paths: InstancePaths, env: Mapping[str, str], record: dict[str, Any] | None = None) -> Instance:
    snap = read_config(paths.config_path, env, validate=False)
    error = "; ".join(str(i) for i in snap.issues) or None
    if record:
        base, source = int(record["port"]), "running"
    else:
        base, source = resolve_base_port(None, snap.view(), paths.profile, env={})
    inst = Instance(
        name=paths.name if not paths.custom_state else _custom_name(paths),
        profile=paths.profile,
        state_dir=paths.state_dir,
        config_path=paths.config_path,
        base=base,
        port_source=source,
        footprint=_record_footprint(record) or footprint_for(base, snap.view()),
        config_error=error,
        browser_profiles=_browser_profiles(snap.view()),
    )
    if record:
        inst.pid, inst.running = int(record["pid"]), True
        inst.implementation = "python" if record.get("role") == "gateway" or "footprint" in record else "upstream"
    return inst


def lock_record(paths: InstancePaths) -> dict[str, Any] | None:
    """A live gateway's state lock (`<state>/tmp/openclaw-<uid>/gateway.state.lock`): ours, or one
    upstream's gateway holds (same path; JSON with pid and port, padded). None if absent or dead."""
    try:
        text = (paths.lock_dir / "gateway.state.lock").read_text(errors="replace").strip()
        data, _ = json.JSONDecoder().raw_decode(text)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int) or not isinstance(data.get("port"), int):
        return None
    if isinstance(data.get("startMarker"), str):  # ours: a recycled pid is not the gateway that wrote it
        return data if pid_alive(data["pid"], data["startMarker"]) else None
    if isinstance(data.get("startTime"), int) and sys.platform.startswith("linux"):
        # upstream's: its start time in clock ticks, which is what our marker is on Linux
        return data if pid_alive(data["pid"], str(data["startTime"])) else None
    try:
        os.kill(data["pid"], 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    return data


def _browser_profiles(config: Config) -> list[dict[str, Any]]:
    return [{"name": name, "cdpPort": p.get("cdpPort"), "cdpUrl": p.get("cdpUrl")}
            for name, p in section(config.browser.get("profiles")).items() if isinstance(p, dict)]


def _custom_name(paths: InstancePaths) -> str:
    return display_name(paths.profile) if paths.profile else str(paths.state_dir)


def _record_footprint(record: dict[str, Any] | None) -> Footprint | None:
    if not record or "footprint" not in record:
        return None
    fp = record["footprint"]
    start, end = fp["cdpRange"]
    return Footprint(fp["base"], fp["control"], fp["canvas"], start, end, tuple(fp.get("cdpPorts", [])))


def discover_instances(home: Path, env: Mapping[str, str], include: Iterable[InstancePaths] = (),
                       neighbours: bool = False) -> list[Instance]:
    """Instances under `home`, its running gateways from the registry, and any extra `include`;
    with `neighbours`, other HOMEs' running gateways too (marked), for whoever plans ports."""
    everything = running_gateways()
    records = [r for r in everything if owned_by(r, home)]
    seen: list[Instance] = []

    candidates = [paths_for_state_dir(d, home) for d in state_dirs_under(home)]
    candidates += list(include)
    for rec in records:
        state = Path(rec["stateDir"])
        if not any(_same(c.state_dir, state) for c in candidates):
            candidates.append(_paths_from_record(rec, home))
    for paths in candidates:
        if any(_same(i.state_dir, paths.state_dir) for i in seen):
            continue
        seen.append(instance_from_paths(paths, env, record_for(paths.state_dir, records) or lock_record(paths)))
    return seen + (port_neighbours(home, env, everything) if neighbours else [])


def port_neighbours(home: Path, env: Mapping[str, str], records: list[dict[str, Any]] | None = None) -> list[Instance]:
    """Gateways other HOMEs run on this host (from the shared registry): what they occupy."""
    out = []
    for rec in running_gateways() if records is None else records:
        if owned_by(rec, home):
            continue
        owner = rec.get("home") if isinstance(rec.get("home"), str) else None
        inst = instance_from_paths(_paths_from_record(rec, Path(owner) if owner else home), env, rec)
        inst.neighbour, inst.home = True, owner
        out.append(inst)
    return out


def other_instances(paths: InstancePaths, env: Mapping[str, str]) -> list[Instance]:
    """Every instance on the host but this one, other HOMEs' included: what a port plan must avoid."""
    mine = os.path.abspath(paths.state_dir)
    return [i for i in discover_instances(paths.home, env, neighbours=True) if os.path.abspath(i.state_dir) != mine]


def _paths_from_record(rec: dict[str, Any], home: Path) -> InstancePaths:
    state = Path(rec["stateDir"])
    profile = rec.get("profile") or None
    canonical = home / (".openclaw" if not profile else f".openclaw-{profile}")
    config = rec.get("configPath")
    config_path = Path(config) if isinstance(config, str) else state / "openclaw.json"
    return InstancePaths(profile, home, state, config_path, not _same(state, canonical))


def check_health(instances: list[Instance], timeout: float = 0.8) -> None:
    """Fill `healthy` for running instances with a concurrent `/healthz` probe."""
    running = [i for i in instances if i.running]
    if not running:
        return
    with ThreadPoolExecutor(max_workers=min(16, len(running))) as pool:
        for inst, ok in zip(running, pool.map(lambda i: healthz(i.base, timeout=timeout), running), strict=True):
            inst.healthy = ok


def healthz(port: int, host: str = "127.0.0.1", timeout: float = 0.8) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        body = json.loads(resp.read(1025) or b"{}")
        return resp.status == 200 and body.get("ok") is True and body.get("status") == "live"
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()
