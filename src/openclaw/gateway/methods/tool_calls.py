"""`tools.invoke`: call one of an agent's tools directly over RPC, in upstream's answer shape
(`{ok, toolName, output}` or `{ok: false, error: {code, message}}`). Tools that change the host
(exec, write, edit, the rescue tools) are for admins only; `exec` still asks the exec approvals
policy as in a run."""

from __future__ import annotations

from typing import Any

from openclaw import logfile, memguard
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import WRITE


def _failed(name: str, code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "toolName": name, "error": {"code": code, "message": message}}


@method("tools.invoke", scope=WRITE, params="ToolsInvokeParams")
async def tools_invoke(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.run import TurnInput
    from openclaw.agents.tools import ToolContext, ToolError
    from openclaw.gateway.state.runstream import session_key
    from openclaw.models.types import ModelError

    agents = ctx.gateway.agents
    name = ctx.params["name"].strip()
    try:
        agent = agents.agent_id(ctx.params.get("agentId"))
    except ModelError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    raw_key = ctx.params.get("sessionKey")
    key = session_key(agents, None if raw_key in (None, "", "main") else raw_key, agent)
    turn = TurnInput(key, "", agent_id=agent, operator=True, channel="rpc")
    tool = next((t for t in agents.tools_for(turn, agent) if t.name == name), None)
    if tool is None:
        return _failed(name, "not_found", f"tool {name!r} is not available for agent {agent}")
    if tool.changes_host and not ctx.is_admin:
        return _failed(name, "forbidden", f"tool {name!r} changes the host: it needs operator.admin")
    args = ctx.params.get("args") or {}
    try:
        output = await tool.run(args, ToolContext(agents.workspace(agent), agent, key, True, agents.env))
    except ToolError as exc:
        return _failed(name, "validation_error", str(exc))
    except Exception as exc:  # noqa: BLE001 - a tool crash is logged, not sent to the caller
        memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
        logfile.warn(f"tools.invoke {name} failed: {type(exc).__name__}: {exc}", subsystem="rpc")
        return _failed(name, "internal_error", f"{name} failed (the gateway log has the reason)")
    return {"ok": True, "toolName": name, "output": output, "source": "core"}
