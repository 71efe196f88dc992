"""One WebSocket client: challenge, `connect` handshake, then `req` -> `res` dispatch.

Handshake order follows upstream exactly: frame shape, method, params,
drain state, protocol window, role, origin, rate limit, shared secret,
device proof, scopes, `hello-ok`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from openclaw.gateway import logfile
from openclaw.gateway.auth import check_shared_secret, rejection
from openclaw.gateway.methods import CallContext, check_params
from openclaw.gateway.protocol import (
    CLIENT_IDS,
    CLIENT_MODES,
    CLOSE_POLICY,
    CLOSE_PROTOCOL,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    EPHEMERAL_MODES,
    INVALID_REQUEST,
    MAX_BUFFERED_BYTES,
    MAX_PREAUTH_BYTES,
    MIN_PROBE_PROTOCOL,
    NOT_PAIRED,
    PROTOCOL_VERSION,
    UNAVAILABLE,
    ConnectRejected,
    RpcError,
    event_frame,
    missing_scope_error,
    request_frame_problem,
    res_err,
    res_ok,
    truncate_reason,
)
from openclaw.gateway.scopes import satisfies

if TYPE_CHECKING:
    from openclaw.gateway.server import GatewayServer

FORWARD_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")
MAX_UNAUTHORIZED_CALLS = 10


def is_local_request(request: web.Request) -> bool:
    """A direct loopback connection: loopback peer and no proxy headers."""
    peer = request.remote or ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    return loopback and not any(h in request.headers for h in FORWARD_HEADERS)


def _origin_allowed(origin: str, request: web.Request) -> bool:
    host = (urlsplit(origin).hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    request_host = (request.host or "").split(":")[0].lower()
    return bool(host) and host == request_host


def connect_params_problem(params: Any) -> str | None:
    if not isinstance(params, dict):
        return "params must be an object"
    for key in ("minProtocol", "maxProtocol"):
        value = params.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"{key} must be an integer >= 1"
    client = params.get("client")
    if not isinstance(client, dict):
        return "client must be an object"
    for key in ("id", "version", "platform", "mode"):
        if not isinstance(client.get(key), str) or not client[key]:
            return f"client.{key} must be a non-empty string"
    if client["id"] not in CLIENT_IDS:
        return f"client.id must be one of {', '.join(sorted(CLIENT_IDS))}"
    if client["mode"] not in CLIENT_MODES:
        return f"client.mode must be one of {', '.join(sorted(CLIENT_MODES))}"
    scopes = params.get("scopes")
    if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
        return "scopes must be an array of strings"
    for key in ("auth", "device"):
        if params.get(key) is not None and not isinstance(params[key], dict):
            return f"{key} must be an object"
    return None


def negotiate(params: dict[str, Any]) -> int | None:
    """The protocol we will speak, or None if the client's window excludes us."""
    lo, hi = params["minProtocol"], params["maxProtocol"]
    client = params["client"]
    if hi >= PROTOCOL_VERSION and lo <= PROTOCOL_VERSION:
        return PROTOCOL_VERSION
    if client["mode"] == "probe" and hi >= MIN_PROBE_PROTOCOL and lo <= PROTOCOL_VERSION:
        return PROTOCOL_VERSION
    if params.get("role") == "node" and client["mode"] == "node" and hi >= 3 and lo <= 3:
        return 3
    return None


