"""What `openclaw mcp` reports: the configured servers, static checks of each entry, and a live
probe (connect, list the tools, time both), as library calls the CLI and tests share."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from openclaw.config.view import Config
from openclaw.mcp.config import ServerConfig, secret_name
from openclaw.mcp.launch import transport_for
from openclaw.mcp.manager import allowed
from openclaw.mcp.naming import server_names, tool_name
from openclaw.mcp.session import McpError, McpSession
from openclaw.profiles.paths import InstancePaths

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Issue:
    level: Level
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "message": self.message}


@dataclass
class Probe:
    ok: bool
    tools: list[str] = field(default_factory=list)  # model-facing names, after the filters
    listed: int = 0  # tools the server listed
    connect_ms: float = 0.0
    list_ms: float = 0.0
    server: str = ""  # serverInfo name and version
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {"ok": self.ok, "tools": self.tools, "listed": self.listed, "connectMs": round(self.connect_ms, 1),
               "listMs": round(self.list_ms, 1), "server": self.server}
        return {**out, "error": self.error} if self.error else out


def _resolves(command: str, env: Mapping[str, str], cwd: str | None) -> bool:
    if os.sep in command:
        path = Path(os.path.expanduser(command))
        path = path if path.is_absolute() or not cwd else Path(cwd) / path
        return path.is_file() and os.access(path, os.X_OK)
    return shutil.which(command, path=env.get("PATH") or os.defpath) is not None


def _literal_secrets(where: str, raw: Mapping[str, Any]) -> list[Issue]:
    """Credentials written into the file itself (a `${VAR}` reference keeps them out of it)."""
    values = raw.get(where) if isinstance(raw.get(where), Mapping) else {}
    assert isinstance(values, Mapping)
    return [Issue("warning", f"{where}.{key} holds a literal secret; prefer a ${{VAR}} reference to the environment")
            for key, value in values.items() if secret_name(str(key)) and isinstance(value, str)
            and value and "${" not in value]


def check(server: ServerConfig, raw: Mapping[str, Any], env: Mapping[str, str], workspace: Path) -> list[Issue]:
    """Problems visible without connecting (upstream's `mcp doctor` checks, in our words)."""
    issues: list[Issue] = []
    if server.problem:
        issues.append(Issue("error", server.problem))
    if server.dropped_env:
        issues.append(Issue("warning", f"env {', '.join(server.dropped_env)} is left out when the server starts "
                                       "(interpreter, loader and shell start-up keys); remove it from the entry"))
    if not server.enabled:
        issues.append(Issue("info", "disabled (enabled: false): kept in the config, never started"))
    if server.transport == "stdio" and server.command:
        cwd = Path(os.path.expanduser(server.cwd)) if server.cwd else workspace
        cwd = cwd if cwd.is_absolute() else workspace / cwd
        if server.cwd and not cwd.is_dir():
            issues.append(Issue("error", f"working directory {cwd} does not exist"))
        if not _resolves(server.command, {**env, **dict(server.env)}, str(cwd)):
            issues.append(Issue("error", f"command {server.command!r} is not found (PATH, or the path given)"))
        issues += _literal_secrets("env", raw)
    else:
        issues += _literal_secrets("headers", raw)
    kind = str(raw.get("type") or "").lower()
    if kind == "http" and not raw.get("transport"):
        issues.append(Issue("info", 'type "http" is read as transport "streamable-http"'))
    return issues


async def probe(server: ServerConfig, paths: InstancePaths, config: Config, env: Mapping[str, str],
                stderr: list[str] | None = None) -> Probe:
    """Connect, list the tools and close, with the entry's own time limits."""
    started = time.perf_counter()
    session: McpSession | None = None
    lines = stderr if stderr is not None else []
    try:
        async with asyncio.timeout(server.connect_timeout_s):
            transport = await transport_for(server, paths, config, env, lambda line: lines.append(line))
            session = McpSession(transport, server.name)
            await session.open(server.connect_timeout_s)
        connected = time.perf_counter()
        listed = await session.list_tools(server.request_timeout_s)
        done = time.perf_counter()
    except TimeoutError:
        return Probe(False, error=f"no answer within {server.connect_timeout_s:g}s (connectionTimeoutMs)"
                     + _last(lines))
    except (McpError, OSError) as exc:
        return Probe(False, error=str(exc) + _last(lines))
    finally:
        if session is not None:
            await session.close()
    prefix = server_names([server.name])[server.name]
    taken: set[str] = set()
    names = [tool_name(prefix, str(t["name"]), taken)
             for t in sorted(listed, key=lambda t: str(t["name"])) if allowed(str(t["name"]), server)]
    info = session.server_info if session else {}
    label = " ".join(str(info.get(k) or "") for k in ("name", "version")).strip()
    return Probe(True, names, len(listed), (connected - started) * 1000, (done - connected) * 1000, label)


def _last(lines: list[str]) -> str:
    """The server's last words on stderr, when it left some (why a stdio server did not start)."""
    said = [line for line in lines if line.strip()]
    return f" (stderr: {said[-1][:200]})" if said else ""

