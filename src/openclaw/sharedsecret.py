"""The gateway's shared secret (token or password) and the one way to compare against it.

Every surface that accepts the secret (the protocol handshake, HTTP probes,
the browser control port) checks it here, in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthConfig:
    mode: str  # none | token | password
    token: str | None
    password: str | None


def equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def presents_secret(cfg: AuthConfig, presented: Iterable[str]) -> bool:
    """Any presented value equals the configured token or password."""
    secrets = [s for s in (cfg.token, cfg.password) if s]
    return any(equal(p, s) for p in presented for s in secrets)
