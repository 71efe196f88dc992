"""One WebSocket client: challenge, `connect` handshake, then `req` -> `res` dispatch.

Whatever the client does, what it makes the gateway hold is bounded: the
pre-auth frame limit is checked on frame headers (`wsguard`), unsent frames
are capped (`outbox`, then close 1008 "slow consumer"), requests in flight
are capped (then an immediate "busy" error), one client's requests take
turns with everyone else's on the event loop, and every task a connection
started ends with it, however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from openclaw import logfile, memguard
from openclaw.gateway.auth import client_of
from openclaw.gateway.limits import Limits
from openclaw.gateway.methods.registry import CallContext, Method
from openclaw.gateway.params import check_params
from openclaw.gateway.protocol import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    EPHEMERAL_MODES,
    INVALID_REQUEST,
    UNAVAILABLE,
    ConnectRejected,
    RpcError,
    decode_frame,
    encode_json,
    event_bytes,
    event_frame,
    missing_scope_error,
    res_err,
    res_ok,
    truncate_reason,
)
from openclaw.gateway.scopes import satisfies
from openclaw.gateway.transport import wsguard
from openclaw.gateway.transport.handshake import Peer, check_connect
from openclaw.gateway.transport.outbox import Outbox
from openclaw.locality import is_local_request
from openclaw.wsresponse import WebSocket

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext

MAX_UNAUTHORIZED_CALLS = 10
BUSY = RpcError(UNAVAILABLE, "The server is busy. Please try again in a moment.", retryable=True,
                retry_after_ms=1000)


def websocket(limits: Limits) -> web.WebSocketResponse:
    """No per-message deflate: it costs ~60 KB of zlib state per socket (kept by every rejected
    handshake until collected) to shrink frames that are mostly a few hundred bytes."""
    return WebSocket(max_msg_size=limits.max_payload_bytes, compress=False,
                     heartbeat=limits.tick_interval_ms / 1000, timeout=limits.close_grace_s)


class Connection:
    def __init__(self, gateway: GatewayContext, methods: Mapping[str, Method], ws: web.WebSocketResponse,
                 request: web.Request) -> None:
        self.gateway = gateway
        self.methods = methods
        self.limits: Limits = gateway.settings.limits
        self.ws = ws
        self.request = request
        self.id = str(uuid.uuid4())
        self.remote = client_of(request, gateway.settings)  # the peer, or the client a trusted proxy reports
        self.local = is_local_request(request)
        self.nonce = str(uuid.uuid4())
        self.authenticated = False
        self.role = "operator"
        self.scopes: list[str] = []
        self.client: dict[str, Any] = {}
        self.device_id: str | None = None  # a verified device key's id, if the client presented one
        self.seq = 0
        self.unauthorized_calls = 0
        self.outbox = Outbox(ws, lambda: self.request.transport, self.limits.max_buffered_bytes, self._slow_consumer)
        self._tasks: set[asyncio.Task[Any]] = set()  # requests in flight
        self._closer: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def label(self) -> str:
        return f"{self.client.get('id', '?')}/{self.client.get('mode', '?')}@{self.remote}"

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def ephemeral(self) -> bool:
        return self.client.get("mode") in EPHEMERAL_MODES

    # -- sending -----------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put(encode_json(frame))

    def send_event(self, event: str, payload: bytes) -> None:
        """An event whose payload is already encoded (once for every recipient)."""
        self.seq += 1
        self.outbox.put(event_bytes(event, payload, self.seq))

    def _slow_consumer(self) -> None:
        self.gateway.state.stability.record("gateway.ws.slow_consumer", action="closed", client=self.label,
                                            limitBytes=self.limits.max_buffered_bytes)
        logfile.warn(f"closing slow consumer {self.label} ({self.limits.max_buffered_bytes} bytes unsent)",
                     subsystem="ws")
        self.close_soon(CLOSE_POLICY, "slow consumer")

    def close_soon(self, code: int, reason: str) -> None:
        """Close from a callback or a request task (the close outlives both)."""
        if self._closer is None:
            self._closer = asyncio.ensure_future(self.close(code, reason))

    async def close(self, code: int, reason: str = "") -> None:
        """Close with `code` once queued frames are out; a peer that does not let us within the
        grace period is dropped."""
        if self._closing:
            return
        self._closing = True
        try:
            async with asyncio.timeout(self.limits.close_grace_s):
                if not self.outbox.closed:
                    await self.outbox.flush()
                await self.ws.close(code=code, message=truncate_reason(reason).encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        finally:
            self.outbox.close()
            transport = self.request.transport
            if transport is not None and transport.get_write_buffer_size():
                transport.abort()  # it does not read: flushing would never end
            elif transport is not None and not transport.is_closing():
                transport.close()

    # -- lifecycle ---------------------------------------------------------
    async def run(self) -> None:
        guard = wsguard.install(self.request, self.limits.preauth_bytes, self._preauth_too_large)
        try:
            self.send(event_frame("connect.challenge", {"nonce": self.nonce, "ts": int(time.time() * 1000)}))
            try:
                ok = await asyncio.wait_for(self._handshake(), timeout=self.limits.handshake_timeout_s)
            except TimeoutError:
                await self.close(CLOSE_NORMAL, "")
                return
            wsguard.remove(self.request, guard)
            if ok:
                await self._serve()
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._closer is not None:
                await asyncio.shield(self._closer)
            await self.outbox.aclose()

    def _preauth_too_large(self) -> None:
        """Called from the socket's data callback; the guard discards whatever else arrives."""
        self.gateway.state.stability.record("payload.large", action="rejected", surface="gateway.ws",
                                            limitBytes=self.limits.preauth_bytes, remote=self.remote)
        self.outbox.close()
        self.close_soon(CLOSE_TOO_BIG, "preauth payload too large")

    async def _handshake(self) -> bool:
        msg = await self.ws.receive()
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return False
        frame, problem = decode_frame(msg.data)
        if problem is not None:
            await self.close(CLOSE_POLICY, "invalid request frame")
            return False
        peer = Peer(self.id, self.remote, self.local, self.request.headers.get("Origin"),
                    self.request.headers.get("Host"), self.nonce)
        gateway = self.gateway
        try:
            protocol, method, self.role, scopes = check_connect(
                frame, peer, gateway.draining, gateway.settings.allowed_origins, gateway.settings.auth,
                gateway.rate_limiter, gateway.services.devices)
        except ConnectRejected as exc:
            logfile.warn(f"connect rejected: {exc.message}", remote=self.remote, client=_client_id(frame))
            if exc.details and exc.details.get("requestId"):
                gateway.device_pairing_requested(exc.details)
            self.send(res_err(frame["id"], exc.shape()))
            await self.close(exc.close_code, exc.close_reason)
            return False
        self.client, self.scopes, self.authenticated = frame["params"]["client"], scopes, True
        device = frame["params"].get("device")
        self.device_id = device.get("id") if isinstance(device, dict) else None
        self.send(res_ok(frame["id"], gateway.hello_payload(self, protocol, method)))
        gateway.connection_ready(self)
        return True

    async def _serve(self) -> None:
        while not self._closing:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.TEXT:
                self._handle_text(msg.data)
            elif msg.type == WSMsgType.BINARY:
                self.send(res_err("invalid", RpcError(INVALID_REQUEST, "invalid request frame: binary").shape()))
            else:  # CLOSE, CLOSING, CLOSED, ERROR
                if msg.type == WSMsgType.ERROR and isinstance(msg.data, BaseException):
                    memguard.check(msg.data)  # aiohttp hands a failed read (out of memory too) over as a message
                return
            await asyncio.sleep(0)  # one frame per turn: other clients are served between this one's frames

    def _handle_text(self, text: str) -> None:
        frame, problem = decode_frame(text)
        if problem:
            req_id = frame.get("id") if isinstance(frame, dict) and isinstance(frame.get("id"), str) else None
            error = RpcError(INVALID_REQUEST, f"invalid request frame: {problem}")
            self.send(res_err(req_id or "invalid", error.shape()))
            return
        if self.in_flight >= self.limits.max_in_flight:
            self.send(res_err(frame["id"], BUSY.shape()))
            return
        self._spawn(self._dispatch(frame))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        req_id, name = frame["id"], frame["method"]
        try:
            payload = await self._call(name, frame.get("params"), req_id)
        except RpcError as exc:
            self.send(res_err(req_id, exc.shape()))
            if self.unauthorized_calls > MAX_UNAUTHORIZED_CALLS:
                self.close_soon(CLOSE_POLICY, "repeated unauthorized calls")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a handler bug must not take the connection down
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            logfile.error(f"method {name} failed: {exc!r}"[:2000], subsystem="rpc")
            self.send(res_err(req_id, RpcError(UNAVAILABLE, str(exc) or type(exc).__name__).shape()))
            return
        await self.outbox.send(encode_json(res_ok(req_id, payload)))

    async def _call(self, name: str, params: Any, req_id: str) -> Any:
        m = self.methods.get(name)
        if m is None:
            raise RpcError(INVALID_REQUEST, f"unknown method: {name}")
        if self.role != "operator":
            self.unauthorized_calls += 1
            raise RpcError(INVALID_REQUEST, f"unauthorized role: {self.role}")
        if m.scope is not None and not satisfies(self.scopes, m.scope):
            raise missing_scope_error(m.scope)
        checked = check_params(m.name, m.model(), params)
        return await m.handler(CallContext(self.gateway, self, checked, req_id))


def _client_id(frame: dict[str, Any]) -> Any:
    params = frame.get("params")
    client = params.get("client") if isinstance(params, dict) else None
    return client.get("id") if isinstance(client, dict) else None


async def serve_websocket(gateway: GatewayContext, methods: Mapping[str, Method],
                          request: web.Request) -> web.StreamResponse:
    """The gateway port's root: a protocol connection, or 426 for plain HTTP."""
    ws = websocket(gateway.settings.limits)
    if not ws.can_prepare(request).ok:
        return web.Response(status=426, text="Upgrade Required: connect with a WebSocket client\n",
                            headers={"Upgrade": "websocket"})
    await ws.prepare(request)
    conn = Connection(gateway, methods, ws, request)
    gateway.connections.add(conn)
    try:
        await conn.run()
    finally:
        gateway.connections.discard(conn)
        gateway.connection_gone(conn)
        with contextlib.suppress(Exception):
            await conn.close(CLOSE_NORMAL)
    return ws
