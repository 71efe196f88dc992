"""The RPC method registry: name -> required scope, params model, handler; what a handler is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.gateway.scopes import ADMIN

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext
    from openclaw.gateway.state.peer import Peer


@dataclass
class CallContext:
    gateway: GatewayContext
    conn: Peer
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
    params: str | None  # the name of its params model in methods/schemas.py; None: any object accepted

    def model(self) -> type | None:
        """The params model, loaded with the first call of any method rather than at start."""
        if self.params is None:
            return None
        # classes a gateway needs only once called, in three modules by family (the core methods, the
        # feature families, the Control UI's views); imported by name: the package would import every method
        import importlib

        for module in ("schemas", "feature_schemas", "ui_schemas"):
            models = importlib.import_module(f"openclaw.gateway.methods.{module}")
            found: type | None = getattr(models, self.params, None)
            if found is not None:
                return found
        raise LookupError(f"no params model {self.params!r} in the methods' schema modules")


REGISTRY: dict[str, Method] = {}


def method(name: str, scope: str | None, params: str | None = None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in REGISTRY and REGISTRY[name].handler.__module__ != handler.__module__:  # a reload is no clash
            raise RuntimeError(f"method {name} is registered twice ({REGISTRY[name].handler.__module__}, "
                               f"{handler.__module__})")
        REGISTRY[name] = Method(name, scope, handler, params)
        return handler

    return register
