"""Answers upstream's Control UI asks for on every page, about features this gateway has in part or
not at all: provider auth (`models.authStatus`: API keys only, no login flows), pending questions
(none are raised here) and per-user preferences (kept by the browser instead)."""

from __future__ import annotations

import time
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ


def _now() -> int:
    return int(time.time() * 1000)


@method("models.authStatus", scope=READ, params="AgentScopedParams")
async def models_auth_status(ctx: CallContext) -> dict[str, Any]:
    """Each provider a model can use here: keyed (from config, the environment or a file) or not."""
    from openclaw.models.catalog import providers

    config = ctx.gateway.settings.config
    configured = set((ctx.gateway.settings.snapshot.get("models", "providers") or {}).keys())
    rows, capabilities = [], []
    for pid, provider in sorted(providers(config, ctx.gateway.env).items()):
        capabilities.append({"provider": pid, "apiKeySupported": provider.key_required, "quickApiKeySetup": False})
        if pid not in configured and not provider.api_key:
            continue
        row: dict[str, Any] = {"provider": pid, "authProvider": pid, "displayName": pid, "profiles": []}
        if provider.api_key:
            row.update(status="static", apiKey={"source": provider.key_source.split(":", 1)[0]})
        else:
            row["status"] = "static" if not provider.key_required else "missing"
        rows.append(row)
    return {"ts": _now(), "providers": rows, "providerCapabilities": capabilities}


@method("question.list", scope=READ, params="QuestionListParams")
async def question_list(ctx: CallContext) -> dict[str, Any]:
    """Questions an agent put to the operator: our agents ask none (no question tool)."""
    return {"questions": []}


@method("users.prefs.get", scope=READ, params="UsersPrefsGetParams")
async def users_prefs_get(ctx: CallContext) -> dict[str, Any]:
    """Stored per-user preferences: none (the UI keeps its own in the browser)."""
    return {"status": "ok", "entries": {}}
