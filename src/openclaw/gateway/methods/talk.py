"""Talk, text-to-speech and voice wake: this gateway has no speech providers, so these answer in
upstream's shapes with nothing configured and nothing ready."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import READ, WRITE

MAX_TRIGGERS = 32
DEFAULT_TRIGGERS = ("openclaw", "claude", "computer")  # upstream's defaults, shown until a client sets its own


@method("talk.config", scope=READ, params="FeatureParams")
async def talk_config(ctx: CallContext) -> dict[str, Any]:
    talk = ctx.gateway.settings.snapshot.get("talk")
    return {"config": talk if isinstance(talk, dict) and ctx.is_admin else {}}


@method("talk.catalog", scope=READ, params="FeatureParams")
async def talk_catalog(ctx: CallContext) -> dict[str, Any]:
    return {"modes": [], "transports": [], "brains": [], "speech": {"providers": []},
            "transcription": {"ready": False, "providers": []}, "realtime": {"ready": False, "providers": []}}


@method("tts.status", scope=READ, params="FeatureParams")
async def tts_status(ctx: CallContext) -> dict[str, Any]:
    return {"enabled": False, "auto": "off", "provider": "", "persona": None, "personas": [],
            "fallbackProvider": None, "fallbackProviders": [], "prefsPath": None, "providerStates": []}


@method("tts.providers", scope=READ, params="FeatureParams")
async def tts_providers(ctx: CallContext) -> dict[str, Any]:
    return {"providers": [], "active": ""}


@method("tts.personas", scope=READ, params="FeatureParams")
async def tts_personas(ctx: CallContext) -> dict[str, Any]:
    return {"active": None, "personas": []}


def _triggers_path(ctx: CallContext) -> Path:
    return ctx.gateway.settings.paths.state_dir / "settings" / "voicewake.json"


def _read_triggers(path: Path) -> list[str]:
    try:
        stored = json.loads(path.read_text()).get("triggers")
    except (OSError, ValueError, AttributeError):
        return list(DEFAULT_TRIGGERS)
    return [t for t in stored if isinstance(t, str)] if isinstance(stored, list) else list(DEFAULT_TRIGGERS)


@method("voicewake.get", scope=READ, params="FeatureParams")
async def voicewake_get(ctx: CallContext) -> dict[str, Any]:
    return {"triggers": await asyncio.to_thread(_read_triggers, _triggers_path(ctx))}


@method("voicewake.set", scope=WRITE, params="VoicewakeSetParams")
async def voicewake_set(ctx: CallContext) -> dict[str, Any]:
    """The wake words clients listen for (kept for them: this gateway hears no audio itself)."""
    from openclaw.fsutil import atomic_write, ensure_private_dir

    triggers = [t.strip() for t in ctx.params["triggers"] if t.strip()][:MAX_TRIGGERS]
    path = _triggers_path(ctx)

    def write() -> None:
        ensure_private_dir(path.parent)
        atomic_write(path, json.dumps({"triggers": triggers, "updatedAtMs": int(time.time() * 1000)}) + "\n")

    await asyncio.to_thread(write)
    ctx.gateway.broadcast("voicewake.changed", {"triggers": triggers})
    return {"triggers": triggers}


@method("tts.disable", scope=WRITE, params="FeatureParams")
async def tts_disable(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "enabled": False}  # it never is enabled here: no speech provider


@method("voicewake.routing.get", scope=READ, params="FeatureParams")
async def voicewake_routing_get(ctx: CallContext) -> dict[str, Any]:
    return {"config": {"version": 1, "defaultTarget": {"mode": "current"}, "routes": [], "updatedAtMs": 0}}
