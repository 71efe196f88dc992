"""Memory settings, resolved once per config: search (`memory.search`, with upstream's legacy
`agents.defaults.memorySearch` and top-level `memorySearch` underneath and the agent's own
`agents.entries.<id>.memory.search` on top) and the session-memory hook
(`hooks.internal.entries.session-memory`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openclaw.config.view import Config, section

DEFAULT_MAX_RESULTS = 6
DEFAULT_MIN_SCORE = 0.35
DEFAULT_PROVIDER = "openai"
DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_HOOK_MESSAGES = 15
HOOK = "session-memory"


@dataclass(frozen=True)
class ExtraPath:
    path: str
    pattern: str | None = None  # a glob under `path` (`runbooks/**/*.md`)


@dataclass(frozen=True)
class Remote:
    base_url: str | None = None
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool = True
    provider: str = DEFAULT_PROVIDER
    model: str = DEFAULT_MODEL
    remote: Remote = Remote()
    max_results: int = DEFAULT_MAX_RESULTS
    min_score: float = DEFAULT_MIN_SCORE
    extra_paths: tuple[ExtraPath, ...] = ()
    sources: tuple[str, ...] = ("memory",)
    tokenizer: str = "unicode61"  # or trigram
    citations: str = "auto"  # auto | on | off (`memory.citations`)


@dataclass(frozen=True)
class HookSettings:
    enabled: bool = False
    messages: int = DEFAULT_HOOK_MESSAGES
    user_timezone: str | None = None


def _merged(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Later parts win; objects merge one level deep (`remote`, `query`, `store`)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = {**out[key], **value}
            else:
                out[key] = value
    return out


def _extra(value: Any) -> tuple[ExtraPath, ...]:
    out = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, str) and item.strip():
            out.append(ExtraPath(item.strip()))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str) and item["path"].strip():
            pattern = item.get("pattern")
            out.append(ExtraPath(item["path"].strip(), pattern if isinstance(pattern, str) and pattern else None))
    return tuple(out)


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def search_settings(config: Config, agent_id: str | None = None) -> SearchSettings:
    own = section(section(config.agent(agent_id).raw.get("memory")).get("search")) if agent_id else {}
    raw = _merged(config.part("memorySearch"), config.part("agents", "defaults", "memorySearch"),
                  config.part("memory", "search"), own)
    remote, query, store = section(raw.get("remote")), section(raw.get("query")), section(raw.get("store"))
    headers = {str(k): str(v) for k, v in section(remote.get("headers")).items()}
    sources = tuple(str(s) for s in raw["sources"]) if isinstance(raw.get("sources"), list) else ("memory",)
    tokenizer = section(store.get("fts")).get("tokenizer")
    citations = config.get("memory", "citations")
    return SearchSettings(
        enabled=raw.get("enabled") is not False,
        provider=str(raw.get("provider") or DEFAULT_PROVIDER),
        model=str(raw.get("model") or DEFAULT_MODEL),
        remote=Remote(_str(remote.get("baseUrl")), _str(remote.get("apiKey")), headers),
        max_results=_positive(query.get("maxResults"), DEFAULT_MAX_RESULTS),
        min_score=_number(query.get("minScore"), DEFAULT_MIN_SCORE),
        extra_paths=_extra(raw.get("extraPaths")),
        sources=sources,
        tokenizer="trigram" if tokenizer == "trigram" else "unicode61",
        citations=citations if citations in ("auto", "on", "off") else "auto",
    )


def hook_settings(config: Config) -> HookSettings:
    """Upstream's rule: internal hooks on unless `hooks.internal.enabled` is false, and an entry
    without `enabled: false` switches its hook on. Absent entry: off."""
    internal = config.part("hooks", "internal")
    entry = section(internal.get("entries")).get(HOOK)
    on = internal.get("enabled") is not False and isinstance(entry, Mapping) and entry.get("enabled") is not False
    messages = _positive(entry.get("messages"), DEFAULT_HOOK_MESSAGES) if isinstance(entry, Mapping) else 15
    return HookSettings(on, messages, user_timezone(config))


def user_timezone(config: Config) -> str | None:
    """`agents.defaults.userTimezone`: what "today" means for notes (else `TZ`, else the host's zone)."""
    return _str(config.get("agents", "defaults", "userTimezone"))


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
