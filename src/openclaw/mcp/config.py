"""`mcp.servers.<name>` as the client reads it: one frozen `ServerConfig` per entry, resolved once.

Upstream's spellings are all read: `cwd` or `workingDirectory`, `transport` or `type` (`http` is
streamable HTTP), an HTTP server without a transport speaks the legacy SSE transport. Values of the
wrong shape read as absent (validation is what reports them); an entry that cannot be launched at
all is kept with its `problem`, so `mcp list` and `doctor` can show it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from openclaw.config.launchenv import blocked
from openclaw.config.redact import is_secret_key
from openclaw.config.view import Config, section

Transport = Literal["stdio", "sse", "streamable-http"]
DEFAULT_CONNECT_S = 30.0
DEFAULT_REQUEST_S = 60.0
MAX_SERVERS = 256
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
TRANSPORT_ALIASES: Mapping[str, Transport] = {"http": "streamable-http", "streamable-http": "streamable-http",
                                              "sse": "sse", "stdio": "stdio"}


@dataclass(frozen=True)
class ServerConfig:
    name: str
    transport: Transport
    enabled: bool
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    connect_timeout_s: float = DEFAULT_CONNECT_S
    request_timeout_s: float = DEFAULT_REQUEST_S
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    tls_verify: bool = True  # sslVerify
    client_cert: str | None = None  # clientCert / clientKey: mutual TLS
    client_key: str | None = None
    problem: str = ""  # why it cannot be launched ("" when it can)
    dropped_env: tuple[str, ...] = ()  # interpreter, loader and shell start-up keys left out of `env`
    fingerprint: str = ""  # the entry as written: a change replaces the server's runtime

    @property
    def usable(self) -> bool:
        return self.enabled and not self.problem

    def describe(self) -> str:
        """The command line or URL, for people (header values are never shown)."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args]).strip() + (f" (cwd={self.cwd})" if self.cwd else "")
        return self.url or ""


def secret_name(key: str) -> bool:
    """A header or variable whose value is a credential (shown redacted, warned about when literal)."""
    return is_secret_key(key) or key.lower() in CREDENTIAL_HEADERS or "token" in key.lower()


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _record(value: Any) -> tuple[tuple[str, str], ...]:
    """String, number and boolean values as strings (as upstream coerces them); others dropped."""
    out = []
    for key, item in section(value).items():
        if isinstance(item, bool):
            out.append((str(key), "true" if item else "false"))
        elif isinstance(item, str | int | float):
            out.append((str(key), str(item)))
    return tuple(out)


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return min(float(value), 2_147_483_647.0) / 1000
    return default


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_server(name: str, raw: Mapping[str, Any]) -> ServerConfig:
    command, url = _text(raw.get("command")), _text(raw.get("url"))
    asked = (_text(raw.get("transport")) or _text(raw.get("type")) or "").lower()
    transport: Transport = "stdio" if command else TRANSPORT_ALIASES.get(asked, "sse")
    problem = ""
    if not command and not url:
        problem = "needs a command (stdio) or a url (HTTP)"
    elif not command and asked and asked not in TRANSPORT_ALIASES:
        problem = f"transport {asked!r} is not supported (sse, streamable-http)"
    elif not command and url and not url.lower().startswith(("http://", "https://")):
        problem = "its url is not an http:// or https:// URL"
    written = _record(raw.get("env"))  # start-up keys are dropped (and reported), as upstream does
    env, dropped = tuple((k, v) for k, v in written if not blocked(k)), tuple(k for k, _ in written if blocked(k))
    if not command and raw.get("auth") == "oauth":
        problem = problem or "auth: oauth is not supported here; send the token as a header (headers.Authorization)"
    verify = raw.get("sslVerify", raw.get("ssl_verify"))
    filters = section(raw.get("toolFilter"))
    return ServerConfig(
        name=name, transport=transport, enabled=raw.get("enabled") is not False, command=command,
        args=_strings(raw.get("args")), env=env, cwd=_text(raw.get("cwd")) or _text(raw.get("workingDirectory")),
        url=url, headers=_record(raw.get("headers")),
        connect_timeout_s=_seconds(raw.get("connectionTimeoutMs"), DEFAULT_CONNECT_S),
        request_timeout_s=_seconds(raw.get("requestTimeoutMs"), DEFAULT_REQUEST_S),
        include=_strings(filters.get("include")), exclude=_strings(filters.get("exclude")),
        tls_verify=verify is not False, client_cert=_text(raw.get("clientCert")) or _text(raw.get("client_cert")),
        client_key=_text(raw.get("clientKey")) or _text(raw.get("client_key")), problem=problem,
        dropped_env=dropped,
        fingerprint=json.dumps(raw, sort_keys=True, default=str))


def status(server: ServerConfig) -> dict[str, Any]:
    """One server as `mcp status --json` describes it (upstream's fields), without connecting."""
    return {"name": server.name, "configured": True, "enabled": server.enabled, "ok": not server.problem,
            "transport": server.transport, "launch": f"{server.transport} {server.describe()}",
            **({"error": server.problem} if server.problem else {}),
            "requestTimeoutMs": round(server.request_timeout_s * 1000),
            "connectionTimeoutMs": round(server.connect_timeout_s * 1000),
            "toolFilter": {"include": list(server.include), "exclude": list(server.exclude)}}


def servers(config: Config) -> list[ServerConfig]:
    """Every configured server, sorted by name, at most MAX_SERVERS (validation refuses more)."""
    raw = config.part("mcp", "servers")
    return [read_server(str(name), section(raw[name])) for name in sorted(raw)[:MAX_SERVERS]
            if isinstance(raw[name], Mapping)]


def configured(config: Config) -> bool:
    """Any server entry at all: the cheap check always-loaded code makes before importing the client."""
    return bool(config.part("mcp", "servers"))
