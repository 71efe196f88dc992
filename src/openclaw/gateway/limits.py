"""Every bound a gateway puts on what clients may make it hold, and on how long it waits at start
for a port or a lock another process still holds; resolved once per start.

Wire-visible limits keep upstream's values (they are advertised in `hello-ok`);
the rest are ours. Tests and operators may tighten them through the
environment (milliseconds for times, bytes for sizes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openclaw.gateway.protocol import (
    HANDSHAKE_TIMEOUT_MS,
    MAX_BUFFERED_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_PREAUTH_BYTES,
    TICK_INTERVAL_MS,
)

BIND_RETRIES = 20  # the port is taken: tries again this often, this far apart
BIND_INTERVAL_S = 0.5
LOCK_TIMEOUT_S = 5.0  # another live gateway holds the state dir or config: waits this long

# env var -> (field, default, minimum)
_ENV = {
    "OPENCLAW_HANDSHAKE_TIMEOUT_MS": ("handshake_timeout_ms", HANDSHAKE_TIMEOUT_MS, 100),
    "OPENCLAW_TICK_INTERVAL_MS": ("tick_interval_ms", TICK_INTERVAL_MS, 100),
    "OPENCLAW_MAX_BUFFERED_BYTES": ("max_buffered_bytes", MAX_BUFFERED_BYTES, 64 * 1024),
    "OPENCLAW_MAX_IN_FLIGHT": ("max_in_flight", 32, 1),
    "OPENCLAW_HTTP_IDLE_TIMEOUT_MS": ("http_idle_ms", 10_000, 100),
    "OPENCLAW_HTTP_REQUEST_TIMEOUT_MS": ("http_request_ms", 30_000, 100),
    "OPENCLAW_HTTP_TURN_TIMEOUT_MS": ("http_turn_ms", 900_000, 100),
    "OPENCLAW_HTTP_BODY_BUDGET_BYTES": ("http_body_budget_bytes", 32 * 1024 * 1024, 64 * 1024),
    "OPENCLAW_HTTP_MAX_BUFFERED_BYTES": ("http_max_buffered_bytes", 1024 * 1024, 64 * 1024),
    "OPENCLAW_BIND_RETRIES": ("bind_retries", BIND_RETRIES, 0),
    "OPENCLAW_BIND_INTERVAL_MS": ("bind_interval_ms", int(BIND_INTERVAL_S * 1000), 10),
    "OPENCLAW_LOCK_TIMEOUT_MS": ("lock_timeout_ms", int(LOCK_TIMEOUT_S * 1000), 100),
}


@dataclass(frozen=True)
class Limits:
    handshake_timeout_ms: int = HANDSHAKE_TIMEOUT_MS  # upgrade to hello-ok, else close 1000
    tick_interval_ms: int = TICK_INTERVAL_MS
    preauth_bytes: int = MAX_PREAUTH_BYTES  # per message before hello-ok, checked on the frame header
    max_payload_bytes: int = MAX_PAYLOAD_BYTES  # per message after hello-ok
    max_buffered_bytes: int = MAX_BUFFERED_BYTES  # unsent bytes per connection, else 1008 slow consumer
    max_in_flight: int = 32  # requests of one connection running at once, else UNAVAILABLE busy
    http_idle_ms: int = 10_000  # a connection with no complete request (raw, slowloris, keep-alive)
    http_request_ms: int = 30_000  # one HTTP request, from handler start to the last byte written
    http_turn_ms: int = 900_000  # an HTTP request that runs an agent turn (/v1/chat/completions, ...)
    http_body_budget_bytes: int = 32 * 1024 * 1024  # request bodies held at once, all requests together
    http_max_buffered_bytes: int = 1024 * 1024  # a streamed HTTP reply's unsent bytes, else the reader is cut
    close_grace_ms: int = 1_000  # a closing peer gets this long to answer, then the socket is dropped
    bind_retries: int = BIND_RETRIES  # the port is taken: tries again this often (a restart's old owner lets go)
    bind_interval_ms: int = int(BIND_INTERVAL_S * 1000)
    lock_timeout_ms: int = int(LOCK_TIMEOUT_S * 1000)  # another live gateway holds the state dir or config

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        values: dict[str, int] = {}
        for key, (name, default, minimum) in _ENV.items():
            try:
                values[name] = max(minimum, int(env.get(key) or default))
            except ValueError:
                values[name] = default
        return cls(**values)

    @property
    def handshake_timeout_s(self) -> float:
        return self.handshake_timeout_ms / 1000

    @property
    def close_grace_s(self) -> float:
        return self.close_grace_ms / 1000

    @property
    def bind_interval_s(self) -> float:
        return self.bind_interval_ms / 1000

    @property
    def lock_timeout_s(self) -> float:
        return self.lock_timeout_ms / 1000
