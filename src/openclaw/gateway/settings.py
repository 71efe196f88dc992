"""Everything a gateway run needs, resolved once from flags, environment and config.

Precedence everywhere: flag, then environment, then config, then default.
Problems that are the config's fault raise `ConfigError` (exit 78).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from openclaw.config.model import ConfigSnapshot
from openclaw.config.store import format_issues, read_config
from openclaw.config.validated import RECORD as VALIDATED_RECORD
from openclaw.config.view import Config
from openclaw.errors import ConfigError
from openclaw.gateway.limits import Limits
from openclaw.locality import is_loopback_name
from openclaw.ports.footprint import Footprint, footprint_for, resolve_base_port
from openclaw.ports.instances import isolation_check
from openclaw.profiles.paths import InstancePaths
from openclaw.sharedsecret import AuthConfig

BIND_MODES = ("loopback", "lan", "tailnet", "auto", "custom")


@dataclass(frozen=True)
class RunOptions:
    """Flags of `openclaw gateway`."""

    port: int | None = None
    bind: str | None = None
    token: str | None = None
    password: str | None = None
    allow_unconfigured: bool = False
    force: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class GatewaySettings:
    paths: InstancePaths
    snapshot: ConfigSnapshot
    port: int
    port_source: str
    bind_mode: str
    bind_hosts: tuple[str, ...]
    auth: AuthConfig
    footprint: Footprint
    reload_mode: str
    options: RunOptions = field(default_factory=RunOptions)
    limits: Limits = field(default_factory=Limits)
    allowed_origins: tuple[str, ...] = ()  # gateway.controlUi.allowedOrigins

    @property
    def bind_host(self) -> str:
        return self.bind_hosts[0]

    @property
    def config(self) -> Config:
        """The typed view of the config this run was resolved from."""
        return self.snapshot.view()

    @property
    def url(self) -> str:
        return f"ws://{self.bind_host}:{self.port}"


def _start_guard(snap: ConfigSnapshot, paths: InstancePaths, opts: RunOptions) -> None:
    if opts.allow_unconfigured:
        return
    setup = f"{paths.cli} setup"
    if not snap.exists:
        raise ConfigError(
            f"Missing config. Run `{setup}` or set gateway.mode=local (or pass --allow-unconfigured)."
        )
    mode = snap.get("gateway", "mode")
    if not mode:
        raise ConfigError(
            "Gateway start blocked: existing config is missing gateway.mode. Treat this as suspicious or "
            f"clobbered config. Re-run `{setup}` to set gateway.mode=local, or pass --allow-unconfigured."
        )
    if mode != "local":
        raise ConfigError(f"Gateway start blocked: set gateway.mode=local (current: {mode}) "
                          "or pass --allow-unconfigured.")


def in_container() -> bool:
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    try:
        with open("/proc/1/cgroup", encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return False
    return any(word in text for word in ("docker", "kubepods", "containerd", "lxc"))


def _tailnet_ip() -> str | None:
    import psutil

    net = ipaddress.IPv4Network("100.64.0.0/10")
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            try:
                address: str = addr.address
                if addr.family.name == "AF_INET" and ipaddress.IPv4Address(address) in net:
                    return address
            except ValueError:
                continue
    return None


def bind_hosts_for(mode: str, custom_host: str | None) -> tuple[str, ...]:
    if mode == "loopback":
        return ("127.0.0.1",)
    if mode == "lan":
        return ("0.0.0.0",)
    if mode == "auto":
        return ("0.0.0.0",) if in_container() else ("127.0.0.1",)
    if mode == "tailnet":
        ip = _tailnet_ip()
        return (ip, "127.0.0.1") if ip else ("127.0.0.1",)
    host = custom_host or "0.0.0.0"
    return (host,) if host in ("0.0.0.0", "127.0.0.1") else (host, "127.0.0.1")


def _auth_config(snap: ConfigSnapshot, opts: RunOptions, env: Mapping[str, str]) -> AuthConfig:
    token = opts.token or env.get("OPENCLAW_GATEWAY_TOKEN") or snap.get("gateway", "auth", "token")
    password = opts.password or env.get("OPENCLAW_GATEWAY_PASSWORD") or snap.get("gateway", "auth", "password")
    mode = snap.get("gateway", "auth", "mode")
    if opts.password and not opts.token:
        mode = "password"
    elif opts.token and not opts.password and mode != "password":
        mode = "token"
    elif not mode:
        mode = "password" if password else "token"
    return AuthConfig(mode, token or None, password or None)


def _has_auth(auth: AuthConfig) -> bool:
    if auth.mode == "token":
        return bool(auth.token)
    if auth.mode == "password":
        return bool(auth.password)
    return False


def resolve_settings(
    paths: InstancePaths, opts: RunOptions, env: Mapping[str, str], snap: ConfigSnapshot | None = None
) -> GatewaySettings:
    snap = snap or read_config(paths.config_path, env, valid_record=paths.history_dir / VALIDATED_RECORD)
    issues = snap.issues or isolation_check(paths, env)(snap.view())
    if issues:
        raise ConfigError(
            format_issues(paths.config_path, issues)
            + "\nFix it with `openclaw config set|unset`, or restore the last good one with "
            f"`{paths.cli} config rollback`."
        )
    _start_guard(snap, paths, opts)
    port, source = resolve_base_port(opts.port, snap.view(), paths.profile, env)
    bind_mode = opts.bind or snap.get("gateway", "bind") or "loopback"
    if bind_mode not in BIND_MODES:
        raise ConfigError(f"invalid --bind {bind_mode!r}; use one of {', '.join(BIND_MODES)}")
    hosts = bind_hosts_for(bind_mode, snap.get("gateway", "customBindHost"))
    auth = _auth_config(snap, opts, env)
    if not is_loopback_name(hosts[0]) and not _has_auth(auth):
        raise ConfigError(
            f"refusing to bind gateway to {hosts[0]}:{port} without auth (set gateway.auth.token/password, "
            "or set OPENCLAW_GATEWAY_TOKEN/OPENCLAW_GATEWAY_PASSWORD; legacy CLAWDBOT_* and MOLTBOT_* "
            "environment variables are ignored)"
        )
    reload_mode = "off" if snap.get("gateway", "reload", "mode") == "off" else "hybrid"
    return GatewaySettings(
        paths=paths,
        snapshot=snap,
        port=port,
        port_source=source,
        bind_mode=bind_mode,
        bind_hosts=hosts,
        auth=auth,
        footprint=footprint_for(port, snap.view()),
        reload_mode=reload_mode,
        options=opts,
        limits=Limits.from_env(env),
        allowed_origins=tuple(snap.get("gateway", "controlUi", "allowedOrigins") or ()),
    )
