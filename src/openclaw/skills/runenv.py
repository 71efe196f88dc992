"""The environment variables a run's skills give the commands it runs.

`skills.entries.<key>.env`, and `apiKey` as the skill's `primaryEnv`, for the skills this agent may
use. They are handed to the run (never written into `os.environ`: runs are concurrent) and the
exec tool adds each only where the command's environment does not already set it. An `apiKey`
may be a SecretRef: `{source: "env", id}` reads the gateway's environment, `{source: "file", id}`
a file (first 64 KiB).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from openclaw.skills.gating import Verdict
from openclaw.skills.settings import SkillsSettings

MAX_SECRET_FILE = 64 * 1024
MAX_VARS = 256
MAX_VALUE = 32 * 1024


def resolve_api_key(value: Any, env: Mapping[str, str]) -> str | None:
    """The key's text, or None when it cannot be had (blocking for file refs)."""
    if isinstance(value, str):
        return value.strip() or None
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        return None
    source, ident = value.get("source"), value["id"]
    if source == "env":
        return (env.get(ident) or "").strip() or None
    if source == "file":
        try:
            with open(os.path.expanduser(ident), encoding="utf-8", errors="replace") as handle:
                return handle.read(MAX_SECRET_FILE).strip() or None
        except OSError:
            return None
    return None


def skill_env(verdicts: Iterable[Verdict], settings: SkillsSettings, env: Mapping[str, str]) -> dict[str, str]:
    """Name -> value for the usable skills' configured variables (the first skill to name one wins)."""
    out: dict[str, str] = {}
    for verdict in verdicts:
        if not verdict.eligible or verdict.blocked_by_agent_filter:
            continue
        entry = settings.entry(verdict.skill.key)
        if entry is None:
            continue
        pairs = list(entry.env.items())
        primary = verdict.skill.front.primary_env
        if primary and entry.api_key is not None:
            key = resolve_api_key(entry.api_key, env)
            if key:
                pairs.append((primary, key))
        for name, value in pairs:
            if len(out) < MAX_VARS and name not in out and value and len(value) <= MAX_VALUE and "\0" not in value:
                out[name] = value
    return out
