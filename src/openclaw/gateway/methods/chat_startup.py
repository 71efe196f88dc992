"""What upstream's Control UI loads when it opens a chat: `chat.startup` (the history page with the
session's row and the model defaults), `chat.metadata` (the models to pick from and the slash
commands the composer offers) and `progressCard.get` (no progress cards on this gateway)."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.chat import chat_history
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.methods.sessioninfo import THINKING, defaults, info
from openclaw.gateway.scopes import READ
from openclaw.gateway.state.runstream import runtime_for, session_key

STARTUP_LIMIT = 80


@method("chat.startup", scope=READ, params="ChatStartupParams")
async def chat_startup(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.keys import agent_of

    runtime = runtime_for(ctx.gateway)
    key = session_key(runtime, ctx.params["sessionKey"], ctx.params.get("agentId"))
    agent_id = runtime.agent_id(ctx.params.get("agentId") or agent_of(key, runtime.agent_id(None)))
    history = await chat_history(CallContext(ctx.gateway, ctx.conn, {
        "sessionKey": key, "agentId": agent_id, "limit": ctx.params.get("limit", STARTUP_LIMIT)}, ctx.request_id))
    session = await runtime.store(agent_id).find(key)
    return {**history, "pendingInputs": {"items": [], "total": 0},
            "totalMessages": session.entries if session else 0,
            "defaults": defaults(ctx.gateway, agent_id), "sessionInfo": info(ctx.gateway, key, agent_id, session)}


def _commands(ctx: CallContext) -> list[dict[str, Any]]:
    out = []
    for command in ctx.gateway.services.commands().entries("webchat"):
        usage, _, text = command.help.partition(" - ")
        out.append({"name": command.name, "nativeName": command.name,
                    "textAliases": [f"/{command.name}", *(f"/{a}" for a in command.aliases)],
                    "description": (text or usage).strip(), "category": "status", "source": "native",
                    "scope": "both", "acceptsArgs": "<" in usage or "[" in usage})
    return out


@method("chat.metadata", scope=READ, params="ChatMetadataParams")
async def chat_metadata(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.keys import agent_of
    from openclaw.models.listing import choices

    runtime = runtime_for(ctx.gateway)
    agent_id = runtime.agent_id(ctx.params.get("agentId")
                                or agent_of(ctx.params.get("sessionKey") or "", runtime.agent_id(None)))
    models = []
    for row in choices(ctx.gateway.settings.config, ctx.gateway.env, agent_id):
        provider, _, model = str(row["id"]).partition("/")
        entry = {"id": model or provider, "name": row["name"], "provider": row["provider"], "reasoning": False,
                 "tags": row.get("tags", []), "thinkingLevels": THINKING["thinkingLevels"],
                 "thinkingDefault": THINKING["thinkingDefault"], "available": row["available"]}
        if "contextWindow" in row:
            entry["contextWindow"] = row["contextWindow"]
        models.append(entry)
    return {"models": models, "commands": _commands(ctx), "swarmEnabled": False,
            "accountSelection": {"kind": "automatic", "label": "Automatic account selection"},
            "runtimeSelectionLocked": False}


@method("progressCard.get", scope=READ, params="SessionKeyParams")
async def progress_card(ctx: CallContext) -> dict[str, Any]:
    return {"card": None}
