"""One MCP connection: JSON-RPC 2.0 requests and answers over a transport, the handshake, tool
discovery and calls.

The transport only moves messages (`send`, and `deliver` for what arrives); this side matches
answers to requests by id, answers the server's own requests (`ping`; anything else is "method not
found": this client offers no roots, sampling or elicitation), and tells its owner when the server
says its tool list changed. Every request has a time limit; a request that runs out of time is
cancelled at the server (`notifications/cancelled`), and a lost connection fails every request
still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from openclaw import __version__

PROTOCOL_VERSION = "2025-11-25"  # offered; the server may answer with any version below
KNOWN_VERSIONS = frozenset({"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"})
MAX_PAGES = 50  # tools/list pages followed
MAX_TOOLS = 1000  # tools kept from one server
SEND_TIMEOUT_S = 10.0  # a notification or an answer to the server
MAX_SERVER_REQUESTS = 32  # the server's own requests (ping) being answered at once
Deliver = Callable[[Any], None]
Closed = Callable[[str], None]


class McpError(Exception):
    """The server answered a request with an error, or could not be reached; the text says which."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class Transport(Protocol):
    async def start(self, deliver: Deliver, closed: Closed) -> None: ...

    async def send(self, message: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...

    def negotiated(self, protocol_version: str) -> None: ...


class McpSession:
    def __init__(self, transport: Transport, name: str, on_tools_changed: Callable[[], None] | None = None) -> None:
        self.transport = transport
        self.name = name
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._on_tools_changed = on_tools_changed
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed_reason: str | None = None
        self.server_info: dict[str, Any] = {}
        self.protocol_version = ""
        self.capabilities: dict[str, Any] = {}

    # -- connecting ------------------------------------------------------------------------------
    async def open(self, timeout: float) -> None:
        """Start the transport and shake hands, all within `timeout` seconds."""
        async with asyncio.timeout(timeout):
            await self.transport.start(self._deliver, self._closed)
            result = await self._call("initialize", {
                "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                "clientInfo": {"name": "openclaw", "version": __version__}})
        version = str(result.get("protocolVersion") or "")
        if version not in KNOWN_VERSIONS:
            raise McpError(f"the server speaks MCP protocol {version or '(none given)'}, which this client does not "
                           f"(it speaks {', '.join(sorted(KNOWN_VERSIONS))})")
        self.protocol_version = version
        self.transport.negotiated(version)
        info, caps = result.get("serverInfo"), result.get("capabilities")
        self.server_info = info if isinstance(info, dict) else {}
        self.capabilities = caps if isinstance(caps, dict) else {}
        await self.notify("notifications/initialized")

    async def close(self) -> None:
        self._closed("closed")
        for task in list(self._tasks):
            task.cancel()
        await self.transport.close()

    # -- requests --------------------------------------------------------------------------------
    async def request(self, method: str, params: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                return await self._call(method, params)
        except TimeoutError:
            raise McpError(f"{method} got no answer within {timeout:g}s (requestTimeoutMs)") from None

    async def _call(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        if self.closed_reason is not None:
            raise McpError(f"the connection is closed ({self.closed_reason})")
        request_id = next(self._ids)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self.transport.send(message)
            reply = await answer
        except asyncio.CancelledError:
            if method != "initialize" and self.closed_reason is None:
                self._spawn(self.notify("notifications/cancelled", {"requestId": request_id,
                                                                     "reason": "timed out or stopped"}))
            raise
        finally:
            self._pending.pop(request_id, None)
        error = reply.get("error")
        if error is not None:
            detail = error if isinstance(error, dict) else {}
            code = detail.get("code")
            raise McpError(str(detail.get("message") or error), code if isinstance(code, int) else None)
        result = reply.get("result")
        return result if isinstance(result, dict) else {}

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    async def _send(self, message: dict[str, Any]) -> None:
        """A message that expects no answer, within SEND_TIMEOUT_S (a server that stops reading)."""
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self.transport.send(message)
        except TimeoutError:
            raise McpError(f"the server took no message for {SEND_TIMEOUT_S:g}s") from None

    # -- what the server offers ------------------------------------------------------------------
    async def list_all(self, method: str, key: str, timeout: float) -> list[dict[str, Any]]:
        """Every item of a paginated list (`tools/list`, `resources/list`, `prompts/list`), following
        `nextCursor` (at most MAX_PAGES pages, MAX_TOOLS items)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.request(method, {"cursor": cursor} if cursor else {}, timeout)
            listed = page.get(key)
            items += [t for t in listed if isinstance(t, dict)] if isinstance(listed, list) else []
            cursor = page.get("nextCursor") if isinstance(page.get("nextCursor"), str) else None
            if not cursor or len(items) >= MAX_TOOLS:
                break
        return items[:MAX_TOOLS]

    async def list_tools(self, timeout: float) -> list[dict[str, Any]]:
        return [t for t in await self.list_all("tools/list", "tools", timeout) if isinstance(t.get("name"), str)]

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout: float) -> dict[str, Any]:
        return await self.request("tools/call", {"name": name, "arguments": arguments}, timeout)

    # -- what arrives ----------------------------------------------------------------------------
    def _deliver(self, message: Any) -> None:
        for item in message if isinstance(message, list) else [message]:
            if isinstance(item, dict):
                self._one(item)

    def _one(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message and len(self._tasks) < MAX_SERVER_REQUESTS:  # past that: a flood, left unanswered
                self._spawn(self._answer(message["id"], method))
            elif method == "notifications/tools/list_changed" and self._on_tools_changed is not None:
                self._on_tools_changed()
            return
        request_id = message.get("id")
        if isinstance(request_id, str) and request_id.isdigit():  # a server that echoes ids as strings
            request_id = int(request_id)
        answer = self._pending.get(request_id) if isinstance(request_id, int) else None
        if answer is not None and not answer.done():
            answer.set_result(message)

    async def _answer(self, request_id: Any, method: str) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if method == "ping":
            reply["result"] = {}
        else:
            reply["error"] = {"code": -32601, "message": f"this client does not offer {method}"}
        await self._send(reply)

    def _closed(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(McpError(f"the connection closed: {reason}"))

    def _spawn(self, work: Awaitable[Any]) -> None:
        async def guarded() -> None:
            with contextlib.suppress(Exception):  # a lost answer to the server is the server's to notice
                await work

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
