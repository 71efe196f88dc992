"""Which gateway a client command talks to, and with which credentials.

Local mode reads the profile's config (port, token) without validating the
schema, so a broken config never stops `status` from reaching a gateway.
`gateway.mode: remote` with `gateway.remote.url` points every client command at
that URL with `gateway.remote.token`/`password`, as upstream's CLI does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from openclaw.config.store import read_config
from openclaw.errors import UsageError
from openclaw.ports.footprint import resolve_base_port
from openclaw.profiles.paths import InstancePaths


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None
    password: str | None
    port: int | None
    port_source: str
    explicit_url: bool
    paths: InstancePaths

    @property
    def http_base(self) -> str:
        return self.url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")

    @property
    def start_hint(self) -> str:
        return f"{self.paths.cli} gateway"


def resolve_target(
    paths: InstancePaths,
    env: Mapping[str, str],
    url: str | None = None,
    token: str | None = None,
    password: str | None = None,
    port: int | None = None,
) -> Target:
    explicit = url or (env.get("OPENCLAW_GATEWAY_URL") if port is None else None)
    if explicit:
        if not explicit.startswith(("ws://", "wss://")):
            raise UsageError(f"--url must start with ws:// or wss:// (got {explicit})")
        # an explicit URL never borrows the profile's credentials
        return Target(explicit, token, password, None, "url", True, paths)
    snap = read_config(paths.config_path, env, validate=False)
    remote = _str(snap.get("gateway", "remote", "url")) if snap.get("gateway", "mode") == "remote" else None
    if remote and port is None:
        return _remote(paths, remote,
                       token or env.get("OPENCLAW_GATEWAY_TOKEN") or _str(snap.get("gateway", "remote", "token")),
                       password or env.get("OPENCLAW_GATEWAY_PASSWORD")
                       or _str(snap.get("gateway", "remote", "password")))
    resolved_port, source = resolve_base_port(port, snap.view(), paths.profile, env)
    if source == "default":
        running = _running_port(paths)
        if running is not None:
            resolved_port, source = running, "running"
    tok = token or env.get("OPENCLAW_GATEWAY_TOKEN") or _str(snap.get("gateway", "auth", "token"))
    pw = password or env.get("OPENCLAW_GATEWAY_PASSWORD") or _str(snap.get("gateway", "auth", "password"))
    return Target(f"ws://127.0.0.1:{resolved_port}", tok, pw, resolved_port, source, False, paths)


def _remote(paths: InstancePaths, url: str, token: str | None, password: str | None) -> Target:
    """The configured remote gateway, with the remote credentials (flags, then the environment, then
    `gateway.remote.*`, as for a local gateway); never the local gateway's."""
    if not url.startswith(("ws://", "wss://")):
        raise UsageError(f"gateway.remote.url must start with ws:// or wss:// (got {url}); fix it with: "
                         f"{paths.cli} config set gateway.remote.url wss://host:port")
    try:
        port = urlsplit(url).port
    except ValueError:
        raise UsageError(f"gateway.remote.url has a bad port: {url}") from None
    return Target(url, token, password, port, "remote", True, paths)


def _running_port(paths: InstancePaths) -> int | None:
    """The port this state dir's gateway is actually serving on (config unreadable or portless)."""
    from openclaw.ports.registry import record_for

    record = record_for(paths.state_dir)
    if record:
        return int(record["port"])
    from openclaw.ports.instances import lock_record

    held = lock_record(paths)  # upstream's gateway registers nowhere but in its lock
    return int(held["port"]) if held else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
