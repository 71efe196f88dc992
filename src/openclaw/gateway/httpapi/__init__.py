"""OpenAI-compatible HTTP on the gateway port (`/v1/models`, `/v1/chat/completions`,
`/v1/responses`) and `/tools/invoke`, each behind its switch and the gateway's bearer auth.

Routes exist only when switched on; the handlers' code loads with the first request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from openclaw.gateway.httpapi.state import HttpApiState
    from openclaw.gateway.state.context import GatewayContext

LONG_PATHS = ("/v1/chat/completions", "/v1/responses", "/tools/invoke")  # may run a whole agent turn


def add_api_routes(app: web.Application, gateway: GatewayContext, state: Callable[[], HttpApiState]) -> None:
    """`state`: what the endpoints keep between requests (made on first use, kept across restarts)."""
    from openclaw.gateway.httpapi.state import HTTP_API

    app[HTTP_API] = state
    snap = gateway.settings.snapshot
    completions = snap.get("gateway", "http", "endpoints", "chatCompletions", "enabled") is True
    responses = snap.get("gateway", "http", "endpoints", "responses", "enabled") is True

    def lazy(module: str, name: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            import importlib

            impl = getattr(importlib.import_module(f"openclaw.gateway.httpapi.{module}"), name)
            response: web.StreamResponse = await impl(request, gateway)
            return response

        return handler

    if completions or responses:
        app.router.add_route("*", "/v1/models", lazy("models", "list_models"))
        app.router.add_route("*", "/v1/models/{id:.+}", lazy("models", "get_model"))
    if completions:
        app.router.add_route("*", "/v1/chat/completions", lazy("completions", "chat_completions"))
    if responses:
        app.router.add_route("*", "/v1/responses", lazy("responses", "create_response"))
    app.router.add_route("*", "/tools/invoke", lazy("tools", "invoke"))
