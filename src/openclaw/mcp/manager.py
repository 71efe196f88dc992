"""The MCP servers of one gateway: one runtime per configured server, connected on first use.

A turn that offers tools asks for `ready()`: servers not yet connected start connecting in the
background (each within its `connectionTimeoutMs`), and the turn waits for them at most
`READY_WAIT_S`; a server still connecting after that is offered from a later turn, and one that
fails to connect is logged and paused (30 s, doubling to 5 min), then retried in the background
without any turn waiting for it, so it never holds up the other tools; one whose connection drops
after it worked is started again on the next turn. A
config change replaces the runtime of a changed entry, stops a removed one and leaves the others
connected. A `notifications/tools/list_changed` refreshes that server's catalog.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openclaw import logfile, memguard
from openclaw.config.view import Config
from openclaw.mcp import utilities
from openclaw.mcp.config import ServerConfig, servers
from openclaw.mcp.launch import transport_for
from openclaw.mcp.naming import server_names, tool_name
from openclaw.mcp.session import McpError, McpSession
from openclaw.profiles.paths import InstancePaths

READY_WAIT_S = 10.0  # what a turn waits for servers still connecting
PAUSE_S = 30.0
PAUSE_MAX_S = 300.0
MAX_DESCRIPTION = 2000
MAX_SCHEMA_CHARS = 64 * 1024
State = Literal["idle", "connecting", "ready", "failed", "disabled"]


@dataclass(frozen=True)
class CatalogTool:
    """One MCP tool as the model sees it."""

    name: str  # server__tool, safe for providers
    server: str
    tool: str  # the server's tool name, or a utility (resources_list, ...)
    description: str
    schema: dict[str, Any]
    utility: bool = False


@dataclass
class ServerRuntime:
    config: ServerConfig
    state: State = "idle"
    session: McpSession | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)  # as listed, after the filters
    error: str = ""
    failures: int = 0
    paused_until: float = 0.0
    connecting: asyncio.Task[None] | None = None
    refreshing: asyncio.Task[None] | None = None
    connect_ms: float = 0.0

    def lost(self) -> str | None:
        """Why a connected server's connection ended (None while it lives)."""
        return self.session.closed_reason if self.state == "ready" and self.session else None


def allowed(name: str, server: ServerConfig) -> bool:
    """`toolFilter`: included (when an include list is given) and not excluded; `*` globs."""
    if server.include and not any(fnmatch.fnmatchcase(name, p) for p in server.include):
        return False
    return not any(fnmatch.fnmatchcase(name, p) for p in server.exclude)


