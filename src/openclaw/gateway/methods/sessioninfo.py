"""How a session looks to upstream's Control UI: the model defaults every session listing carries
(`defaults`, whose `modelSelectionTarget` the chat view reads) and one session's row as
`sessions.describe` and `chat.startup` give it, built from our session store and config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw.agents.sessions import Session
    from openclaw.gateway.state.context import GatewayContext

THINKING = {"thinkingLevels": [{"id": "off", "label": "off"}], "thinkingOptions": ["off"], "thinkingDefault": "off"}
RUNTIME = {"id": "auto", "cloudPlacementSupported": False, "devicePlacementSupported": False, "source": "implicit"}


def split_ref(ref: str | None) -> tuple[str | None, str | None]:
    if not ref:
        return None, None
    provider, _, model = ref.partition("/")
    return (provider, model) if model else (None, provider)


def context_window(gateway: GatewayContext, ref: str | None) -> int:
    from openclaw.agents.compaction import DEFAULT_WINDOW
    from openclaw.models.catalog import providers

    provider, model = split_ref(ref)
    known = providers(gateway.settings.config, gateway.env)
    entry = known[provider].models.get(model or "", {}) if provider in known else {}
    value = entry.get("contextWindow") or entry.get("contextTokens")
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_WINDOW


def defaults(gateway: GatewayContext, agent_id: str | None) -> dict[str, Any]:
    """The agent's default model as upstream's session listings report it."""
    ref = gateway.settings.config.model_choice(agent_id).primary
    provider, model = split_ref(ref)
    return {"modelProvider": provider, "model": model, "contextTokens": context_window(gateway, ref),
            "agentRuntime": dict(RUNTIME), **THINKING, "modelSelectionTarget": "session"}


def kind_of(key: str) -> tuple[str, str]:
    """(kind, classification) of a session key, upstream's words."""
    rest = key.split(":", 2)[2] if key.startswith("agent:") and key.count(":") >= 2 else key
    if rest == "main":
        return "direct", "main"
    head = rest.split(":", 1)[0]
    if head in ("cron", "subagent", "acp"):
        return "direct", head
    return ("group" if ":group:" in f":{rest}:" or ":channel:" in f":{rest}:" else "direct"), "direct"


def info(gateway: GatewayContext, key: str, agent_id: str, session: Session | None,
         ended: str | None = None) -> dict[str, Any]:
    """One session's row (a session not created yet has no id and no times); `ended`: a run that
    has just ended, though its runtime may not have marked it finished yet."""
    from openclaw.gateway.state.runstream import runtime_for

    runtime = runtime_for(gateway)
    ref = (session.model_override if session else None) or gateway.settings.config.model_choice(agent_id).primary
    provider, model = split_ref(ref)
    kind, classification = kind_of(key)
    active = [r.id for r in runtime.runs.values() if r.session_key == key and not r.finished and r.id != ended]
    row: dict[str, Any] = {
        "key": key, "permissionModePending": False, "kind": kind, "classification": classification,
        "agentId": agent_id, "isMain": classification == "main", "isBackground": classification in ("cron", "subagent"),
        "updatedAt": session.updated_at if session else None, "archived": False, "pinned": False, "unread": False,
        "effectiveFastMode": False, "effectiveFastModeSource": "default", "totalTokensFresh": session is not None,
        "hasAutomation": False, "effectiveResponseUsage": "off", "effectiveQueueMode": "steer",
        "modelProvider": provider, "model": model,
        "modelOverrideSource": "session" if session and session.model_override else None,
        "runtimeSelectionLocked": False, "agentRuntime": dict(RUNTIME), "contextTokens": context_window(gateway, ref),
        "hasActiveRun": bool(active), "activeRunIds": active, "activeLeafEntryId": None, **THINKING,
    }
    if session is not None:
        row.update(sessionId=session.session_id, createdAt=session.created_at, chatType=session.chat_type or kind,
                   inputTokens=session.input_tokens, outputTokens=session.output_tokens,
                   totalTokens=session.input_tokens + session.output_tokens, status="running" if active else "done",
                   compactionCount=session.compaction_count)
        if session.label:
            row["label"] = session.label
    return row
