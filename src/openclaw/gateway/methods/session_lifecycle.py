"""`sessions.create` (a new conversation, with its first message sent at once, as upstream's Control
UI starts one) and `sessions.patch` (a session's model override; the UI's other per-session flags,
such as unread marks, are not kept here and are accepted as no-ops)."""

from __future__ import annotations

import uuid
from typing import Any

from openclaw.gateway.methods.chat import chat_send
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.methods.sessioninfo import split_ref
from openclaw.gateway.scopes import ADMIN, WRITE
from openclaw.gateway.state.runstream import runtime_for, session_key


@method("sessions.create", scope=WRITE, params="SessionsCreateParams")
async def sessions_create(ctx: CallContext) -> dict[str, Any]:
    p = ctx.params
    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(p.get("agentId"))
    key = session_key(runtime, p.get("key") or f"dashboard:{uuid.uuid4()}", agent_id)
    store = runtime.store(agent_id)
    session = await store.session(key, "direct")
    provider, model = split_ref(session.model_override or ctx.gateway.settings.config.model_choice(agent_id).primary)
    out: dict[str, Any] = {"ok": True, "key": key, "sessionId": session.session_id, "entry": session.as_dict(),
                           "runStarted": False, "resolved": {"modelProvider": provider, "model": model}}
    if p.get("message"):
        sent = await chat_send(CallContext(ctx.gateway, ctx.conn, {
            "sessionKey": key, "agentId": agent_id, "message": p["message"],
            "idempotencyKey": p.get("idempotencyKey") or str(uuid.uuid4())}, ctx.request_id))
        status = "started" if sent["status"] == "accepted" else sent["status"]  # upstream's word for it
        out.update(runStarted=True, runId=sent["runId"], status=status)
    return out


@method("sessions.patch", scope=ADMIN, params="SessionsPatchParams")
async def sessions_patch(ctx: CallContext) -> dict[str, Any]:
    p = ctx.params
    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(p.get("agentId"))
    key = session_key(runtime, p["key"], agent_id)
    store = runtime.store(agent_id)
    if "model" in p:
        await store.set_model(key, p["model"] or None)
    session = await store.session(key)
    return {"ok": True, "path": str(store.path) if ctx.is_admin else "[redacted]", "key": key,
            "entry": session.as_dict()}
