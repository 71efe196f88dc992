"""What `models.list`, `openclaw models` and `status` show: the configured models and whether they can run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openclaw.config.view import Config
from openclaw.models.catalog import parse_ref, providers
from openclaw.models.types import ModelError


def choices(config: Config, env: Mapping[str, str], agent_id: str | None = None) -> list[dict[str, Any]]:
    """The agent's chain, the aliased models and every model a provider lists; each once."""
    known = providers(config, env)
    choice = config.model_choice(agent_id)
    aliases = config.agent_defaults.aliases
    refs: list[tuple[str, list[str]]] = []
    for text, tags in [(choice.primary, ["default"])] + [(f, ["fallback"]) for f in choice.fallbacks]:
        if text:
            refs.append((text, tags))
    refs += [(ref, []) for ref in aliases.values()]
    refs += [(f"{pid}/{mid}", []) for pid, p in known.items() for mid in p.models]
    alias_of = {ref: alias for alias, ref in aliases.items()}
    out: dict[str, dict[str, Any]] = {}
    for text, tags in refs:
        try:
            ref = parse_ref(text, config, known)
        except ModelError:
            continue
        key = str(ref)
        if key in out:
            out[key].setdefault("tags", []).extend(t for t in tags if t not in out[key].get("tags", []))
            continue
        provider = known[ref.provider]
        entry = provider.models.get(ref.model, {})
        row: dict[str, Any] = {"id": key, "name": str(entry.get("name") or ref.model), "provider": ref.provider,
                               "available": provider.has_key}
        if not provider.has_key:
            row["unavailableReason"] = "missing-auth"
        if alias_of.get(key):
            row["alias"] = alias_of[key]
        if isinstance(entry.get("contextWindow"), int):
            row["contextWindow"] = entry["contextWindow"]
        if tags:
            row["tags"] = list(tags)
        out[key] = row
    return list(out.values())


def default_model(config: Config, env: Mapping[str, str]) -> dict[str, Any]:
    """The default model and whether its provider has a key (for health, status and doctor)."""
    choice = config.model_choice()
    primary, fallbacks = choice.primary, list(choice.fallbacks)
    if not primary:
        return {"configured": False, "model": None, "keyPresent": False}
    known = providers(config, env)
    try:
        ref = parse_ref(primary, config, known)
    except ModelError as exc:
        return {"configured": True, "model": primary, "keyPresent": False, "error": str(exc)}
    provider = known[ref.provider]
    return {"configured": True, "model": str(ref), "fallbacks": fallbacks, "keyPresent": provider.has_key,
            "keySource": provider.key_label}
