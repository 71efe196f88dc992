"""The `connect` request's rules, in upstream's order, as functions of what the client sent.

Frame shape and method, params (the typed `ConnectParams`), drain state, protocol window,
role, origin and host (`browserrules`, shared with every HTTP route), rate limit, shared
secret, device proof, scopes. A failure raises `ConnectRejected` with upstream's exact
message, detail code and close code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Required

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict

from openclaw import logfile
from openclaw.gateway.auth import RateLimiter, check_shared_secret, rejection
from openclaw.gateway.params import NonEmpty, Object, Positive, StringsOrNone, adapter, lenient
from openclaw.gateway.protocol import (
    CLIENT_IDS,
    CLIENT_MODES,
    CLOSE_PROTOCOL,
    CLOSE_TRY_AGAIN,
    INVALID_REQUEST,
    MIN_PROBE_PROTOCOL,
    NOT_PAIRED,
    PROTOCOL_VERSION,
    UNAVAILABLE,
    ClientId,
    ClientMode,
    ConnectRejected,
)
from openclaw.gateway.transport.browserrules import problem as browser_problem
from openclaw.sharedsecret import AuthConfig

if TYPE_CHECKING:
    from openclaw.gateway.state.devicestore import DeviceStore


@dataclass(frozen=True)
class Peer:
    """What the handshake knows about the other end, besides what it sent in `connect`."""

    conn_id: str
    remote: str
    local: bool  # loopback peer, no proxy headers, loopback Host
    origin: str | None  # browsers send one
    host: str | None  # the Host header
    nonce: str  # the challenge we sent


@lenient
class ClientInfo(TypedDict):
    id: ClientId
    version: NonEmpty
    platform: NonEmpty
    mode: ClientMode


@lenient
class ConnectParams(TypedDict, total=False):
    """`connect`'s params; unknown keys are ignored (newer CLIs send fields we do not know)."""

    minProtocol: Required[Positive]
    maxProtocol: Required[Positive]
    client: Required[ClientInfo]
    scopes: StringsOrNone
    auth: Object | None
    device: Object | None


# the one problem reported, the first of these in upstream's order: types before client.id|mode membership
_ORDER = ("minProtocol", "maxProtocol", "client", "client.id", "client.version", "client.platform",
          "client.mode", "client.id one of", "client.mode one of", "scopes", "auth", "device")


def _connect_problem(error: ErrorDetails) -> tuple[str, str]:
    """(where in _ORDER, message) for one pydantic error."""
    where = ".".join(str(part) for part in error["loc"][:2])
    if where in ("minProtocol", "maxProtocol"):
        return where, f"{where} must be an integer >= 1"
    if where == "client":
        return where, "client must be an object"
    if where in ("client.id", "client.mode"):
        value = error.get("input")
        if error["type"] == "literal_error" and isinstance(value, str) and value:
            allowed = CLIENT_IDS if where == "client.id" else CLIENT_MODES
            return f"{where} one of", f"{where} must be one of {', '.join(sorted(allowed))}"
    if where.startswith("client."):
        return where, f"{where} must be a non-empty string"
    if where.startswith("scopes"):
        return "scopes", "scopes must be an array of strings"
    return where, f"{where} must be an object"


def connect_params_problem(params: Any) -> str | None:
    """The first thing wrong with `connect`'s params, in upstream's words; None if nothing is."""
    if not isinstance(params, dict):
        return "params must be an object"
    try:
        adapter(ConnectParams).validate_python(params)
    except ValidationError as exc:
        found = [_connect_problem(e) for e in exc.errors(include_url=False)]
        return min(found, key=lambda problem: _ORDER.index(problem[0]))[1]
    return None


def connect_params(params: Any) -> dict[str, Any]:
    """`connect`'s params if they are valid, else ConnectRejected."""
    problem = connect_params_problem(params)
    if problem is not None or not isinstance(params, dict):
        raise ConnectRejected(INVALID_REQUEST, f"invalid connect params: {problem}")
    return params


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


