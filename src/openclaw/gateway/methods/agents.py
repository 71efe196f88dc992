"""`agent`, `agent.wait`, `agent.identity.get`, `agents.list`, `models.list`."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError, missing_scope_error, res_ok
from openclaw.gateway.scopes import ADMIN, READ, WRITE
from openclaw.gateway.state import chatcommands
from openclaw.gateway.state.agentresult import final_payload
from openclaw.gateway.state.runstream import RunStream, runtime_for, turn_session

DEFAULT_WAIT_MS = 30_000


@method("agent", scope=WRITE, params="AgentParams")
async def agent(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.run import TurnInput

    p = ctx.params
    runtime = runtime_for(ctx.gateway)
    agent_id, key, new_id = await turn_session(runtime, p.get("agentId"), p.get("sessionKey"), p.get("sessionId"))
    store = runtime.store(agent_id)
    command = chatcommands.find(ctx.gateway, p["message"], "agent")
    if command is not None:  # answered here, never by the model
        if command[0].name == "new" and ADMIN not in ctx.conn.scopes:  # a reset is an admin's, as upstream's
            raise missing_scope_error(ADMIN)
        reply = await chatcommands.answer(ctx.gateway, command, chatcommands.sender(ctx.conn.label, "gateway"),
                                          runtime, agent_id, key)
        session = await store.find(key)
        return chatcommands.agent_result(p["idempotencyKey"], reply, session.session_id if session else None)
    run = runtime.submit(TurnInput(key, p["message"], agent_id, operator=True, channel="gateway",
                                   model=p.get("model") or None, run_id=p["idempotencyKey"],
                                   timeout_s=p.get("timeout") or None, session_id=new_id))
    RunStream(ctx.gateway, ctx.conn, run)
    ctx.conn.send(res_ok(ctx.request_id, {"runId": run.id, "sessionKey": key, "agentId": agent_id,
                                          "status": "accepted", "acceptedAt": run.accepted_at}))
    await asyncio.shield(run.done)  # the run keeps its own deadline (`timeout`, else the configured one)
    return final_payload(run)


@method("agent.wait", scope=WRITE, params="AgentWaitParams")
async def agent_wait(ctx: CallContext) -> dict[str, Any]:
    runtime = runtime_for(ctx.gateway)
    run = runtime.runs.get(ctx.params["runId"])
    if run is None:
        raise RpcError(INVALID_REQUEST, f"unknown run {ctx.params['runId']}")
    try:
        await asyncio.wait_for(asyncio.shield(run.done), ctx.params.get("timeoutMs", DEFAULT_WAIT_MS) / 1000)
    except TimeoutError:
        return {"runId": run.id, "status": "timeout", "startedAt": run.started_at}
    status = {"ok": "ok", "timeout": "timeout"}.get(run.status, "error")
    out = {"runId": run.id, "status": status, "startedAt": run.started_at, "endedAt": run.ended_at}
    if run.error:
        out["error"] = run.error
    return out


def identity_name(workspace: Any) -> str | None:
    """`- Name: X` from the workspace's IDENTITY.md, as upstream parses it."""
    try:
        text = (workspace / "IDENTITY.md").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*[-*]\s*Name:\s*(.+?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


@method("agents.list", scope=READ, params="NoParams")
async def agents_list(ctx: CallContext) -> dict[str, Any]:
    config = ctx.gateway.settings.config
    rows = []
    for agent_info in config.agents:
        choice = config.model_choice(agent_info.id)
        row: dict[str, Any] = {"id": agent_info.id, "kind": "agent"}
        if agent_info.name:
            row["name"] = agent_info.name
        if choice.primary:
            row["model"] = {"primary": choice.primary, "fallbacks": list(choice.fallbacks)}
        rows.append(row)
    return {"defaultId": config.default_agent_id, "ownership": "sole" if len(rows) == 1 else "legacy",
            "selectionRequired": False, "mainKey": config.session.main_key, "scope": "per-sender", "agents": rows}


@method("agent.identity.get", scope=READ, params="AgentIdentityGetParams")
async def agent_identity(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.keys import agent_of

    config = ctx.gateway.settings.config
    agent_id = ctx.params.get("agentId") or agent_of(ctx.params.get("sessionKey") or "", config.default_agent_id)
    info = next((a for a in config.agents if a.id == agent_id), None)
    if info is None:
        raise RpcError(INVALID_REQUEST, f"unknown agent {agent_id!r}", {"code": "UNKNOWN_AGENT_ID"})
    if info.name:
        return {"agentId": agent_id, "name": info.name, "nameSource": "config"}
    from openclaw.agents.workspace import agent_workspace

    name = await asyncio.to_thread(identity_name, agent_workspace(config, ctx.gateway.settings.paths,
                                                                  ctx.gateway.env, agent_id))
    return {"agentId": agent_id, "name": name or "OpenClaw", "nameSource": "workspace" if name else "default"}


@method("models.list", scope=READ, params="ModelsListParams")
async def models_list(ctx: CallContext) -> dict[str, Any]:
    from openclaw.models.listing import choices

    models = choices(ctx.gateway.settings.config, ctx.gateway.env, ctx.params.get("agentId"))
    if ctx.params.get("provider"):
        models = [m for m in models if m["provider"] == ctx.params["provider"]]
    return {"models": models}
