"""Which providers exist, which model a ref names, and where each provider's key comes from.

Built in, with no config entry: `openai`, `anthropic`, `openrouter` (keys from
`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `OPENROUTER_API_KEY`) and `ollama` (local,
OpenAI-compatible, no key). `models.providers.<id>` adds providers or, merged
key by key, changes a built-in one (`models.mode: replace` drops the built-ins).
A ref is `provider/model`, split on the first `/` (`openrouter/moonshotai/kimi-k2`);
a bare name is an alias, then a model one configured provider lists, then a
model of the default provider.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.envsubst import merged_env
from openclaw.config.view import Config, ModelChoice
from openclaw.models.types import ModelError

OPENAI, ANTHROPIC = "openai-completions", "anthropic-messages"
APIS = (OPENAI, ANTHROPIC)
DEFAULT_TIMEOUT_S = 120.0  # a provider that sends nothing for this long is given up on (idle, not total)
LOCAL_TIMEOUT_S = 300.0  # self-hosted models think longer between tokens

BUILTIN: dict[str, dict[str, Any]] = {
    "openai": {"baseUrl": "https://api.openai.com/v1", "api": OPENAI},
    "anthropic": {"baseUrl": "https://api.anthropic.com", "api": ANTHROPIC},
    "openrouter": {"baseUrl": "https://openrouter.ai/api/v1", "api": OPENAI},
    "ollama": {"baseUrl": "http://127.0.0.1:11434/v1", "api": OPENAI, "timeoutSeconds": LOCAL_TIMEOUT_S},
}
KEYED = frozenset({"openai", "anthropic", "openrouter"})  # hosted: no key, no turn; others send one if given


@dataclass(frozen=True)
class Provider:
    id: str
    base_url: str
    api: str
    api_key: str | None
    key_source: str  # config | env:NAME | file:PATH | none
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> entry (contextWindow, maxTokens, ...)
    key_required: bool = True

    @property
    def has_key(self) -> bool:
        return bool(self.api_key) or not self.key_required

    @property
    def key_label(self) -> str:
        """Where the key comes from, for status output (never the key)."""
        if self.api_key:
            return self.key_source
        return "none needed" if not self.key_required else f"missing (set {env_key_name(self.id)})"


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def env_key_name(provider_id: str) -> str:
    return provider_id.upper().replace("-", "_") + "_API_KEY"


def resolve_key(raw: Any, provider_id: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(key, where from): the config value (a string, or a SecretRef {source: env|file, id}),
    else `<PROVIDER>_API_KEY` from the environment."""
    if isinstance(raw, str) and raw:
        return raw, "config"
    if isinstance(raw, dict):
        source, ident = raw.get("source"), str(raw.get("id") or "")
        if source == "env":
            value = env.get(ident)
            return (value or None), f"env:{ident}"
        if source == "file":
            path = Path(os.path.expanduser(ident))
            try:
                return path.read_text(encoding="utf-8").strip() or None, f"file:{ident}"
            except OSError:
                return None, f"file:{ident}"
        raise ModelError("config", f"models.providers.{provider_id}.apiKey: source {source!r} is not supported "
                                   "(use env or file)")
    name = env_key_name(provider_id)
    return (env.get(name) or None), (f"env:{name}" if env.get(name) else "none")


def providers(config: Config, env: Mapping[str, str]) -> dict[str, Provider]:
    """Every provider with its key resolved; `env.vars` in the config count as environment."""
    env = merged_env(config.raw, env)
    replace = config.models.get("mode") == "replace"
    raw: dict[str, dict[str, Any]] = {} if replace else {k: dict(v) for k, v in BUILTIN.items()}
    for pid, entry in config.providers.items():
        if isinstance(entry, dict):
            raw[pid] = {**raw.get(pid, {}), **{k: v for k, v in entry.items() if v is not None}}
    out = {}
    for pid, entry in raw.items():
        key, source = resolve_key(entry.get("apiKey"), pid, env)
        models = {str(m["id"]): m for m in entry.get("models") or [] if isinstance(m, dict) and m.get("id")}
        out[pid] = Provider(
            id=pid, base_url=str(entry.get("baseUrl") or "").rstrip("/"), api=entry.get("api") or OPENAI,
            api_key=key, key_source=source, headers={str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
            timeout_s=float(entry.get("timeoutSeconds") or DEFAULT_TIMEOUT_S), models=models,
            key_required=entry.get("keyRequired", pid in KEYED) is not False,
        )
    return out


def parse_ref(text: str, config: Config, known: Mapping[str, Provider],
              default_provider: str | None = None) -> ModelRef:
    """Resolve a ref, an alias or a bare model name; raises ModelError(config) if none fits."""
    text = text.strip()
    target = config.agent_defaults.aliases.get(text.lower(), text)
    head, sep, rest = target.partition("/")
    if sep and head.lower() in known:
        return ModelRef(head.lower(), rest)
    if sep and not rest:
        raise ModelError("config", f"model ref {text!r} has no model after the provider")
    listing = [pid for pid, p in known.items() if target in p.models]
    if len(listing) == 1:
        return ModelRef(listing[0], target)
    if not sep and default_provider in known:
        return ModelRef(default_provider, target)  # type: ignore[arg-type]
    names = ", ".join(sorted(known))
    if sep and not listing:
        raise ModelError("config", f"unknown provider {head!r} in {text!r} (known: {names}); "
                                   f"add it under models.providers.{head} or pick a known one")
    raise ModelError("config", f"cannot tell which provider serves {text!r}; write it as provider/model "
                               f"(providers: {names})")


def chain(config: Config, env: Mapping[str, str], agent_id: str | None = None,
          override: str | None = None) -> tuple[list[ModelRef], dict[str, Provider]]:
    """The refs to try in order (an override, e.g. a user's /model choice, is strict) and the providers."""
    known = providers(config, env)
    choice = ModelChoice(override) if override else config.model_choice(agent_id)
    primary, fallbacks = choice.primary, list(choice.fallbacks)
    if not primary:
        return [], known
    first = parse_ref(primary, config, known)
    refs = [first] + [parse_ref(f, config, known, first.provider) for f in fallbacks]
    return list(dict.fromkeys(refs)), known
