"""The two HTTP transports, on aiohttp: streamable HTTP and the legacy SSE transport.

Streamable HTTP POSTs each message; the answer comes back as JSON or as an event stream, and the
server's `Mcp-Session-Id` (given with the handshake's answer) goes with every later request. A GET
stream, where the server offers one, carries what the server sends on its own (a changed tool list).
The legacy transport keeps one GET event stream open: its first `endpoint` event names where to
POST, and every answer arrives on the stream. Bodies and events are bounded; configured headers go
with every request and never into logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from openclaw.mcp.session import Closed, Deliver, McpError
from openclaw.mcp.sse import MAX_EVENT_BYTES, StreamTooLarge, events

CLOSE_TIMEOUT_S = 3.0
RETRY_MAX_S = 30.0


Tls = ssl.SSLContext | bool  # True: the default verified context; False: sslVerify off


def tls_context(verify: bool, cert: str | None, key: str | None) -> Tls:
    """Blocking (reads the CA store and the key files): the TLS setting of one server's requests."""
    if not cert:
        return verify
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(os.path.expanduser(cert), os.path.expanduser(key) if key else None)
    return context


def _client(connect_timeout: float, tls: Tls) -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_connect=connect_timeout)
    connector = aiohttp.TCPConnector(ssl=tls)
    return aiohttp.ClientSession(timeout=timeout, auto_decompress=True, connector=connector)


async def _fail(resp: aiohttp.ClientResponse) -> McpError:
    body = (await resp.content.read(500)).decode("utf-8", errors="replace").strip().replace("\n", " ")
    return McpError(f"HTTP {resp.status} from the server" + (f": {body[:200]}" if body else ""), resp.status)


