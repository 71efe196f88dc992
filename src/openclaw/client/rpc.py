"""A small synchronous protocol-v4 client for one-shot CLI commands.

It speaks WebSocket through `openclaw.client.websocket`, a small standard-library client,
whose import costs next to nothing, keeping every CLI command well under 0.3 s.
"""

from __future__ import annotations

import itertools
import json
import platform
import time
import uuid
from typing import Any

from openclaw import __version__
from openclaw.client.websocket import HandshakeError, WebSocket, WebSocketClosed
from openclaw.errors import OpenClawError

DEFAULT_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 26_214_400  # the largest answer a command accepts (a whole log tail, a config)
CLI_SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.approvals",
              "operator.questions", "operator.pairing", "operator.talk.secrets"]


class GatewayUnreachable(OpenClawError):
    """Nothing answered at the URL (refused, timed out, not a gateway)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"gateway not reachable at {url} ({reason})")
        self.url, self.reason = url, reason


class GatewayCallError(OpenClawError):
    """The gateway answered with an error shape (handshake or method)."""

    def __init__(self, error: dict[str, Any], close_code: int | None = None) -> None:
        super().__init__(str(error.get("message") or error.get("code") or "gateway error"))
        self.error = error
        self.code = error.get("code")
        self.details = error.get("details") if isinstance(error.get("details"), dict) else {}
        self.close_code = close_code


class GatewayClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        password: str | None = None,
        *,
        client_id: str = "cli",
        mode: str = "cli",
        scopes: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        min_protocol: int = 4,
        max_protocol: int = 4,
        display_name: str | None = None,
        identity: Any = None,
    ) -> None:
        self.url, self.token, self.password = url, token, password
        self.client_id, self.mode = client_id, mode
        self.scopes = list(CLI_SCOPES if scopes is None else scopes)
        self.timeout = timeout
        self.min_protocol, self.max_protocol = min_protocol, max_protocol
        self.display_name = display_name
        self.identity = identity  # openclaw.client.identity.DeviceIdentity, optional
        self.hello: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.accepted: dict[str, Any] | None = None
        self.connect_ms = 0.0
        self._ids = itertools.count(1)
        self._ws: WebSocket | None = None

    # -- connection ----------------------------------------------------------
    def connect(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            self._ws = WebSocket.connect(self.url, self.timeout, MAX_MESSAGE_BYTES,
                                         user_agent=f"openclaw-python/{__version__}")
        except (OSError, TimeoutError) as exc:
            raise GatewayUnreachable(self.url, _reason(exc)) from None
        except HandshakeError as exc:
            raise GatewayUnreachable(self.url, f"not a gateway WebSocket: {exc}") from None
        challenge = self._next_event("connect.challenge")
        nonce = (challenge.get("payload") or {}).get("nonce")
        ts = (challenge.get("payload") or {}).get("ts")
        if not nonce:
            self.close()
            raise GatewayUnreachable(self.url, "connect challenge missing nonce")
        self.hello = self._request("connect", self._connect_params(str(nonce), ts))
        self.connect_ms = (time.perf_counter() - started) * 1000
        return self.hello

    def _connect_params(self, nonce: str, ts: Any) -> dict[str, Any]:
        auth: dict[str, Any] = {}
        if self.token:
            auth["token"] = self.token
        if self.password:
            auth["password"] = self.password
        client = {
            "id": self.client_id, "version": __version__, "platform": platform.system().lower(),
            "mode": self.mode, "instanceId": str(uuid.uuid4()),
        }
        if self.display_name:
            client["displayName"] = self.display_name
        params: dict[str, Any] = {
            "minProtocol": self.min_protocol, "maxProtocol": self.max_protocol, "client": client,
            "caps": [], "role": "operator", "scopes": self.scopes,
        }
        if auth:
            params["auth"] = auth
        if self.identity is not None:
            signed_at = ts if isinstance(ts, int) else int(time.time() * 1000)
            params["device"] = self.identity.sign_connect(params, nonce, signed_at)
        return params

    def close(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            ws.close(timeout=1.0)

    def __enter__(self) -> GatewayClient:
        self.connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- requests ------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None,
             expect_final: bool = False) -> Any:
        """One request. `expect_final`: an `accepted` answer is interim (kept in `self.accepted`);
        wait for the final one, as upstream's clients do for `agent`."""
        return self._request(method, params, timeout, expect_final)

    def _request(self, method: str, params: Any, timeout: float | None = None, expect_final: bool = False) -> Any:
        req_id = f"{next(self._ids)}:{uuid.uuid4()}"
        frame: dict[str, Any] = {"type": "req", "id": req_id, "method": method}
        if params is not None:
            frame["params"] = params
        self._send(frame)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._recv(deadline)
            if msg.get("type") == "event":
                self.events.append(msg)
                continue
            if msg.get("type") == "res" and msg.get("id") == req_id:
                payload = msg.get("payload")
                if msg.get("ok") and expect_final and isinstance(payload, dict) and payload.get("status") == "accepted":
                    self.accepted = payload
                    continue
                if msg.get("ok"):
                    return payload
                close_code = self._close_code() if method == "connect" else None
                raise GatewayCallError(msg.get("error") or {}, close_code)

    def _send(self, frame: dict[str, Any]) -> None:
        if self._ws is None:
            raise GatewayUnreachable(self.url, "connection closed (no code)")
        try:
            self._ws.send(json.dumps(frame), timeout=self.timeout)
        except WebSocketClosed as exc:
            raise GatewayUnreachable(self.url, f"connection closed ({exc.code or 'no code'})") from None
        except (OSError, TimeoutError) as exc:
            raise GatewayUnreachable(self.url, _reason(exc)) from None

    def _recv(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GatewayUnreachable(self.url, "timed out waiting for a response")
        if self._ws is None:
            raise GatewayUnreachable(self.url, "connection closed")
        try:
            raw = self._ws.recv(timeout=remaining)
        except TimeoutError:
            raise GatewayUnreachable(self.url, "timed out waiting for a response") from None
        except WebSocketClosed as exc:
            raise GatewayUnreachable(self.url, str(exc)) from None
        except OSError as exc:
            raise GatewayUnreachable(self.url, _reason(exc)) from None
        try:
            msg = json.loads(raw)
        except ValueError:
            return {}
        return msg if isinstance(msg, dict) else {}

    def _next_event(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._recv(deadline)
            if msg.get("type") == "event" and msg.get("event") == name:
                return msg

    def _close_code(self) -> int | None:
        """The code of the close frame that follows a refused handshake, if one comes soon."""
        if self._ws is None:
            return None
        try:
            self._ws.recv(timeout=0.5)
        except WebSocketClosed as exc:
            return exc.code
        except (OSError, TimeoutError):
            return None
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