class Connection:
    def __init__(self, server: GatewayServer, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.server = server
        self.ws = ws
        self.request = request
        self.id = str(uuid.uuid4())
        self.remote = request.remote or "?"
        self.local = is_local_request(request)
        self.nonce = str(uuid.uuid4())
        self.authenticated = False
        self.role = "operator"
        self.scopes: list[str] = []
        self.client: dict[str, Any] = {}
        self.seq = 0
        self.unauthorized_calls = 0
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def label(self) -> str:
        return f"{self.client.get('id', '?')}/{self.client.get('mode', '?')}@{self.remote}"

    # -- sending -----------------------------------------------------------
    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        transport = self.request.transport
        if transport is not None and transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            await self.close(CLOSE_POLICY, "slow consumer")
            return
        async with self._send_lock:
            try:
                await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
            except (ConnectionError, RuntimeError):
                pass

    async def send_event(self, event: str, payload: Any) -> None:
        self.seq += 1
        await self.send(event_frame(event, payload, self.seq))

    async def close(self, code: int, reason: str = "") -> None:
        if not self.ws.closed:
            await self.ws.close(code=code, message=truncate_reason(reason).encode())

    # -- lifecycle ---------------------------------------------------------
    async def run(self) -> None:
        await self.send(event_frame("connect.challenge", {"nonce": self.nonce, "ts": int(time.time() * 1000)}))
        try:
            ok = await asyncio.wait_for(self._handshake(), timeout=self.server.handshake_timeout_s)
        except TimeoutError:
            await self.close(1000, "")
            return
        if ok:
            await self._serve()

    async def _handshake(self) -> bool:
        msg = await self.ws.receive()
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return False
        data = msg.data if isinstance(msg.data, (bytes, bytearray)) else msg.data.encode()
        if len(data) > MAX_PREAUTH_BYTES:
            await self.close(CLOSE_TOO_BIG, "preauth payload too large")
            return False
        try:
            frame = json.loads(data)
        except ValueError:
            frame = None
        if request_frame_problem(frame) is not None:
            await self.close(CLOSE_POLICY, "invalid request frame")
            return False
        try:
            hello = self._connect(frame)
        except ConnectRejected as exc:
            logfile.warn(f"connect rejected: {exc.message}", remote=self.remote, client=self.client.get("id"))
            await self.send(res_err(frame["id"], exc.shape()))
            await self.close(exc.close_code, exc.close_reason)
            return False
        await self.send(res_ok(frame["id"], hello))
        self.server.connection_ready(self)
        return True

    def _connect(self, frame: dict[str, Any]) -> dict[str, Any]:
        if frame["method"] != "connect":
            message = "invalid handshake: first request must be connect"
            raise ConnectRejected(INVALID_REQUEST, message)
        params = frame.get("params")
        problem = connect_params_problem(params)
        if problem:
            raise ConnectRejected(INVALID_REQUEST, f"invalid connect params: {problem}")
        self.client = params["client"]
        if self.server.draining:
            raise ConnectRejected(
                UNAVAILABLE, "connect unavailable during gateway restart", CLOSE_TRY_AGAIN,
                "gateway restart in progress",
                {"method": "connect", "reason": "restart", "phase": "draining"}, retryable=True, retry_after_ms=1000,
            )
        protocol = negotiate(params)
        if protocol is None:
            logfile.warn(
                f"protocol mismatch conn={self.id} client={self.client['id']} {self.client['mode']} "
                f"v{self.client['version']} min={params['minProtocol']} max={params['maxProtocol']} "
                f"expected={PROTOCOL_VERSION} probeMin={MIN_PROBE_PROTOCOL}"
            )
            raise ConnectRejected(
                INVALID_REQUEST, "protocol mismatch", CLOSE_PROTOCOL, "protocol mismatch",
                {"code": "PROTOCOL_MISMATCH", "clientMinProtocol": params["minProtocol"],
                 "clientMaxProtocol": params["maxProtocol"], "expectedProtocol": PROTOCOL_VERSION,
                 "minimumProbeProtocol": MIN_PROBE_PROTOCOL},
            )
        role = params.get("role") or "operator"
        if role not in ("operator", "node"):
            raise ConnectRejected(INVALID_REQUEST, "invalid role")
        origin = self.request.headers.get("Origin")
        if origin and not _origin_allowed(origin, self.request):
            raise ConnectRejected(
                INVALID_REQUEST,
                "origin not allowed (open the Control UI from the gateway host or allow it in "
                "gateway.controlUi.allowedOrigins)",
                details={"code": "CONTROL_UI_ORIGIN_NOT_ALLOWED"},
            )
        method, scopes = self._authenticate(params)
        self.role, self.scopes, self.authenticated = role, scopes, True
        return self.server.hello_payload(self, protocol, method)

    def _authenticate(self, params: dict[str, Any]) -> tuple[str, list[str]]:
        limiter, mode = self.server.rate_limiter, self.client["mode"]
        locked_ms = 0 if self.local else limiter.locked_for_ms(self.remote)
        if locked_ms:
            raise rejection("rate_limited", mode, self.local, retry_after_ms=locked_ms)
        outcome = check_shared_secret(self.server.settings.auth, params.get("auth"))
        if not outcome.ok:
            if not self.local:
                limiter.failure(self.remote)
            raise rejection(outcome.reason, mode, self.local)
        if not self.local:
            limiter.success(self.remote)
        requested = list(dict.fromkeys(params.get("scopes") or []))
        if isinstance(params.get("device"), dict):
            from openclaw.gateway.device import verify_device

            device_id = verify_device(params, self.nonce, int(time.time() * 1000))
            if outcome.method == "none" and not self.local:
                raise ConnectRejected(
                    NOT_PAIRED, "pairing required: device is not approved yet",
                    close_reason=f"pairing required: device is not approved yet (deviceId: {device_id[:12]})",
                    details={"code": "PAIRING_REQUIRED", "reason": "not-paired", "deviceId": device_id,
                             "requestedRole": params.get("role") or "operator", "requestedScopes": requested},
                )
            return outcome.method, requested
        if self.local:
            return outcome.method, requested
        if outcome.method in ("token", "password"):
            return outcome.method, []  # device-less remote: connect-only, as upstream
        raise ConnectRejected(NOT_PAIRED, "device identity required", close_reason="device identity required",
                              details={"code": "DEVICE_IDENTITY_REQUIRED"})

    async def _serve(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                self._handle_text(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await self.send(res_err("invalid", RpcError(INVALID_REQUEST, "invalid request frame: binary").shape()))
            elif msg.type == WSMsgType.ERROR:
                break
        for task in list(self._tasks):
            task.cancel()

    def _handle_text(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError as exc:
            frame, problem = None, f"invalid JSON ({exc.msg})"
        else:
            problem = request_frame_problem(frame)
        if problem:
            req_id = frame.get("id") if isinstance(frame, dict) and isinstance(frame.get("id"), str) else "invalid"
            error = RpcError(INVALID_REQUEST, f"invalid request frame: {problem}").shape()
            self._spawn(self.send(res_err(req_id or "invalid", error)))
            return
        self._spawn(self._dispatch(frame))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        req_id, name = frame["id"], frame["method"]
        try:
            payload = await self._call(name, frame.get("params"))
        except RpcError as exc:
            await self.send(res_err(req_id, exc.shape()))
            if self.unauthorized_calls > MAX_UNAUTHORIZED_CALLS:
                await self.close(CLOSE_POLICY, "repeated unauthorized calls")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler bug must not take the connection down
            logfile.error(f"method {name} failed: {exc!r}", subsystem="rpc")
            await self.send(res_err(req_id, RpcError(UNAVAILABLE, str(exc) or type(exc).__name__).shape()))
            return
        await self.send(res_ok(req_id, payload))

    async def _call(self, name: str, params: Any) -> Any:
        m = self.server.methods.get(name)
        if m is None:
            raise RpcError(INVALID_REQUEST, f"unknown method: {name}")
        if self.role != "operator":
            self.unauthorized_calls += 1
            raise RpcError(INVALID_REQUEST, f"unauthorized role: {self.role}")
        if m.scope is not None and not satisfies(self.scopes, m.scope):
            raise missing_scope_error(m.scope)
        checked = check_params(m, params)
        return await m.handler(CallContext(self.server, self, checked))

    @property
    def ephemeral(self) -> bool:
        return self.client.get("mode") in EPHEMERAL_MODES
