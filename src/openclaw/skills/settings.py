"""The `skills` section (and the agents' skill filters) read once per config into frozen settings.

Upstream's keys: `skills.load.{extraDirs, allowSymlinkTargets}`, `skills.limits.*`,
`skills.allowBundled`, `skills.entries.<key>.{enabled, env, apiKey, config}`, and the agent
filter `agents.defaults.skills` / `agents.entries.<id>.skills` (an agent's own list replaces the
defaults; `[]` means none). Limits are clamped to sane bounds whatever the file says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openclaw.config.view import Config, section

# upstream's defaults; the bounds keep a hand-edited file from making a turn scan or send too much
MAX_CANDIDATES_PER_ROOT = (300, 1, 2000)  # (default, min, max)
MAX_SKILLS_PER_SOURCE = (200, 0, 1000)
MAX_SKILL_FILE_BYTES = (256_000, 1024, 2_000_000)
MAX_SKILLS_IN_PROMPT = (150, 0, 1000)
MAX_PROMPT_CHARS = (18_000, 0, 200_000)


def _bounded(value: Any, spec: tuple[int, int, int]) -> int:
    default, low, high = spec
    if not isinstance(value, int) or isinstance(value, bool):
        return default
    return max(low, min(high, value))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value if isinstance(v, str) and v.strip()) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Limits:
    candidates_per_root: int = MAX_CANDIDATES_PER_ROOT[0]
    skills_per_source: int = MAX_SKILLS_PER_SOURCE[0]
    file_bytes: int = MAX_SKILL_FILE_BYTES[0]
    in_prompt: int = MAX_SKILLS_IN_PROMPT[0]
    prompt_chars: int = MAX_PROMPT_CHARS[0]


@dataclass(frozen=True)
class Entry:
    """`skills.entries.<key>`."""

    enabled: bool | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    api_key: Any = None  # a string or a SecretRef {source, id}
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SkillsSettings:
    extra_dirs: tuple[str, ...] = ()
    symlink_targets: tuple[str, ...] = ()
    limits: Limits = Limits()
    allow_bundled: frozenset[str] | None = None  # None: every bundled skill may be used
    entries: Mapping[str, Entry] = field(default_factory=dict)

    def entry(self, key: str) -> Entry | None:
        return self.entries.get(key)


def _entry(raw: Mapping[str, Any]) -> Entry:
    enabled = raw.get("enabled")
    env = {str(k): str(v) for k, v in section(raw.get("env")).items()
           if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(k).strip()}
    return Entry(enabled if isinstance(enabled, bool) else None, env, raw.get("apiKey"), section(raw.get("config")))


def read_settings(config: Config, agent_id: str | None = None) -> SkillsSettings:
    raw = config.part("skills")
    load, limits = section(raw.get("load")), section(raw.get("limits"))
    prompt_chars = limits.get("maxSkillsPromptChars")
    own = section(config.agent(agent_id).raw.get("skillsLimits")) if agent_id else {}
    if "maxSkillsPromptChars" in own:
        prompt_chars = own.get("maxSkillsPromptChars")
    allow = raw.get("allowBundled")
    return SkillsSettings(
        extra_dirs=_strings(load.get("extraDirs")),
        symlink_targets=_strings(load.get("allowSymlinkTargets")),
        limits=Limits(_bounded(limits.get("maxCandidatesPerRoot"), MAX_CANDIDATES_PER_ROOT),
                      _bounded(limits.get("maxSkillsLoadedPerSource"), MAX_SKILLS_PER_SOURCE),
                      _bounded(limits.get("maxSkillFileBytes"), MAX_SKILL_FILE_BYTES),
                      _bounded(limits.get("maxSkillsInPrompt"), MAX_SKILLS_IN_PROMPT),
                      _bounded(prompt_chars, MAX_PROMPT_CHARS)),
        allow_bundled=frozenset(_strings(allow)) or None if isinstance(allow, list) else None,
        entries={str(k): _entry(v) for k, v in section(raw.get("entries")).items() if isinstance(v, Mapping)},
    )


def agent_filter(config: Config, agent_id: str) -> tuple[str, ...] | None:
    """The skill names this agent may use (None: all): its own `skills`, else the defaults'."""
    own = config.agent(agent_id).raw
    if isinstance(own.get("skills"), list):
        return _strings(own.get("skills"))
    defaults = config.part("agents", "defaults").get("skills")
    return _strings(defaults) if isinstance(defaults, list) else None
