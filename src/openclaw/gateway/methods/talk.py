"""Talk, text-to-speech and voice wake: this gateway has no speech providers, so these answer in
upstream's shapes with nothing configured and nothing ready."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ

DEFAULT_TRIGGERS = ("openclaw", "claude", "computer")  # upstream's defaults, shown until a client sets its own


@method("talk.config", scope=READ, params=None)
async def talk_config(ctx: CallContext) -> dict[str, Any]:
    talk = ctx.gateway.settings.snapshot.get("talk")
    return {"config": talk if isinstance(talk, dict) and ctx.is_admin else {}}


@method("talk.catalog", scope=READ, params=None)
async def talk_catalog(ctx: CallContext) -> dict[str, Any]:
    return {"modes": [], "transports": [], "brains": [], "speech": {"providers": []},
            "transcription": {"ready": False, "providers": []}, "realtime": {"ready": False, "providers": []}}


@method("tts.status", scope=READ, params=None)
async def tts_status(ctx: CallContext) -> dict[str, Any]:
    return {"enabled": False, "auto": "off", "provider": "", "persona": None, "personas": [],
            "fallbackProvider": None, "fallbackProviders": [], "prefsPath": None, "providerStates": []}


@method("tts.providers", scope=READ, params=None)
async def tts_providers(ctx: CallContext) -> dict[str, Any]:
    return {"providers": [], "active": ""}


@method("tts.personas", scope=READ, params=None)
async def tts_personas(ctx: CallContext) -> dict[str, Any]:
    return {"active": None, "personas": []}


@method("voicewake.get", scope=READ, params=None)
async def voicewake_get(ctx: CallContext) -> dict[str, Any]:
    return {"triggers": list(DEFAULT_TRIGGERS)}


@method("voicewake.routing.get", scope=READ, params=None)
async def voicewake_routing_get(ctx: CallContext) -> dict[str, Any]:
    return {"config": {"version": 1, "defaultTarget": {"mode": "current"}, "routes": [], "updatedAtMs": 0}}
