"""Shared-secret authentication with upstream's exact messages and detail codes, and the
failed-auth limiter both the WebSocket handshake and HTTP bearer auth count against."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.gateway.protocol import CLOSE_POLICY, INVALID_REQUEST, ConnectRejected, truncate_reason
from openclaw.locality import client_address
from openclaw.sharedsecret import AuthConfig, equal, presents_secret

if TYPE_CHECKING:
    from aiohttp import web

    from openclaw.gateway.settings import GatewaySettings

# reason -> (details.code, recommendedNextStep)
_REASONS = {
    "token_missing": ("AUTH_TOKEN_MISSING", "update_auth_configuration"),
    "token_mismatch": ("AUTH_TOKEN_MISMATCH", "update_auth_credentials"),
    "token_missing_config": ("AUTH_TOKEN_NOT_CONFIGURED", "update_auth_configuration"),
    "password_missing": ("AUTH_PASSWORD_MISSING", "update_auth_configuration"),
    "password_mismatch": ("AUTH_PASSWORD_MISMATCH", "update_auth_credentials"),
    "password_missing_config": ("AUTH_PASSWORD_NOT_CONFIGURED", "update_auth_configuration"),
    "rate_limited": ("AUTH_RATE_LIMITED", "wait_then_retry"),
}


@dataclass(frozen=True)
class AuthOutcome:
    ok: bool
    method: str  # none | token | password
    reason: str | None = None
    presented: bool = False


def check_shared_secret(cfg: AuthConfig, auth: dict[str, Any] | None) -> AuthOutcome:
    auth = auth if isinstance(auth, dict) else {}
    token = auth.get("token") if isinstance(auth.get("token"), str) else None
    password = auth.get("password") if isinstance(auth.get("password"), str) else None
    if cfg.mode == "none":
        return AuthOutcome(True, "none")
    if cfg.mode == "password":
        secret = password or token
        if not cfg.password:
            return AuthOutcome(False, "password", "password_missing_config", bool(secret))
        if not secret:
            return AuthOutcome(False, "password", "password_missing")
        ok = equal(secret, cfg.password)
        return AuthOutcome(ok, "password", None if ok else "password_mismatch", True)
    secret = token or password
    if not cfg.token:
        return AuthOutcome(False, "token", "token_missing_config", bool(secret))
    if not secret:
        return AuthOutcome(False, "token", "token_missing")
    ok = equal(secret, cfg.token)
    return AuthOutcome(ok, "token", None if ok else "token_mismatch", True)


@dataclass(frozen=True)
class BearerOutcome:
    ok: bool
    locked_ms: int = 0  # > 0: refused by the limiter before the secret was looked at


def check_bearer(authorization: str | None, cfg: AuthConfig, limiter: RateLimiter, client: str, local: bool,
                 count_missing: bool = True) -> BearerOutcome:
    """HTTP's shared secret (`Authorization: Bearer <token or password>`) under the handshake's
    limiter rules: a direct local caller is exempt, anyone else is counted by `client` (the
    address a trusted proxy reports, else the peer). A missing header counts as a failure only
    when `count_missing` (probes answer callers without one and must not lock them out)."""
    if cfg.mode == "none":
        return BearerOutcome(True)
    key = limiter.key(client)
    locked = 0 if local else limiter.locked_for_ms(key)
    if locked:
        return BearerOutcome(False, locked)
    header = authorization or ""
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if token and presents_secret(cfg, [token]):
        if not local:
            limiter.success(key)
        return BearerOutcome(True)
    if not local and (token or count_missing):
        limiter.failure(key)
    return BearerOutcome(False)


def _hints(client_mode: str, local: bool) -> tuple[str, str]:
    if client_mode == "cli":
        if local:
            return ("use this gateway's gateway.auth.token or pair the device",
                    "use this gateway's gateway.auth.password")
        return ("set gateway.remote.token to match gateway.auth.token",
                "set gateway.remote.password to match gateway.auth.password")
    return "provide gateway auth token", "provide gateway auth password"


def auth_message(reason: str | None, client_mode: str, local: bool) -> str:
    token_hint, password_hint = _hints(client_mode, local)
    messages = {
        "token_missing": f"unauthorized: gateway token missing ({token_hint})",
        "token_mismatch": f"unauthorized: gateway token mismatch ({token_hint})",
        "token_missing_config": "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
        "password_missing": f"unauthorized: gateway password missing ({password_hint})",
        "password_mismatch": f"unauthorized: gateway password mismatch ({password_hint})",
        "password_missing_config":
            "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
        "rate_limited": "unauthorized: too many failed authentication attempts (retry later)",
    }
    return messages.get(reason or "", "unauthorized")


def rejection(reason: str | None, client_mode: str, local: bool, retry_after_ms: int | None = None) -> ConnectRejected:
    message = auth_message(reason, client_mode, local)
    code, step = _REASONS.get(reason or "", ("AUTH_REQUIRED", None))
    details: dict[str, Any] = {"code": code, "authReason": reason, "canRetryWithDeviceToken": False}
    if step:
        details["recommendedNextStep"] = step
    extra: dict[str, Any] = {}
    if reason == "rate_limited":
        extra = {"retryable": True, "retry_after_ms": retry_after_ms}
    return ConnectRejected(INVALID_REQUEST, message, CLOSE_POLICY, truncate_reason(message), details, **extra)


class RateLimiter:
    """Failed-auth limiter per client (loopback exempt), as upstream's defaults.

    A client is its address, or its /64 for IPv6 (one host can hold a whole
    /64). At most `max_clients` are remembered: expired entries go first, then
    the oldest, so a flood of addresses cannot grow it.
    """

    def __init__(self, max_attempts: int = 10, window_s: float = 60.0, lockout_s: float = 300.0,
                 max_clients: int = 4096) -> None:
        self.max_attempts, self.window_s, self.lockout_s = max_attempts, window_s, lockout_s
        self.max_clients = max_clients
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    @staticmethod
    def key(remote: str) -> str:
        try:
            addr = ipaddress.ip_address(remote)
        except ValueError:
            return remote
        if isinstance(addr, ipaddress.IPv6Address):
            if addr.ipv4_mapped is not None:
                return str(addr.ipv4_mapped)
            return str(ipaddress.IPv6Network((addr, 64), strict=False))
        return str(addr)

    def locked_for_ms(self, key: str) -> int:
        until = self._locked_until.get(key, 0.0)
        remaining = until - time.monotonic()
        return int(remaining * 1000) if remaining > 0 else 0

    def failure(self, key: str) -> None:
        now = time.monotonic()
        recent = [*[t for t in self._failures.pop(key, []) if now - t < self.window_s][-self.max_attempts:], now]
        if len(recent) >= self.max_attempts:
            self._locked_until.pop(key, None)
            self._locked_until[key] = now + self.lockout_s
        else:
            self._failures[key] = recent
        self._bound(now)

    def success(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures) + len(self._locked_until)

    def _bound(self, now: float) -> None:
        if len(self) <= self.max_clients:
            return
        for key in [k for k, ts in self._failures.items() if now - ts[-1] >= self.window_s]:
            del self._failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        for table in (self._failures, self._locked_until):  # insertion order: oldest first
            while len(self) > self.max_clients and table:
                del table[next(iter(table))]


def client_of(request: web.Request, settings: GatewaySettings) -> str:
    """The caller's address: the peer, or the client a `gateway.trustedProxies` proxy reports."""
    trusted = settings.snapshot.get("gateway", "trustedProxies")
    return client_address(request.remote, request.headers, tuple(trusted) if isinstance(trusted, list) else ())