def bounded_schema(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's input schema as given, unless it is not an object or is too big to send."""
    import json

    schema = tool.get("inputSchema")
    if not isinstance(schema, dict) or len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        return {"type": "object", "additionalProperties": True}
    return schema


class McpManager:
    def __init__(self, paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str]) -> None:
        self.paths = paths
        self._config = config
        self.env = env
        self.runtimes: dict[str, ServerRuntime] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- following the config --------------------------------------------------------------------
    def sync(self) -> None:
        """Runtimes for the config in force: new entries added, changed ones replaced, removed ones
        stopped (in the background; `reload` waits for them)."""
        wanted = {s.name: s for s in servers(self._config())}
        for name in [n for n in self.runtimes if n not in wanted]:
            self._retire(self.runtimes.pop(name), "removed from the config")
        for name, server in wanted.items():
            current = self.runtimes.get(name)
            if current is not None and current.config.fingerprint == server.fingerprint:
                continue
            was_up = current is not None and current.state == "ready"
            if current is not None:
                self._retire(current, "its config changed")
            runtime = self.runtimes[name] = ServerRuntime(server, "idle" if server.usable else "disabled",
                                                          error=server.problem)
            if was_up and server.usable:
                self._connect(runtime)

    async def reload(self) -> None:
        self.sync()
        await self._settle()

    def _retire(self, runtime: ServerRuntime, why: str) -> None:
        logfile.info(f"mcp server {runtime.config.name} stopped: {why}", subsystem="mcp")
        self._background(self._stop(runtime))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _stop(self, runtime: ServerRuntime) -> None:
        for task in (runtime.connecting, runtime.refreshing):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        session, runtime.session = runtime.session, None
        runtime.state = "idle"
        if session is not None:
            await session.close()

    async def _settle(self) -> None:
        if self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)

    # -- connecting ------------------------------------------------------------------------------
    async def ready(self, wait: float = READY_WAIT_S) -> None:
        """Start what should run, then wait (at most `wait` seconds) for connects under way."""
        if self._closed:
            return
        self.sync()
        for runtime in self.runtimes.values():
            reason = runtime.lost()
            if reason is not None:  # it worked until now: connect again at once (a failing connect pauses)
                self._failed(runtime, f"connection lost: {reason}", pause=False)
            due = time.monotonic() >= runtime.paused_until
            if runtime.state in ("idle", "failed") and runtime.config.usable and due:
                self._connect(runtime)
        pending = [t for r in self.runtimes.values() for t in (r.connecting if not r.failures else None, r.refreshing)
                   if t is not None and not t.done()]  # a server that failed before retries unwaited
        if pending:
            await asyncio.wait(pending, timeout=wait)

    def _connect(self, runtime: ServerRuntime) -> None:
        if runtime.connecting is None or runtime.connecting.done():
            runtime.state = "connecting"
            runtime.connecting = asyncio.ensure_future(self._open(runtime))

    async def _open(self, runtime: ServerRuntime) -> None:
        server = runtime.config
        started = time.monotonic()
        session: McpSession | None = None
        try:
            async with asyncio.timeout(server.connect_timeout_s):
                transport = await transport_for(server, self.paths, self._config(), self.env,
                                                 lambda line: logfile.info(f"mcp {server.name}: {line}",
                                                                           subsystem="mcp"))
                session = McpSession(transport, server.name, lambda: self._refresh(runtime))
                await session.open(server.connect_timeout_s)
                listed = await session.list_tools(server.request_timeout_s)
        except asyncio.CancelledError:
            if session is not None:
                await asyncio.shield(session.close())
            raise
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the server is paused, never stuck
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            if session is not None:
                await session.close()
            if isinstance(exc, TimeoutError):
                why = f"no answer within {server.connect_timeout_s:g}s (connectionTimeoutMs)"
            else:
                why = str(exc) if isinstance(exc, McpError | OSError) else f"{type(exc).__name__}: {exc}"
            self._failed(runtime, why)
            return
        runtime.session, runtime.state, runtime.error, runtime.failures = session, "ready", "", 0
        runtime.tools = [t for t in listed if allowed(t["name"], server)]
        runtime.connect_ms = (time.monotonic() - started) * 1000
        logfile.info(f"mcp server {server.name} connected ({server.transport}): {len(runtime.tools)} of "
                     f"{len(listed)} tools in {runtime.connect_ms:.0f} ms", subsystem="mcp")

    def _failed(self, runtime: ServerRuntime, why: str, pause: bool = True) -> None:
        runtime.failures += pause
        wait = min(PAUSE_MAX_S, PAUSE_S * 2 ** (runtime.failures - 1)) if pause else 0.0
        runtime.state, runtime.error, runtime.tools = "failed", why, []
        runtime.paused_until = time.monotonic() + wait
        if runtime.session is not None:
            session, runtime.session = runtime.session, None
            self._background(session.close())  # what is left of it: a stdio server's process group
        when = f"in {wait:g}s" if wait else "now"
        logfile.warn(f"mcp server {runtime.config.name} is unavailable: {why}; trying again {when}", subsystem="mcp")

    def _refresh(self, runtime: ServerRuntime) -> None:
        """The server's tool list changed: list it again, in the background."""
        if runtime.session is None or (runtime.refreshing is not None and not runtime.refreshing.done()):
            return

        async def relist() -> None:
            session = runtime.session
            if session is None:
                return
            try:
                listed = await session.list_tools(runtime.config.request_timeout_s)
            except McpError as exc:
                logfile.warn(f"mcp server {runtime.config.name}: listing its changed tools failed: {exc}",
                             subsystem="mcp")
                return
            runtime.tools = [t for t in listed if allowed(t["name"], runtime.config)]
            logfile.info(f"mcp server {runtime.config.name}: tool list changed ({len(runtime.tools)} tools)",
                         subsystem="mcp")

        runtime.refreshing = asyncio.ensure_future(relist())

    # -- what the model gets ---------------------------------------------------------------------
    def catalog(self) -> list[CatalogTool]:
        """The tools of every connected server under their model-facing names, sorted by name."""
        prefixes = server_names(self.runtimes)
        taken: set[str] = set()
        out = []
        for name, runtime in self.runtimes.items():
            if runtime.state != "ready" or runtime.lost() is not None:
                continue
            for tool in sorted(runtime.tools, key=lambda t: str(t["name"])):
                description = tool.get("description")
                text = description[:MAX_DESCRIPTION] if isinstance(description, str) and description else \
                    f"{tool['name']} (MCP server {name})"
                out.append(CatalogTool(tool_name(prefixes[name], str(tool["name"]), taken), name, str(tool["name"]),
                                       text, bounded_schema(tool)))
            session = runtime.session
            for utility in utilities.offered(session.capabilities if session else {}):
                if allowed(utility, runtime.config):
                    _, description, schema = utilities.UTILITIES[utility]
                    out.append(CatalogTool(tool_name(prefixes[name], utility, taken), name, utility,
                                           description.format(server=name), schema, utility=True))
        return sorted(out, key=lambda t: t.name)

    async def call(self, server: str, tool: str, arguments: dict[str, Any], utility: bool = False) -> dict[str, Any]:
        """`tools/call` of one tool (or one of the utilities), within the entry's requestTimeoutMs."""
        runtime = self.runtimes.get(server)
        if runtime is None:
            raise McpError(f"MCP server {server} is no longer configured")
        session = runtime.session
        if runtime.state != "ready" or session is None or session.closed_reason is not None:
            reason = runtime.error or (session.closed_reason if session else None) or "not connected"
            raise McpError(f"MCP server {server} is unavailable ({reason})")
        if utility:
            return await utilities.run(session, tool, arguments, runtime.config.request_timeout_s)
        return await session.call_tool(tool, arguments, runtime.config.request_timeout_s)

    # -- the end ---------------------------------------------------------------------------------
    async def close(self) -> None:
        self._closed = True
        runtimes, self.runtimes = list(self.runtimes.values()), {}
        await asyncio.gather(*(self._stop(r) for r in runtimes), return_exceptions=True)
        await self._settle()
