"""The RPC method registry: name -> required scope, params model, handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.gateway.scopes import ADMIN

if TYPE_CHECKING:
    from openclaw.gateway.connection import Connection
    from openclaw.gateway.context import GatewayContext


@dataclass
class CallContext:
    gateway: GatewayContext
    conn: Connection
    params: dict[str, Any]
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.conn.scopes


Handler = Callable[[CallContext], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    name: str
    scope: str | None  # None: exempt from scope checks
    handler: Handler
    params: type | None  # a `@closed` TypedDict (gateway/params.py); None: any object accepted


REGISTRY: dict[str, Method] = {}


def method(name: str, scope: str | None, params: type | None = None) -> Callable[[Handler], Handler]:
    if params is not None and "__pydantic_config__" not in vars(params):
        raise TypeError(f"{name}: params {params.__name__} must be marked @closed (gateway/params.py)")

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Method(name, scope, handler, params)
        return handler

    return register


def load_methods() -> dict[str, Method]:
    """Import the method modules (each registers itself) and return the registry."""
    from openclaw.gateway.methods import (  # noqa: F401
        agents,
        browser,
        channels,
        chat,
        config_methods,
        cron,
        devices,
        diagnostics,
        health,
        instances,
        logs,
        pairing,
        sessions,
        status,
    )

    return REGISTRY
