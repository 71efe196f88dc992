"""Answers upstream's Control UI asks for on every page, about features this gateway has in part or
not at all: provider auth (`models.authStatus`: API keys only, no login flows), pending questions and
approvals (none are raised here), updates (not managed by the gateway) and per-user preferences
(kept by the browser instead)."""

from __future__ import annotations

import time
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import ADMIN, APPROVALS, READ


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


@method("exec.approval.list", scope=APPROVALS, params="NoParams")
async def exec_approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    """Pending exec approvals: none wait here (our exec tool runs by its policy, without asking)."""
    return []


@method("plugin.approval.list", scope=APPROVALS, params="NoParams")
async def plugin_approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    return []  # no plugins


@method("openclaw.approval.list", scope=APPROVALS, params="NoParams")
async def openclaw_approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    return []


@method("update.status", scope=READ, params="NoParams")
async def update_status(ctx: CallContext) -> dict[str, Any]:
    """The gateway does not update itself: the package manager that installed it does."""
    return {"sentinel": None, "updateAvailable": None, "effectiveChannel": "stable",
            "schedule": {"channel": "stable", "autoEnabled": False, "install": {"kind": "package"}}}


@method("users.prefs.get", scope=READ, params="UsersPrefsGetParams")
async def users_prefs_get(ctx: CallContext) -> dict[str, Any]:
    """Stored per-user preferences: none (the UI keeps its own in the browser)."""
    return {"status": "ok", "entries": {}}


@method("tasks.list", scope=READ, params="TasksListParams")
async def tasks_list(ctx: CallContext) -> dict[str, Any]:
    """Background tasks an agent started: our agents run turns, not detached tasks."""
    return {"tasks": []}


@method("talk.catalog", scope=READ, params="NoParams")
async def talk_catalog(ctx: CallContext) -> dict[str, Any]:
    """Voice (speech, transcription, realtime): no voice providers on this gateway."""
    return {"modes": [], "transports": [], "brains": [], "speech": {"providers": []},
            "transcription": {"ready": False, "providers": []}, "realtime": {"ready": False, "providers": []}}


@method("themes.list", scope=READ, params="NoParams")
async def themes_list(ctx: CallContext) -> dict[str, Any]:
    """The UI's own default theme only: themes chosen per person need user profiles, which this
    gateway does not keep (the browser remembers a choice made in it)."""
    mode = ctx.gateway.settings.snapshot.get("ui", "prefs", "themeMode")
    theme = {"id": "claw", "name": "Claw", "description": "The Control UI's default theme.", "source": "builtin",
             "modes": ["light", "dark"]}
    return {"current": {"id": "claw", "mode": mode if mode in ("light", "dark", "system") else "system",
                        "scope": "gateway", "overrides": {}},
            "theme": theme, "themes": [theme]}


@method("node.list", scope=READ, params="NoParams")
async def node_list(ctx: CallContext) -> dict[str, Any]:
    """Paired nodes (devices that run commands for agents): this gateway pairs none."""
    return {"ts": _now(), "nodes": []}


@method("exec.approvals.get", scope=ADMIN, params="NoParams")
async def exec_approvals_get(ctx: CallContext) -> dict[str, Any]:
    """The exec approvals document: none is kept, so upstream's answer for a missing file."""
    import hashlib

    return {"path": str(ctx.gateway.settings.paths.state_dir / "exec-approvals.json"), "exists": False,
            "hash": f"missing:{hashlib.sha256(b'').hexdigest()}", "file": {"version": 1, "agents": {}},
            "resolvedDefaults": {"security": "deny", "ask": "off", "askFallback": "deny", "autoAllowSkills": False}}


@method("environments.list", scope=READ, params="EnvironmentsListParams")
async def environments_list(ctx: CallContext) -> dict[str, Any]:
    """Where sessions run: this gateway's own host only (no remote workers or desktops)."""
    import sys

    return {"environments": [{"id": "gateway", "type": "local", "label": "Gateway local", "status": "available",
                              "platform": sys.platform, "sessionHost": True, "trust": "persistent",
                              "capabilities": ["agent.run", "sessions", "tools", "workspace"]}]}