def check_connect(frame: dict[str, Any], peer: Peer, draining: bool, allowed_origins: Sequence[str],
                  auth: AuthConfig, limiter: RateLimiter,
                  devices: DeviceStore | None = None) -> tuple[int, str, str, list[str]]:
    """Every rule up to the scopes: (protocol, auth method, role, scopes), or ConnectRejected."""
    if frame["method"] != "connect":
        raise ConnectRejected(INVALID_REQUEST, "invalid handshake: first request must be connect")
    params = connect_params(frame.get("params"))
    client = params["client"]
    if draining:
        raise ConnectRejected(
            UNAVAILABLE, "connect unavailable during gateway restart", CLOSE_TRY_AGAIN, "gateway restart in progress",
            {"method": "connect", "reason": "restart", "phase": "draining"}, retryable=True, retry_after_ms=1000,
        )
    protocol = negotiate(params)
    if protocol is None:
        logfile.warn(
            f"protocol mismatch conn={peer.conn_id} client={client['id']} {client['mode']} v{client['version']} "
            f"min={params['minProtocol']} max={params['maxProtocol']} expected={PROTOCOL_VERSION} "
            f"probeMin={MIN_PROBE_PROTOCOL}"
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
    refused = browser_problem(peer.origin, peer.host, allowed_origins, auth.mode)  # the same rules as HTTP
    if refused is not None:
        raise ConnectRejected(INVALID_REQUEST, refused, details={"code": "CONTROL_UI_ORIGIN_NOT_ALLOWED"})
    method, scopes = authenticate(params, peer, auth, limiter, devices)
    return protocol, method, role, scopes


def _paired_scopes(params: dict[str, Any], peer: Peer, devices: DeviceStore | None, device_id: str,
                   requested: list[str]) -> list[str]:
    from openclaw.gateway.scopes import ADMIN

    device = params["device"]
    approved = devices.approved_scopes(device_id, device.get("publicKey")) if devices is not None else None
    if approved is not None:
        return requested if ADMIN in approved else [s for s in requested if s in approved]
    request = devices.request(device, params, peer.remote) if devices is not None else {}
    raise ConnectRejected(
        NOT_PAIRED, "pairing required: device is not approved yet",
        close_reason=f"pairing required: device is not approved yet (deviceId: {device_id[:12]})",
        details={"code": "PAIRING_REQUIRED", "reason": "not-paired", "deviceId": device_id,
                 "requestId": request.get("requestId"), "requestedRole": params.get("role") or "operator",
                 "requestedScopes": requested},
    )


def authenticate(params: dict[str, Any], peer: Peer, auth: AuthConfig, limiter: RateLimiter,
                 devices: DeviceStore | None = None) -> tuple[str, list[str]]:
    """The shared secret, then the device proof; returns (auth method, effective scopes).

    Local devices are approved silently, as upstream's are, and get what the same
    request gets without one. A remote device gets the scopes an operator approved
    for it (`openclaw devices approve`), at most those it asks for; until then it is
    refused with `pairing required` and waits as a pending request.
    """
    mode = params["client"]["mode"]
    key = limiter.key(peer.remote)
    locked_ms = 0 if peer.local else limiter.locked_for_ms(key)
    if locked_ms:
        raise rejection("rate_limited", mode, peer.local, retry_after_ms=locked_ms)
    outcome = check_shared_secret(auth, params.get("auth"))
    if not outcome.ok:
        if not peer.local:
            limiter.failure(key)
        raise rejection(outcome.reason, mode, peer.local)
    if not peer.local:
        limiter.success(key)
    requested = list(dict.fromkeys(params.get("scopes") or []))
    if isinstance(params.get("device"), dict):
        from openclaw.gateway.transport.device import verify_device

        device_id = verify_device(params, peer.nonce, int(time.time() * 1000))
        if not peer.local:
            return outcome.method, _paired_scopes(params, peer, devices, device_id, requested)
    if peer.local:
        return outcome.method, requested
    if outcome.method in ("token", "password"):
        return outcome.method, []  # device-less remote: connect-only, as upstream
    raise ConnectRejected(NOT_PAIRED, "device identity required", close_reason="device identity required",
                          details={"code": "DEVICE_IDENTITY_REQUIRED"})
