"""`GET /v1/models[/{id}]`: the agent targets a client may name as its `model`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw.gateway.httpapi.common import ApiError, allow_methods, authorize, handle_errors

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext


def _targets(gateway: GatewayContext) -> list[dict[str, Any]]:
    ids = ["openclaw", "openclaw/default"] + [f"openclaw/{a.id}" for a in gateway.settings.config.agents]
    return [{"id": i, "object": "model", "created": 0, "owned_by": "openclaw", "permission": []}
            for i in dict.fromkeys(ids)]


@handle_errors
async def list_models(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    allow_methods(request, "GET", "HEAD")
    authorize(request, gateway)
    return web.json_response({"object": "list", "data": _targets(gateway)})


@handle_errors
async def get_model(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    allow_methods(request, "GET", "HEAD")
    authorize(request, gateway)
    wanted = request.match_info["id"]
    found = next((m for m in _targets(gateway) if m["id"] == wanted), None)
    if found is None:
        raise ApiError(404, f"Model '{wanted}' not found.")
    return web.json_response(found)
