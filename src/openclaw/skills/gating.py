"""Whether a loaded skill may be used here, and if not, why: upstream's eligibility rules.

`eligible = not disabled and not blocked by allowBundled and requirements met`. Requirements are
checked on the gateway's host: every `bins` on PATH, one of `anyBins`, each `env` set (in the
gateway's environment or through `skills.entries`), each `config` path truthy, the OS listed.
`always: true` waives all but the OS. The agent filter does not change eligibility; it decides
whether this agent sees the skill. A `config` requirement may also be met by the instance itself:
the `rescue` path by the profile named rescue (the rescue role, as the rescue tools decide it).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths
from openclaw.skills.frontmatter import Requirements
from openclaw.skills.roots import Skill
from openclaw.skills.settings import Entry, SkillsSettings

OS_NAMES = {"macos": "darwin", "windows": "win32"}


@dataclass(frozen=True)
class Verdict:
    skill: Skill
    disabled: bool
    blocked_by_allowlist: bool
    blocked_by_agent_filter: bool
    missing: Requirements
    config_checks: tuple[tuple[str, bool], ...]

    @property
    def requirements_met(self) -> bool:
        m = self.missing
        return not (m.bins or m.any_bins or m.env or m.config or m.os)

    @property
    def eligible(self) -> bool:
        return not self.disabled and not self.blocked_by_allowlist and self.requirements_met

    @property
    def model_visible(self) -> bool:
        return self.eligible and not self.blocked_by_agent_filter and not self.skill.front.disable_model_invocation

    @property
    def command_visible(self) -> bool:
        return self.eligible and not self.blocked_by_agent_filter and self.skill.front.user_invocable


@dataclass(frozen=True)
class Host:
    """What requirements are checked against: the gateway's environment, its config, its platform."""

    env: Mapping[str, str]
    config: Config
    paths: InstancePaths
    platform: str = sys.platform
    which: Callable[[str], bool] | None = None

    def has_bin(self, name: str) -> bool:
        if self.which is not None:
            return self.which(name)
        return shutil.which(name, path=self.env.get("PATH")) is not None


def config_truthy(config: Config, path: str, paths: InstancePaths) -> bool:
    """A dotted config path holds a truthy value (objects and lists count, even empty: as upstream)."""
    node: Any = config.raw
    for part in (p for p in path.split(".") if p):
        if not isinstance(node, Mapping) or part not in node:
            # the rescue profile has the rescue role without a `rescue` section
            return path == "rescue" and paths.profile == "rescue"
        node = node[part]
    if node is None or node is False:
        return False
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return node != 0
    if isinstance(node, str):
        return bool(node.strip())
    return True


def api_key_set(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, Mapping) and isinstance(value.get("id"), str) and bool(value.get("source"))


def _env_met(name: str, entry: Entry | None, skill: Skill, env: Mapping[str, str]) -> bool:
    if (env.get(name) or "").strip():
        return True
    if entry is not None and (entry.env.get(name) or "").strip():
        return True
    return bool(entry is not None and skill.front.primary_env == name and api_key_set(entry.api_key))


def _missing(skill: Skill, entry: Entry | None, host: Host) -> tuple[Requirements, tuple[tuple[str, bool], ...]]:
    want = skill.front.requires
    checks = tuple((path, config_truthy(host.config, path, host.paths)) for path in want.config)
    platform = OS_NAMES.get(host.platform, host.platform)
    os_ok = not want.os or platform in {OS_NAMES.get(o.lower(), o.lower()) for o in want.os}
    missing_os = () if os_ok else want.os
    if skill.front.always:
        return Requirements(os=missing_os), checks
    return Requirements(
        bins=tuple(b for b in want.bins if not host.has_bin(b)),
        any_bins=() if not want.any_bins or any(host.has_bin(b) for b in want.any_bins) else want.any_bins,
        env=tuple(e for e in want.env if not _env_met(e, entry, skill, host.env)),
        config=tuple(path for path, ok in checks if not ok),
        os=missing_os,
    ), checks


def judge(skill: Skill, settings: SkillsSettings, host: Host, allowed: tuple[str, ...] | None) -> Verdict:
    entry = settings.entry(skill.key)
    allow = settings.allow_bundled
    blocked = bool(allow and skill.bundled and skill.key not in allow and skill.name not in allow)
    missing, checks = _missing(skill, entry, host)
    return Verdict(skill, entry is not None and entry.enabled is False, blocked,
                   allowed is not None and skill.name not in allowed, missing, checks)
