"""`/control-ui-config.json`: what a Control UI reads before it connects (base path, the assistant's
name, the server's version, which optional features to show), in upstream's shape and at upstream's
paths, for our own UI and for upstream's build alike. It needs the gateway's secret, as upstream's."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw import __version__

if TYPE_CHECKING:
    from openclaw.gateway.state.context import GatewayContext

NAME = "control-ui-config.json"


def config_paths(base: str) -> tuple[str, ...]:
    """The canonical path and the older spellings upstream's gateway still answers."""
    paths = [f"{base}/{NAME}", f"{base}/__openclaw/{NAME}"]
    if not base:
        paths.append(f"/__openclaw__/{NAME}")
    return tuple(paths)


async def _assistant(gateway: GatewayContext) -> tuple[str, str]:
    from openclaw.agents.workspace import agent_workspace
    from openclaw.gateway.methods.agents import identity_name

    config = gateway.settings.config
    agent_id = config.default_agent_id
    info = next((a for a in config.agents if a.id == agent_id), None)
    if info is not None and info.name:
        return agent_id, info.name
    workspace = agent_workspace(config, gateway.settings.paths, gateway.env, agent_id)
    return agent_id, await asyncio.to_thread(identity_name, workspace) or agent_id


async def payload(gateway: GatewayContext, base: str) -> dict[str, Any]:
    snap = gateway.settings.snapshot
    ui: dict[str, Any] = snap.get("gateway", "controlUi") or {}
    agent_id, name = await _assistant(gateway)
    sandbox = ui.get("embedSandbox")
    out: dict[str, Any] = {
        "basePath": base, "assistantName": name, "assistantAvatar": name[:1].upper() or "A",
        "assistantAvatarSource": None, "assistantAvatarStatus": None, "assistantAvatarReason": None,
        "assistantAgentId": agent_id, "serverVersion": __version__,
        "embedSandbox": sandbox if sandbox in ("trusted", "strict") else "scripts",
        "allowExternalEmbedUrls": ui.get("allowExternalEmbedUrls") is True,
        "automaticallyFetchFavicons": ui.get("automaticallyFetchFavicons") is not False,
        "communityInvite": ui.get("communityInvite") is not False,
        "terminalEnabled": False,  # no terminal on this gateway
        "cliAgentsEnabled": False,  # nor CLI agents
        "pluginAssetsRequireAuth": gateway.settings.auth.mode != "none",
        "pluginFrameGrants": [],
    }
    if ui.get("root") is None:
        out["serverBuildId"] = __version__
    seam = snap.get("ui", "seamColor")
    if seam is not None:
        out["seamColor"] = seam
    if ui.get("environment") is not None:
        out["environment"] = ui["environment"]
    return out


async def answer(request: web.Request, gateway: GatewayContext, base: str) -> web.Response:
    from openclaw.gateway.httpapi.common import ApiError, authorize

    try:
        authorize(request, gateway)
    except ApiError as err:
        return err.response()
    headers = {"Cache-Control": "no-cache"}
    if request.method == "HEAD":
        return web.Response(status=200, content_type="application/json", charset="utf-8", headers=headers)
    return web.json_response(await payload(gateway, base), headers=headers)
