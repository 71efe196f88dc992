"""`POST /tools/invoke`: call one of an agent's tools directly, as the owner, behind the gateway's
secret, with the same tool policy as its runs plus an HTTP deny list.

The deny list comes from what each tool declares it does (`Tool.changes_host`: it executes
programs, mutates files or changes an instance), not from a list of names that goes stale as
tools are added: `exec`, `write`, `edit`, the rescue tools and any later tool of those kinds
answer 404 here unless `gateway.tools.allow` names them. `gateway.tools.deny` adds names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw import logfile, memguard
from openclaw.gateway.httpapi.common import (
    ApiError,
    allow_methods,
    authorize,
    json_body,
    reserved_session_key,
)

if TYPE_CHECKING:
    from openclaw.agents.tools import Tool
    from openclaw.config.view import Config
    from openclaw.gateway.state.context import GatewayContext


def _fail(status: int, message: str, kind: str = "invalid_request", headers: dict[str, str] | None = None,
          ) -> web.Response:
    return web.json_response({"ok": False, "error": {"type": kind, "message": message}}, status=status,
                             headers=headers)


def denied_over_http(tools: list[Tool], config: Config) -> set[str]:
    """Tools that change the host (by their kind) unless allowed by name, plus those denied by name."""
    rule = config.http_tools
    allow = rule.allow or frozenset()
    return {t.name for t in tools if t.changes_host and t.name not in allow} | set(rule.deny)


async def invoke(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
    try:
        allow_methods(request, "POST")
        authorize(request, gateway)
        body = await json_body(request, gateway)
        return await _invoke(body, gateway)
    except ApiError as exc:
        return _fail(exc.status, exc.message, exc.kind, exc.headers)


async def _invoke(body: dict[str, Any], gateway: GatewayContext) -> web.Response:
    from openclaw.agents.run import TurnInput
    from openclaw.agents.tools import ToolContext, ToolError
    from openclaw.gateway.state.runstream import session_key
    from openclaw.models.types import ModelError

    agents = gateway.agents  # a tool needs no model: no `runtime()` check here
    name = body.get("name") or body.get("tool")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "tool (or name) is required")
    given = body.get("args")
    args: dict[str, Any] = given if isinstance(given, dict) else {}
    try:
        agent = agents.agent_id(body.get("agentId") if isinstance(body.get("agentId"), str) else None)
    except ModelError as exc:  # an unknown agent is the caller's mistake
        raise ApiError(400, str(exc)) from None
    raw_key = body.get("sessionKey") if isinstance(body.get("sessionKey"), str) else None
    if raw_key and reserved_session_key(raw_key):
        raise ApiError(400, f"session key {raw_key!r} is in a reserved namespace (subagent:, cron:, acp:)")
    key = session_key(agents, None if raw_key in (None, "", "main") else raw_key, agent)
    turn = TurnInput(key, "", agent_id=agent, operator=True, channel="http")
    tools = agents.tools_for(turn, agent)
    tool = next((t for t in tools if t.name == name), None)
    if tool is None or name in denied_over_http(tools, gateway.settings.config):
        raise ApiError(404, f"tool {name!r} is not available over HTTP for agent {agent}", "not_found")
    if isinstance(body.get("action"), str) and "action" in tool.spec.parameters.get("properties", {}):
        args.setdefault("action", body["action"])
    context = ToolContext(agents.workspace(agent), agent, key, True, agents.env)
    try:
        result = await tool.run(args, context)
    except ToolError as exc:  # written for the caller to read
        raise ApiError(400, str(exc), "tool_error") from None
    except Exception as exc:  # noqa: BLE001 - a tool crash is logged, not sent to the caller
        memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
        logfile.warn(f"/tools/invoke {name} failed: {type(exc).__name__}: {exc}", subsystem="http")
        raise ApiError(500, f"{name} failed (the gateway log has the reason)", "tool_failed") from None
    return web.json_response({"ok": True, "result": result})
