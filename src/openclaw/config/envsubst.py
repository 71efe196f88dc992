"""`${VAR}` substitution in string values; `$${VAR}` stays a literal `${VAR}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openclaw.config.keypath import format_path
from openclaw.config.model import Issue

_PATTERN = re.compile(r"\$\$\{([A-Z_][A-Z0-9_]*)\}|\$\{([A-Z_][A-Z0-9_]*)\}")


def substitute(data: Any, env: Mapping[str, str], issues: list[Issue], path: tuple[Any, ...] = ()) -> Any:
    if isinstance(data, dict):
        return {k: substitute(v, env, issues, (*path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(v, env, issues, (*path, i)) for i, v in enumerate(data)]
    if isinstance(data, str) and "${" in data:
        return _substitute_str(data, env, issues, path)
    return data


def _substitute_str(text: str, env: Mapping[str, str], issues: list[Issue], path: tuple[Any, ...]) -> str:
    def repl(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "${" + match.group(1) + "}"
        name = match.group(2)
        value = env.get(name)
        if value is None:
            issues.append(Issue(format_path(path), f"environment variable {name} is not set"))
            return ""
        return value

    return _PATTERN.sub(repl, text)


def merged_env(data: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """The process env plus literal `env.vars` from the config (which never override)."""
    merged = dict(env)
    section = data.get("env")
    values = section.get("vars") if isinstance(section, dict) else None
    if isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, str) and key not in merged:
                merged[key] = value
    return merged
