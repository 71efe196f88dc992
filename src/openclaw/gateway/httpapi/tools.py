"""`POST /tools/invoke`: call one of an agent's tools directly, as the owner, with the same
tool policy as its runs plus an HTTP deny list (`exec` by default; `gateway.tools.allow|deny`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw.gateway.httpapi.common import allow_methods, authorize, json_body, runtime

if TYPE_CHECKING:
    from openclaw.gateway.context import GatewayContext

HTTP_DENY = frozenset({"exec", "spawn", "shell", "fs_write", "fs_delete", "fs_move", "apply_patch",
                       "sessions_spawn", "sessions_send", "cron", "gateway", "nodes"})


def _fail(status: int, message: str, kind: str = "invalid_request") -> web.Response:
    return web.json_response({"ok": False, "error": {"type": kind, "message": message}}, status=status)


def _denied(config: dict[str, Any]) -> set[str]:
    section = (config.get("gateway") or {}).get("tools") or {}
    allow = {str(n) for n in section.get("allow") or []}
    return (set(HTTP_DENY) - allow) | {str(n) for n in section.get("deny") or []}


async def invoke(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    from openclaw.agents.run import TurnInput
    from openclaw.agents.tools import ToolContext, ToolError
    from openclaw.gateway.httpapi.common import ApiError
    from openclaw.gateway.runstream import session_key

    try:
        allow_methods(request, "POST")
        authorize(request, gateway)
        body = await json_body(request)
        agents = runtime(gateway)
    except ApiError as exc:
        return _fail(exc.status, exc.message, exc.kind)
    name = body.get("name") or body.get("tool")
    if not isinstance(name, str) or not name:
        return _fail(400, "tool (or name) is required")
    args = body.get("args") if isinstance(body.get("args"), dict) else {}
    try:
        agent = agents.agent_id(body.get("agentId") if isinstance(body.get("agentId"), str) else None)
    except Exception as exc:  # noqa: BLE001 - an unknown agent is the caller's mistake
        return _fail(400, str(exc))
    raw_key = body.get("sessionKey") if isinstance(body.get("sessionKey"), str) else None
    key = session_key(agents, None if raw_key in (None, "", "main") else raw_key, agent)
    turn = TurnInput(key, "", agent_id=agent, operator=True, channel="http")
    tool = next((t for t in agents.tools_for(turn, agent) if t.name == name), None)
    if tool is None or name in _denied(gateway.settings.snapshot.resolved):
        return _fail(404, f"tool {name!r} is not available over HTTP for agent {agent}", "not_found")
    if isinstance(body.get("action"), str) and "action" in tool.spec.parameters.get("properties", {}):
        args.setdefault("action", body["action"])
    context = ToolContext(agents.workspace(agent), agent, key, True, agents.env)
    try:
        result = await tool.run(args, context)
    except ToolError as exc:
        return _fail(400, str(exc), "tool_error")
    except Exception as exc:  # noqa: BLE001 - a tool crash is reported, not raised through the server
        return _fail(500, f"{name} failed: {type(exc).__name__}", "tool_failed")
    return web.json_response({"ok": True, "result": result})
