"""Protocol v4 constants, frame shapes and error shapes (wire-compatible with upstream)."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

PROTOCOL_VERSION = 4
MIN_PROBE_PROTOCOL = 3
MAX_PREAUTH_BYTES = 65_536
MAX_PAYLOAD_BYTES = 26_214_400
MAX_BUFFERED_BYTES = 52_428_800
TICK_INTERVAL_MS = 30_000
HANDSHAKE_TIMEOUT_MS = 15_000
DEVICE_SKEW_MS = 120_000
MAX_PENDING_HANDSHAKE_FRAMES = 15
MAX_JSON_DEPTH = 64  # nesting of one frame's JSON
MAX_ERROR_CHARS = 2_000  # one error message on the wire

# close codes
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL = 1002
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012
CLOSE_TRY_AGAIN = 1013

ClientId = Literal[
    "webchat-ui", "openclaw-control-ui", "openclaw-browser-copilot", "openclaw-tui", "webchat", "cli",
    "gateway-client", "openclaw-macos", "openclaw-linux", "openclaw-ios", "openclaw-watchos",
    "openclaw-android", "node-host", "openclaw-worker", "test", "fingerprint", "openclaw-probe",
]
ClientMode = Literal["webchat", "cli", "ui", "backend", "node", "worker", "probe", "test"]
CLIENT_IDS = frozenset(get_args(ClientId))
CLIENT_MODES = frozenset(get_args(ClientMode))
EPHEMERAL_MODES = frozenset({"cli", "backend", "probe", "test"})

# error codes
INVALID_REQUEST = "INVALID_REQUEST"
FORBIDDEN = "FORBIDDEN"
UNAVAILABLE = "UNAVAILABLE"
NOT_PAIRED = "NOT_PAIRED"

EVENTS = ["connect.challenge", "agent", "chat", "tick", "shutdown", "presence", "health", "config.changed",
          "device.pair.requested", "device.pair.resolved", "exec.approval.requested", "exec.approval.resolved",
          "voicewake.changed", "sessions.changed", "heartbeat"]
# hello-ok `features.capabilities`: upstream's names for behaviours this gateway has
# (`published-model-catalog`: `models.list` answers from the configured catalog, as upstream's CLI needs)
CAPABILITIES = ["published-model-catalog"]


class RpcError(Exception):
    """A method failure that becomes an `ErrorShape` in the `res` frame."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retryable: bool | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
        self.retryable, self.retry_after_ms = retryable, retry_after_ms

    def shape(self) -> dict[str, Any]:
        return error_shape(self.code, self.message, self.details, self.retryable, self.retry_after_ms)


class ConnectRejected(RpcError):
    """A handshake failure: answered as an error `res`, then the socket closes."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_POLICY, close_reason: str | None = None,
                 details: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(code, message, details, **kw)
        self.close_code = close_code
        self.close_reason = message if close_reason is None else close_reason


def error_shape(
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    retryable: bool | None = None,
    retry_after_ms: int | None = None,
) -> dict[str, Any]:
    shape: dict[str, Any] = {"code": code, "message": cap(message)}
    if details is not None:
        shape["details"] = details
    if retryable is not None:
        shape["retryable"] = retryable
    if retry_after_ms is not None:
        shape["retryAfterMs"] = retry_after_ms
    return shape


def res_ok(req_id: str, payload: Any) -> dict[str, Any]:
    return {"type": "res", "id": req_id, "ok": True, "payload": payload}


def res_err(req_id: str, error: dict[str, Any]) -> dict[str, Any]:
    return {"type": "res", "id": req_id, "ok": False, "error": error}


def event_frame(event: str, payload: Any, seq: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "event", "event": event, "payload": payload}
    if seq is not None:
        frame["seq"] = seq
    return frame


def cap(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message no longer than `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 40]}... ({len(text) - limit + 40} more characters)"


def truncate_reason(text: str, limit: int = 120) -> str:
    """WebSocket close reasons are capped; cut on a UTF-8 boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # built once: json.loads(**kw) builds one per call


def decode_frame(text: str | bytes) -> tuple[Any, str | None]:
    """One client frame: (frame, None), or (what parsed, if anything, and why it is not a valid `req`)."""
    try:
        if isinstance(text, bytes):
            text = text.decode()
        frame = _DECODER.decode(text)
    except RecursionError:
        return None, f"nesting deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:  # UnicodeDecodeError included
        return None, f"invalid JSON ({getattr(exc, 'msg', exc)})"
    # Only `\\u` escapes can make lone surrogates, and nesting needs brackets: most frames skip the walk.
    if "\\u" in text or text.count("{") + text.count("[") > MAX_JSON_DEPTH:
        problem = json_problem(frame)
        if problem:
            return frame, problem
    return frame, request_frame_problem(frame)


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Too deep, or text that is not Unicode (lone surrogates from `\\ud800` escapes); no recursion."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not _unicode(node):
                return "invalid Unicode (lone surrogate)"
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            return f"nesting deeper than {max_depth} levels"
        if isinstance(node, dict):
            if not all(_unicode(k) for k in node):
                return "invalid Unicode (lone surrogate)"
            node = node.values()
        stack.extend((child, depth + 1) for child in node if isinstance(child, (str, dict, list)))
    return None


def _unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; text that is not valid Unicode goes out as `\\u` escapes, as JSON.stringify does."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def event_bytes(event: str, payload: bytes, seq: int) -> bytes:
    """An event frame around an already encoded payload: a broadcast encodes its payload once."""
    return b"".join((b'{"type":"event","event":', encode_json(event), b',"payload":', payload,
                     b',"seq":', str(seq).encode(), b"}"))


def request_frame_problem(frame: Any) -> str | None:
    """Why `frame` is not a valid `req` frame, or None if it is."""
    if not isinstance(frame, dict):
        return "frame must be an object"
    if frame.get("type") != "req":
        return "type must be \"req\""
    if not isinstance(frame.get("id"), str) or not frame["id"]:
        return "id must be a non-empty string"
    if not isinstance(frame.get("method"), str) or not frame["method"]:
        return "method must be a non-empty string"
    return None


def missing_scope_error(scope: str) -> RpcError:
    return RpcError(
        FORBIDDEN,
        f"missing scope: {scope}",
        {"code": "MISSING_SCOPE", "missingScope": scope, "requiredScopes": [scope]},
    )
