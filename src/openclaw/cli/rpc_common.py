"""What every client command shares: target flags, connecting, and the one-line 'down' error."""

from __future__ import annotations

import os
from typing import Any

from openclaw.client.rpc import GatewayCallError, GatewayClient, GatewayUnreachable
from openclaw.client.target import Target, resolve_target
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import resolve_paths


def target_from(url: str | None, token: str | None, password: str | None, port: int | None = None) -> Target:
    return resolve_target(resolve_paths(os.environ), os.environ, url=url, token=token, password=password, port=port)


def down_error(target: Target, exc: GatewayUnreachable) -> OpenClawError:
    if target.explicit_url:
        return OpenClawError(f"gateway not reachable at {target.url} ({exc.reason}); is it running?")
    from openclaw.services.lifecycle import definition_exists

    hint = target.start_hint + (" start" if definition_exists(target.paths, os.environ) else "")
    return OpenClawError(f"gateway not reachable at {target.url} ({exc.reason}); start it with: {hint}")


def rejected_error(target: Target, exc: GatewayCallError) -> OpenClawError:
    return OpenClawError(f"gateway at {target.url} refused the connection: {exc}")


def connect(target: Target, timeout_ms: int, **client_kw: Any) -> GatewayClient:
    """Connect or fail with one line: down (URL + start command) or refused (the gateway's reason)."""
    client = GatewayClient(target.url, target.token, target.password, timeout=timeout_ms / 1000, **client_kw)
    try:
        client.connect()
    except GatewayUnreachable as exc:
        raise down_error(target, exc) from None
    except GatewayCallError as exc:
        raise rejected_error(target, exc) from None
    return client


def call(client: GatewayClient, target: Target, method: str, params: dict[str, Any] | None = None,
         expect_final: bool = False) -> Any:
    try:
        return client.call(method, params, expect_final=expect_final)
    except GatewayUnreachable as exc:
        raise down_error(target, exc) from None
    except GatewayCallError as exc:
        raise OpenClawError(f"{method} failed: {exc.code}: {exc}") from None


def call_once(target: Target, timeout_ms: int, method: str, params: dict[str, Any] | None = None,
              **client_kw: Any) -> Any:
    """Connect, make one call, close; failures are the one-line errors above."""
    client = connect(target, timeout_ms, **client_kw)
    try:
        return call(client, target, method, params)
    finally:
        client.close()


# What `status` and `gateway status` ask for: read plus admin, so the scopes granted back (hello
# `auth.scopes`, the live authority) say what these credentials may do, and both name it alike.
CAPABILITY_SCOPES = ["operator.read", "operator.admin"]


def connect_for_capability(target: Target, timeout_ms: int, **client_kw: Any) -> tuple[GatewayClient, str]:
    """Connect asking for `CAPABILITY_SCOPES`; (client, its capability). Asking for less (read only)
    would report what was asked for, not what the connection may do."""
    client = connect(target, timeout_ms, scopes=CAPABILITY_SCOPES, **client_kw)
    return client, capability(((client.hello or {}).get("auth") or {}).get("scopes") or [])


def capability(scopes: list[str]) -> str:
    if "operator.admin" in scopes:
        return "admin-capable"
    if "operator.write" in scopes:
        return "write-capable"
    if "operator.read" in scopes:
        return "read-only"
    return "connect-only"
