"""`chat.send`, `chat.history`, `chat.abort`: a session's conversation as a chat UI drives it."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ, WRITE
from openclaw.gateway.state import chatcommands
from openclaw.gateway.state.runstream import RunStream, runtime_for, session_key


@method("chat.send", scope=WRITE, params="ChatSendParams")
async def chat_send(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.run import TurnInput

    p = ctx.params
    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(p.get("agentId"))
    key = session_key(runtime, p["sessionKey"], agent_id)
    known = runtime.runs.get(p["idempotencyKey"])
    if known is not None and not known.finished:
        return {"runId": known.id, "status": "in_flight"}
    found = chatcommands.find(ctx.gateway, p["message"], "webchat")
    if found is not None:  # answered here as a run that ends at once; the model is never asked
        reply = await chatcommands.answer(ctx.gateway, found, chatcommands.sender(ctx.conn.label, "webchat"),
                                          runtime, agent_id, key)
        run = chatcommands.answered_run(p["message"], reply, agent_id, key, "webchat", p["idempotencyKey"])
        RunStream(ctx.gateway, ctx.conn, run, chat_link=True)
        chatcommands.play(run, reply)
        status = "ok"
    else:
        run = runtime.submit(TurnInput(key, p["message"], agent_id, operator=True, channel="webchat",
                                       run_id=p["idempotencyKey"]))
        RunStream(ctx.gateway, ctx.conn, run, chat_link=True)
        status = "accepted"
    store = runtime.store(agent_id)
    session = await store.session(key)
    return {"runId": run.id, "status": status, "sessionKey": key, "sessionId": session.session_id,
            "agentId": agent_id}


def _message(entry: Any) -> dict[str, Any]:
    m = entry.message
    out: dict[str, Any] = {"role": "toolResult" if m.role == "tool" else m.role,
                           "content": [{"type": "text", "text": m.content}] if m.content else [],
                           "timestamp": entry.ts, "seq": entry.seq}
    if m.tool_calls:
        out["content"] += [{"type": "toolCall", "id": c.id, "name": c.name, "arguments": c.arguments}
                           for c in m.tool_calls]
    if m.role == "tool":
        out.update(toolCallId=m.tool_call_id, toolName=m.name)
    if entry.kind == "summary":
        out["summary"] = True
    return out


@method("chat.history", scope=READ, params="ChatHistoryParams")
async def chat_history(ctx: CallContext) -> dict[str, Any]:
    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(ctx.params.get("agentId"))
    key = session_key(runtime, ctx.params["sessionKey"], agent_id)
    session = await runtime.store(agent_id).find(key)
    if session is None:
        return {"sessionKey": key, "messages": [], "hasMore": False}
    limit = ctx.params.get("limit", 200)
    entries = await runtime.store(agent_id).entries(session.session_id, limit + 1)
    more = len(entries) > limit
    return {"sessionKey": key, "sessionId": session.session_id, "messages": [_message(e) for e in entries[-limit:]],
            "hasMore": more}


@method("chat.abort", scope=WRITE, params="ChatAbortParams")
async def chat_abort(ctx: CallContext) -> dict[str, Any]:
    runtime = runtime_for(ctx.gateway)
    key = session_key(runtime, ctx.params["sessionKey"], ctx.params.get("agentId"))
    stopped = runtime.abort(key)
    return {"ok": True, "aborted": bool(stopped), "runIds": stopped}
