"""`sessions.list`, `sessions.preview`, `sessions.reset`, `sessions.delete`, `sessions.compact`."""

from __future__ import annotations

import time
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ
from openclaw.gateway.state.runstream import runtime_for, session_key


def _row(session: Any, agent_id: str, busy: bool) -> dict[str, Any]:
    return {**session.as_dict(), "agentId": agent_id, "active": busy}


@method("sessions.list", scope=READ, params="SessionsListParams")
async def sessions_list(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.roster import sessions_db_path

    runtime = runtime_for(ctx.gateway)
    config = ctx.gateway.settings.config
    wanted = ctx.params.get("agentId")
    limit = ctx.params.get("limit", 200)
    rows: list[dict[str, Any]] = []
    for info in config.agents:
        if wanted and info.id != wanted:
            continue
        for session in await runtime.store(info.id).list(limit):
            rows.append(_row(session, info.id, runtime.busy(session.key)))
    rows.sort(key=lambda r: r["updatedAt"], reverse=True)
    path = str(sessions_db_path(ctx.gateway.settings.paths.state_dir, wanted or runtime.agent_id(None)))
    from openclaw.gateway.methods.sessioninfo import defaults

    return {"count": len(rows[:limit]), "sessions": rows[:limit], "path": path if ctx.is_admin else "[redacted]",
            "defaults": defaults(ctx.gateway, wanted or runtime.agent_id(None))}


@method("sessions.preview", scope=READ, params="SessionsPreviewParams")
async def sessions_preview(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.keys import agent_of

    runtime = runtime_for(ctx.gateway)
    limit, max_chars = ctx.params.get("limit", 5), ctx.params.get("maxChars", 200)
    previews = []
    for raw in ctx.params["keys"][:100]:
        key = session_key(runtime, raw, None)
        store = runtime.store(agent_of(key, runtime.agent_id(None)))
        session = await store.find(key)
        if session is None:
            previews.append({"key": raw, "status": "missing", "items": []})
            continue
        entries = await store.entries(session.session_id, limit * 3)
        items = [{"role": e.message.role, "text": e.message.content[:max_chars]}
                 for e in entries if e.message.role in ("user", "assistant") and e.message.content][-limit:]
        previews.append({"key": raw, "status": "ok", "items": items})
    return {"ts": int(time.time() * 1000), "previews": previews}


async def _target(ctx: CallContext) -> tuple[Any, str]:
    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(ctx.params.get("agentId"))
    return runtime.store(agent_id), session_key(runtime, ctx.params["key"], agent_id)


@method("sessions.reset", scope=ADMIN, params="SessionsResetParams")
async def sessions_reset(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.resetnote import capture

    store, key = await _target(ctx)
    runtime = runtime_for(ctx.gateway)
    runtime.abort(key)
    reason = "reset" if ctx.params.get("reason") == "reset" else "new"
    saving = await capture(runtime, runtime.agent_id(ctx.params.get("agentId")), key, f"sessions.reset ({reason})")
    session = await store.reset(key)
    if saving is not None:
        saving.save_in_background()  # the session-memory hook, as upstream runs it for this method too
    return {"ok": True, "key": key, "sessionId": session.session_id, "entry": session.as_dict()}


@method("sessions.delete", scope=ADMIN, params="SessionsDeleteParams")
async def sessions_delete(ctx: CallContext) -> dict[str, Any]:
    store, key = await _target(ctx)
    runtime_for(ctx.gateway).abort(key)
    return {"ok": True, "key": key, "deleted": await store.delete(key)}


@method("sessions.compact", scope=ADMIN, params="SessionsCompactParams")
async def sessions_compact(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents import compaction, prompt
    from openclaw.agents.plan import Plan
    from openclaw.models.catalog import chain

    runtime = runtime_for(ctx.gateway)
    store, key = await _target(ctx)
    session = await store.find(key)
    if session is None:
        raise RpcError(INVALID_REQUEST, f"no session {key}")
    if runtime.busy(key):
        raise RpcError(INVALID_REQUEST, f"session {key} is running; try again when it is idle")
    agent_id = runtime.agent_id(ctx.params.get("agentId"))
    refs, known = chain(runtime.config(), runtime.env, agent_id, session.model_override)
    plan = Plan(refs, known, runtime.workspace(agent_id), [], prompt.Runtime("", str(refs[0]), agent_id), runtime.env)
    before = session.compaction_count
    history = await store.history(session)
    await compaction.fit(history, "", plan, store, session, runtime.client, force=True)
    after = await store.find(key)
    return {"ok": True, "key": key, "compacted": bool(after and after.compaction_count > before)}
