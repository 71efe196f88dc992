"""What a chat UI asks about sessions besides listing them: one session described, and the
subscriptions upstream's Control UI opens when it shows a session.

`sessions.subscribe` brings `sessions.changed` events as runs start and end (methods/sessionevents.py).
Chat events already reach every operator connection with read scope, so subscribing to a session's
messages changes nothing; per-session message pushes and viewer presence are not sent here."""

from __future__ import annotations

import time
from typing import Any

from openclaw.gateway.methods import sessionevents
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.methods.sessioninfo import info
from openclaw.gateway.scopes import READ
from openclaw.gateway.state.runstream import runtime_for, session_key


@method("sessions.subscribe", scope=READ, params="NoParams")
async def sessions_subscribe(ctx: CallContext) -> dict[str, Any]:
    sessionevents.subscribe(ctx.gateway, ctx.conn, True)
    return {"subscribed": True}


@method("sessions.unsubscribe", scope=READ, params="NoParams")
async def sessions_unsubscribe(ctx: CallContext) -> dict[str, Any]:
    sessionevents.subscribe(ctx.gateway, ctx.conn, False)
    return {"subscribed": False}


@method("sessions.describe", scope=READ, params="SessionsDescribeParams")
async def sessions_describe(ctx: CallContext) -> dict[str, Any]:
    """The session's row, or `{"session": null}` for a key with no session yet (as upstream)."""
    from openclaw.agents.keys import agent_of

    runtime = runtime_for(ctx.gateway)
    key = session_key(runtime, ctx.params["key"], ctx.params.get("agentId"))
    agent_id = runtime.agent_id(ctx.params.get("agentId") or agent_of(key, runtime.agent_id(None)))
    session = await runtime.store(agent_id).find(key)
    return {"session": info(ctx.gateway, key, agent_id, session) if session is not None else None}


@method("sessions.messages.subscribe", scope=READ, params="SessionsMessagesSubscribeParams")
async def sessions_messages_subscribe(ctx: CallContext) -> dict[str, Any]:
    runtime = runtime_for(ctx.gateway)
    key = session_key(runtime, ctx.params["key"], ctx.params.get("agentId"))
    out: dict[str, Any] = {"subscribed": True, "key": key}
    if ctx.params.get("includeApprovals"):  # no approvals wait on a session here
        out["approvalReplay"] = {"sessionKey": key, "updatedAtMs": int(time.time() * 1000), "approvals": [],
                                 "truncated": False}
    return out


@method("sessions.messages.unsubscribe", scope=READ, params="SessionsMessagesSubscribeParams")
async def sessions_messages_unsubscribe(ctx: CallContext) -> dict[str, Any]:
    runtime = runtime_for(ctx.gateway)
    return {"subscribed": False, "key": session_key(runtime, ctx.params["key"], ctx.params.get("agentId"))}


@method("sessions.observer.visibility", scope=READ, params="SessionsObserverVisibilityParams")
async def sessions_observer_visibility(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True}


@method("sessions.viewers.set", scope=READ, params="SessionsViewersSetParams")
async def sessions_viewers_set(ctx: CallContext) -> dict[str, Any]:
    return {"sessionKeys": ctx.params["sessionKeys"][:100]}


@method("sessions.branches.list", scope=READ, params="SessionKeyParams")
async def sessions_branches_list(ctx: CallContext) -> dict[str, Any]:
    """Branches of a conversation: a session here is one line of messages, never branched."""
    return {"branches": []}


@method("sessions.companion.state", scope=READ, params="SessionKeyParams")
async def sessions_companion_state(ctx: CallContext) -> dict[str, Any]:
    """Exchanges with a companion (side) agent: there are none here."""
    return {"exchanges": []}