async def _body(resp: aiohttp.ClientResponse) -> bytes:
    """The whole body, refused past MAX_EVENT_BYTES."""
    parts, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_EVENT_BYTES:
            raise McpError(f"an answer passed {MAX_EVENT_BYTES} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _decode(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


class StreamableHttp:
    def __init__(self, url: str, headers: Mapping[str, str], connect_timeout: float, tls: Tls = True) -> None:
        self.url = url
        self.headers = dict(headers)
        self.connect_timeout = connect_timeout
        self.tls = tls
        self.session_id: str | None = None
        self.version: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._deliver: Deliver = lambda _m: None
        self._closed: Closed = lambda _r: None
        self._listener: asyncio.Task[None] | None = None

    def _headers(self, accept: str) -> dict[str, str]:
        out = {**self.headers, "Accept": accept}
        if self.session_id:
            out["Mcp-Session-Id"] = self.session_id
        if self.version:
            out["MCP-Protocol-Version"] = self.version
        return out

    async def start(self, deliver: Deliver, closed: Closed) -> None:
        self._deliver, self._closed = deliver, closed
        self._http = _client(self.connect_timeout, self.tls)

    def negotiated(self, protocol_version: str) -> None:
        self.version = protocol_version
        self._listener = asyncio.ensure_future(self._listen())

    async def send(self, message: dict[str, Any]) -> None:
        assert self._http is not None, "start() first"
        headers = {**self._headers("application/json, text/event-stream"), "Content-Type": "application/json"}
        try:
            async with self._http.post(self.url, data=json.dumps(message), headers=headers) as resp:
                if message.get("method") == "initialize" and resp.headers.get("Mcp-Session-Id"):
                    self.session_id = resp.headers["Mcp-Session-Id"]
                if resp.status == 404 and self.session_id:
                    self._closed("the server forgot this session (HTTP 404)")
                    raise await _fail(resp)
                if resp.status >= 300:
                    raise await _fail(resp)
                if resp.status == 202 or "id" not in message or "method" not in message:
                    return
                await self._read_answer(resp, message["id"])
        except aiohttp.ClientError as exc:
            raise McpError(f"cannot reach {_origin(self.url)}: {exc}") from None

    async def _read_answer(self, resp: aiohttp.ClientResponse, request_id: Any) -> None:
        if resp.content_type == "text/event-stream":
            try:
                async for event in events(resp.content):
                    found = _decode(event.data) if event.event == "message" else None
                    if found is not None:
                        self._deliver(found)
                        if isinstance(found, dict) and found.get("id") == request_id and "method" not in found:
                            return
            except StreamTooLarge as exc:
                raise McpError(str(exc)) from None
            raise McpError("the server's answer stream ended without the answer")
        found = _decode(await _body(resp))
        if found is None:
            raise McpError(f"the server answered with {resp.content_type or 'no content type'}, not JSON")
        self._deliver(found)

    async def _listen(self) -> None:
        """The server's own stream (GET), while it offers one; reconnected with a growing pause."""
        pause = 1.0
        while self._http is not None and not self._http.closed:
            try:
                async with self._http.get(self.url, headers=self._headers("text/event-stream")) as resp:
                    if resp.status in (404, 405) or resp.status >= 400:
                        return  # no stream offered: nothing arrives on its own
                    pause = 1.0
                    async for event in events(resp.content):
                        found = _decode(event.data) if event.event == "message" else None
                        if found is not None:
                            self._deliver(found)
            except (aiohttp.ClientError, StreamTooLarge, TimeoutError):
                pass
            await asyncio.sleep(pause)
            pause = min(RETRY_MAX_S, pause * 2)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        http, self._http = self._http, None
        if http is None:
            return
        if self.session_id:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await http.delete(self.url, headers=self._headers("application/json"))
        await http.close()


class LegacySse:
    def __init__(self, url: str, headers: Mapping[str, str], connect_timeout: float, tls: Tls = True) -> None:
        self.url = url
        self.headers = dict(headers)
        self.connect_timeout = connect_timeout
        self.tls = tls
        self.endpoint: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None

    def negotiated(self, protocol_version: str) -> None:
        pass

    async def start(self, deliver: Deliver, closed: Closed) -> None:
        self._http = _client(self.connect_timeout, self.tls)
        try:
            resp = await self._http.get(self.url, headers={**self.headers, "Accept": "text/event-stream"})
        except aiohttp.ClientError as exc:
            raise McpError(f"cannot reach {_origin(self.url)}: {exc}") from None
        if resp.status != 200:
            raise await _fail(resp)
        found: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.ensure_future(self._read(resp, found, deliver, closed))
        self.endpoint = await found

    async def _read(self, resp: aiohttp.ClientResponse, found: asyncio.Future[str], deliver: Deliver,
                    closed: Closed) -> None:
        reason = "the server closed its event stream"
        try:
            async for event in events(resp.content):
                if event.event == "endpoint" and not found.done():
                    target = urljoin(self.url, event.data.strip())
                    if _origin(target) != _origin(self.url):
                        found.set_exception(McpError(f"the server named an endpoint on another origin "
                                                     f"({_origin(target)}); refused"))
                        return
                    found.set_result(target)
                elif event.event == "message":
                    message = _decode(event.data)
                    if message is not None:
                        deliver(message)
        except (aiohttp.ClientError, StreamTooLarge, TimeoutError) as exc:
            reason = f"the event stream failed: {exc}"
        finally:
            resp.release()
            if not found.done():
                found.set_exception(McpError(f"{reason} before naming its endpoint"))
            closed(reason)

    async def send(self, message: dict[str, Any]) -> None:
        assert self._http is not None and self.endpoint is not None, "start() first"
        headers = {**self.headers, "Content-Type": "application/json"}
        try:
            async with self._http.post(self.endpoint, data=json.dumps(message), headers=headers) as resp:
                if resp.status >= 300:
                    raise await _fail(resp)
        except aiohttp.ClientError as exc:
            raise McpError(f"cannot reach {_origin(self.url)}: {exc}") from None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        http, self._http = self._http, None
        if http is not None:
            await http.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
