"""Doctor checks: each inspects one thing that goes wrong within or between instances.

A check returns findings; a finding may carry a safe `repair` (permissions,
stale locks, service reinstall on drift) that `doctor --fix` applies.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from openclaw.config.store import read_config
from openclaw.config.validate import unknown_sections
from openclaw.config.view import Config
from openclaw.config.view import section as part_of
from openclaw.ports.footprint import format_ports
from openclaw.ports.instances import Instance
from openclaw.profiles.env import expand_user
from openclaw.profiles.names import profile_cli_prefix
from openclaw.profiles.paths import InstancePaths


@dataclass
class Finding:
    check: str
    severity: str  # error | warning | info
    what: str
    why: str
    fix: str  # the exact command (or action) that fixes it
    path: str | None = None
    repair: Callable[[], None] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"checkId": self.check, "severity": self.severity, "message": self.what, "why": self.why,
                "fix": self.fix, "fixable": self.repair is not None, "path": self.path}


@dataclass
class Context:
    paths: InstancePaths
    instances: list[Instance]  # every instance on the host, this one included
    listening: dict[int, int | None] | None
    env: Mapping[str, str]

    @property
    def prefix(self) -> str:
        return self.paths.cli

    def prefix_of(self, inst: Instance) -> str:
        return profile_cli_prefix(inst.profile)

    @cached_property
    def services(self) -> list[Any] | None:
        """Every gateway-like service definition on the host (scanned once per run); None when
        this platform has no service support."""
        from openclaw.services.base import ServiceError, service_platform
        from openclaw.services.scan import scan_services

        try:
            return scan_services(self.paths.home, service_platform(self.env), self.env)
        except ServiceError:
            return None


def check_config(ctx: Context) -> list[Finding]:
    snap = read_config(ctx.paths.config_path, ctx.env)
    path = str(ctx.paths.config_path)
    if not snap.exists:
        return [Finding("config/missing", "error", f"no config at {path}", "the gateway refuses to start without one",
                        f"{ctx.prefix} setup", path)]
    out = [Finding("config/invalid", "error", f"{issue}", "the gateway exits 78 on an invalid config",
                   f"{ctx.prefix} config set|unset <key> (or {ctx.prefix} config rollback)", path)
           for issue in snap.issues]
    if not snap.issues and not snap.get("gateway", "mode"):
        out.append(Finding("config/mode", "warning", "gateway.mode is unset", "gateway start is blocked without it",
                           f"{ctx.prefix} config set gateway.mode local", path))
    for section in unknown_sections(snap.data):
        out.append(Finding("config/ignored-section", "info", f"section `{section}` is kept but not used here",
                           "written by another version or upstream; it has no effect on this gateway",
                           f"{ctx.prefix} config unset {section} (only if you no longer need it)", path))
    if snap.exists and not any(i.path in ("<file>", "<root>") for i in snap.issues):
        out += _upstream_compat(ctx, snap.data, path)
    return out


def _upstream_compat(ctx: Context, data: dict[str, Any], path: str) -> list[Finding]:
    """Keys upstream's schema lacks: the file works here but upstream would refuse it (only a
    feature of ours that was turned on puts them there)."""
    from openclaw.config.keys import upstream_rejects, upstream_tree

    keys = upstream_rejects(data)
    if not keys:
        return []
    shown = ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
    return [Finding("config/upstream-compat", "info", f"upstream OpenClaw {upstream_tree()[0]} would refuse this "
                    f"file: {shown}", "these keys are features of this implementation upstream does not have",
                    f"keep them to use those features here; before running upstream on this file: "
                    f"{ctx.prefix} config unset {keys[0]}", path)]


def _secret_files(paths: InstancePaths) -> list[Path]:
    state = paths.state_dir
    files = [paths.config_path, state / "gateway.systemd.env", state / "gateway.secrets.cmd"]
    files += sorted((state / "service-env").glob("*.env")) if (state / "service-env").is_dir() else []
    return [f for f in files if f.exists()]


def _chmod(path: Path, mode: int) -> Callable[[], None]:
    return lambda: os.chmod(path, mode)


def check_permissions(ctx: Context) -> list[Finding]:
    if os.name == "nt":
        return []
    out = []
    state = ctx.paths.state_dir
    if state.exists() and stat.S_IMODE(state.stat().st_mode) & 0o077:
        out.append(Finding("permissions/state-dir", "warning",
                           f"state dir {state} is mode {stat.S_IMODE(state.stat().st_mode):o}, not 700",
                           "other users could read sessions, logs and credentials", f"chmod 700 {state}",
                           str(state), _chmod(state, 0o700)))
    for path in _secret_files(ctx.paths):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            out.append(Finding("permissions/secret-file", "error", f"{path} is mode {mode:o}, not 600",
                               "it holds the gateway token or other secrets", f"chmod 600 {path}", str(path),
                               _chmod(path, 0o600)))
    return out


def check_port_collisions(ctx: Context) -> list[Finding]:
    from openclaw.ports.planner import plan_base, seed_bases_besides

    out = []
    seen: set[tuple[str, str]] = set()
    for a in ctx.instances:
        for b in ctx.instances:
            key = tuple(sorted((str(a.state_dir), str(b.state_dir))))
            if a is b or key in seen:
                continue
            seen.add(key)  # type: ignore[arg-type]
            shared = a.footprint.overlap(b.footprint)
            if not shared:
                continue
            mover = a if os.path.abspath(a.state_dir) == os.path.abspath(ctx.paths.state_dir) else b
            free = plan_base([i for i in ctx.instances if i is not mover], ctx.listening,
                             reserved=seed_bases_besides(mover.profile)).base
            roles = ", ".join(sorted({a.footprint.role_of(p) for p in shared}))
            out.append(Finding(
                "ports/collision", "error",
                f"{a.name} (base {a.base}) and {b.name} (base {b.base}) share ports {format_ports(shared)} ({roles})",
                "two gateways would fight over these ports: the later one fails to bind, or hands out a CDP "
                "port the other already uses",
                f"{ctx.prefix_of(mover)} config set gateway.port {free}", str(mover.config_path)))
    return out


def _default_workspace(inst: Instance, home: Path) -> str:
    return os.path.abspath(inst.paths(home).default_workspace)


def _config_of(inst: Instance, env: Mapping[str, str]) -> Config:
    return read_config(inst.config_path, env, validate=False).view()


def check_shared_resources(ctx: Context) -> list[Finding]:
    """The same pinned cdpUrl, workspace or state dir claimed by two instances."""
    out = []
    claims: dict[tuple[str, str], list[Instance]] = {}
    for inst in ctx.instances:
        config = _config_of(inst, ctx.env)
        browser = config.browser
        urls = [browser.get("cdpUrl")] + [p.get("cdpUrl") for p in part_of(browser.get("profiles")).values()
                                          if isinstance(p, dict)]
        for url in {u for u in urls if isinstance(u, str) and u}:
            claims.setdefault(("cdpUrl", url), []).append(inst)
        ws = config.agent_defaults.workspace
        if ws:
            claims.setdefault(("workspace", os.path.abspath(expand_user(ws, ctx.env))), []).append(inst)
    for (kind, value), owners in claims.items():
        if len(owners) < 2:
            continue
        names = " and ".join(o.name for o in owners)
        if kind == "cdpUrl":
            out.append(Finding("browser/shared-cdp-url", "warning", f"{names} both pin browser cdpUrl {value}",
                               "two gateways would drive one Chrome and trample each other's tabs",
                               f"{ctx.prefix_of(owners[-1])} config unset browser.cdpUrl (use per-instance cdpPort)",
                               str(owners[-1].config_path)))
        else:
            mover = next((o for o in owners if _default_workspace(o, ctx.paths.home) != value), owners[-1])
            own = _default_workspace(mover, ctx.paths.home)
            out.append(Finding("workspace/shared", "error", f"{names} share the workspace {value}",
                               "agents would overwrite each other's memory and files",
                               f"{ctx.prefix_of(mover)} config set agents.defaults.workspace {own}",
                               str(mover.config_path)))
    return out


def check_stale_locks(ctx: Context) -> list[Finding]:
    from openclaw.profiles.lockfiles import config_lock_path, lock_is_stale

    candidates = sorted(ctx.paths.lock_dir.glob("*.lock")) if ctx.paths.lock_dir.is_dir() else []
    config_lock = config_lock_path(ctx.paths.config_path)
    if config_lock.exists():
        candidates.append(config_lock)
    out = []
    for path in candidates:
        if lock_is_stale(path):
            out.append(Finding("locks/stale", "warning", f"stale gateway lock {path} (its process is gone)",
                               "harmless to the next start, but it misleads tools that read lock files",
                               f"rm {path}", str(path), _remove(path)))
    return out


def _remove(path: Path) -> Callable[[], None]:
    return lambda: path.unlink(missing_ok=True)


def check_services(ctx: Context) -> list[Finding]:
    from openclaw.services.lifecycle import install, service_view

    def reinstall() -> None:
        install(ctx.paths, ctx.env, force=True)

    out = []
    view = service_view(ctx.paths, ctx.env)
    if view.get("drift"):
        out.append(Finding("service/drift", "warning",
                           f"{view['name']} runs port {view['installedPort']}, config says {view['configPort']}",
                           _SERVICE_WHY["port"], f"{ctx.prefix} gateway install --force", view["file"], reinstall))
    for svc in ctx.services or []:
        for problem in svc.problems:
            kind = problem.split()[0].rstrip(":")
            if kind == "port" and view.get("file") == str(svc.path):
                continue  # this profile's drift: reported (and fixable) above
            out.append(Finding(f"service/{kind}", "error" if kind == "duplicate" else "warning",
                               f"{svc.name}: {problem}", _SERVICE_WHY[kind], _service_fix(svc), str(svc.path)))
    return out


_SERVICE_WHY = {
    "stale": "it restarts a gateway for a profile that no longer exists",
    "port": "clients follow the config and will not find the gateway the service runs",
    "duplicate": "two service managers would start and restart the same gateway against each other",
    "legacy": "an old install's service can start a second gateway on the same ports",
}


def _service_fix(svc: Any) -> str:
    if svc.platform == "linux":
        scope = "sudo systemctl" if svc.scope == "system" else "systemctl --user"
        return f"{scope} disable --now {svc.name} && rm {svc.path}"
    if svc.platform == "darwin":
        return f"launchctl bootout gui/$UID/{svc.name} && rm {svc.path}"
    return f'schtasks /Delete /TN "{svc.name}" /F'


def check_shared_state(ctx: Context) -> list[Finding]:
    """Service definitions that point two gateways (or another profile) at one state dir."""
    from openclaw.profiles.names import state_dir_name

    if ctx.services is None:
        return []
    services = [s for s in ctx.services if s.state_dir and not s.legacy]
    out = []
    by_dir: dict[str, set[str]] = {}
    for svc in services:
        by_dir.setdefault(os.path.abspath(svc.state_dir), set()).add(svc.name)
        expected = state_dir_name(svc.profile)
        if svc.state_dir.name != expected and svc.state_dir.name.startswith(".openclaw"):
            out.append(Finding("state/foreign", "error",
                               f"{svc.name} (profile {svc.profile or 'default'}) uses the state dir {svc.state_dir}",
                               "that state dir belongs to another instance: sessions, credentials and locks collide",
                               f"{profile_cli_prefix(svc.profile)} gateway install --force", str(svc.path)))
    for state, names in by_dir.items():
        if len(names) > 1:
            listed = ", ".join(sorted(names))
            out.append(Finding("state/shared", "error", f"services {listed} share the state dir {state}",
                               "only one gateway may own a state dir; the others fail on its lock or corrupt it",
                               f"remove all but one of them ({listed})", state))
    return out


def check_isolation(ctx: Context) -> list[Finding]:
    """Config paths of any instance that serve or write into a state dir (this one's included)."""
    from openclaw.ports.instances import host_state_dirs
    from openclaw.profiles.isolation import isolation_issues

    state_dirs = host_state_dirs(ctx.paths) + [i.state_dir for i in ctx.instances]
    out = []
    for inst in ctx.instances:
        for issue in isolation_issues(_config_of(inst, ctx.env), state_dirs, ctx.env):
            out.append(Finding("isolation/state-dir", "error", f"{inst.name}: {issue}",
                               "that instance would serve or overwrite an instance's config, credentials and logs; "
                               "its gateway refuses to start with it",
                               f"{ctx.prefix_of(inst)} config unset {issue.path}", str(inst.config_path)))
    return out


def _named_models(config: Config) -> list[tuple[str, str, str | None]]:
    """(where, ref text, provider a bare fallback name defaults to) for every model the config names."""
    out: list[tuple[str, str, str | None]] = []
    owners = [("agents.defaults.model", None)] + [(f"{a.where}.model", a.id) for a in config.agents
                                                  if a.model and a.where]
    for where, agent in owners:
        choice = config.model_choice(agent)
        primary = choice.primary
        head = primary.split("/", 1)[0] if primary and "/" in primary else None
        out += [(where, primary, None)] if primary else []
        out += [(f"{where} fallback", f, head) for f in choice.fallbacks]
    aliases = config.agent_defaults.aliases
    out += [(f"agents.defaults.models.{ref} (alias {alias})", ref, None) for alias, ref in aliases.items()]
    return out


def check_models(ctx: Context) -> list[Finding]:
    """Every model the config names resolves to a provider, and that provider has its key."""
    from openclaw.models.catalog import APIS, env_key_name, parse_ref, providers
    from openclaw.models.types import ModelError

    config = read_config(ctx.paths.config_path, ctx.env, validate=False).view()
    path = str(ctx.paths.config_path)
    try:
        known = providers(config, ctx.env)
    except ModelError as exc:
        return [Finding("models/provider", "error", str(exc), "no turn can run with this provider",
                        f"{ctx.prefix} config set models.providers.<id>.apiKey ...", path)]
    out, reported = [], set()
    for where, text, default_provider in _named_models(config):
        try:
            ref = parse_ref(text, config, known, default_provider)
        except ModelError as exc:
            out.append(Finding("models/unresolved", "error", f"{where}: {exc}", "turns that use it fail",
                               f"{ctx.prefix} config set {where.split(' ')[0]} ... (a provider/model ref)", path))
            continue
        if ref.provider not in reported:
            reported.add(ref.provider)
            severity = "error" if where.endswith(".model") else "warning"  # a fallback or alias is not every turn
            out += _provider_findings(ctx, known[ref.provider], f"{where} uses {ref}", APIS,
                                      env_key_name(ref.provider), path, severity)
    return out


def _provider_findings(ctx: Context, provider: Any, use: str, apis: tuple[str, ...], env_name: str,
                       path: str, severity: str) -> list[Finding]:
    out = []
    if provider.api not in apis:
        out.append(Finding("models/api", severity, f"{use}, but api {provider.api!r} of {provider.id} is not "
                           "supported", "its turns fail", f"{ctx.prefix} config set models.providers.{provider.id}.api "
                           "openai-completions (or anthropic-messages)", path))
    if not provider.has_key:
        source = provider.key_source if provider.key_source.startswith(("file:", "env:")) else f"${env_name}"
        out.append(Finding("models/no-key", severity, f"{use}, but {provider.id} has no API key (looked in {source} "
                           f"and models.providers.{provider.id}.apiKey)",
                           "its turns fail before reaching the provider; a managed service sees only the variables "
                           "in its own environment",
                           f"export {env_name}=... (or {ctx.prefix} config set models.providers.{provider.id}.apiKey "
                           "...)", path))
    return out


LEFTOVER_SKIP = ("browser", "media", "logs")  # big or never written atomically


def _state_subdirs(state: Path, depth: int = 3) -> list[Path]:
    dirs = []
    for root, subdirs, _ in os.walk(state):
        level = len(Path(root).relative_to(state).parts)
        subdirs[:] = [] if level >= depth else [d for d in subdirs if d not in LEFTOVER_SKIP
                                                   and not d.startswith("workspace")]
        dirs.append(Path(root))
    return dirs


def check_leftover_temps(ctx: Context) -> list[Finding]:
    """Temp files of writes that were killed midway (they may hold a copy of the config's token)."""
    from openclaw.fsutil import leftover_temps

    where = {ctx.paths.config_path.parent, *_state_subdirs(ctx.paths.state_dir)}
    out = []
    for path in sorted(p for d in where for p in leftover_temps(d)):
        out.append(Finding("files/leftover-temp", "warning", f"leftover temp file {path} from an interrupted write",
                           "it may hold a copy of secrets; the next write of that file removes it too",
                           f"rm {path}", str(path), _remove(path)))
    return out


CHECKS: list[Callable[[Context], list[Finding]]] = [
    check_config, check_permissions, check_port_collisions, check_shared_resources, check_shared_state,
    check_isolation, check_stale_locks, check_leftover_temps, check_services, check_models,
]
