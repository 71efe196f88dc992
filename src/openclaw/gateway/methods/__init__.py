"""The RPC method registry: name -> required scope, param checks, handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
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


@dataclass(frozen=True)
class Param:
    kind: type | tuple[type, ...]
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    items: type | None = None


ANY = (str, int, float, bool, list, dict, type(None))  # kinds for keys accepted but not read

Handler = Callable[[CallContext], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    name: str
    scope: str | None  # None: exempt from scope checks
    handler: Handler
    params: dict[str, Param] | None  # None: any params accepted


REGISTRY: dict[str, Method] = {}
MAX_PROBLEMS = 5  # listed in one error; the rest are counted


def method(name: str, scope: str | None, params: dict[str, Param] | None = None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Method(name, scope, handler, params)
        return handler

    return register


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {bool: "boolean", int: "integer", str: "string", list: "array", dict: "object"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _param_problem(key: str, value: Any, spec: Param) -> str | None:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{key} must be {_type_name(spec.kind)}"
    if not isinstance(value, kinds):
        return f"{key} must be {_type_name(spec.kind)}"
    if isinstance(value, int) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            return f"{key} must be >= {spec.minimum}"
        if spec.maximum is not None and value > spec.maximum:
            return f"{key} must be <= {spec.maximum}"
    if isinstance(value, str) and spec.minimum and len(value) < spec.minimum:
        return f"{key} must not be empty"
    if isinstance(value, list) and spec.items and not all(isinstance(v, spec.items) for v in value):
        return f"{key} items must be {_type_name(spec.items)}"
    return None


def check_params(m: Method, params: Any) -> dict[str, Any]:
    """Closed-object validation like upstream's schemas; returns params or raises INVALID_REQUEST."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_REQUEST, f"invalid {m.name} params: must be object")
    if m.params is None:
        return params
    problems = [f"unexpected property '{k}'" for k in params if k not in m.params]
    for key, spec in m.params.items():
        if key not in params:
            if spec.required:
                problems.append(f"must have required property '{key}'")
            continue
        problem = _param_problem(key, params[key], spec)
        if problem:
            problems.append(problem)
    if problems:
        more = f" (+{len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise RpcError(INVALID_REQUEST, f"invalid {m.name} params: {'; '.join(problems[:MAX_PROBLEMS])}{more}")
    return params


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
