"""Dotted key paths (`gateway.auth.token`, `agents.list[0].id`) over plain dicts and lists."""

from __future__ import annotations

import re
from typing import Any

from openclaw.errors import UsageError

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def parse_path(path: str) -> list[str | int]:
    """Split a key path into dict keys (str) and list indexes (int)."""
    text = path.strip()
    if not text:
        raise UsageError("config path is empty; use a dotted path such as gateway.port")
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        match = _SEGMENT.match(text, pos)
        if not match:
            raise UsageError(f"invalid config path: {path}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    return parts


def format_path(parts: list[str | int] | tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _holds(node: Any, part: str | int) -> bool:
    """True when `node` has the index or key `part` (an int indexes lists only, a str keys dicts only)."""
    if isinstance(part, int):
        return isinstance(node, list) and 0 <= part < len(node)
    return isinstance(node, dict) and part in node


def get_path(data: Any, parts: list[str | int], default: Any = _MISSING) -> Any:
    node = data
    for part in parts:
        if _holds(node, part):
            node = node[part]
        else:
            if default is _MISSING:
                raise KeyError(format_path(parts))
            return default
    return node


def has_path(data: Any, parts: list[str | int]) -> bool:
    absent = object()
    return get_path(data, parts, absent) is not absent


def set_path(data: dict[str, Any], parts: list[str | int], value: Any) -> None:
    """Set a value, creating intermediate objects; list indexes must exist or append."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part > len(node):
                raise UsageError(f"cannot index {format_path(parts[: i + 1])}: not a list")
            if part == len(node):
                node.append([] if isinstance(nxt, int) else {})
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise UsageError(f"cannot set {format_path(parts)}: {format_path(parts[:i])} is not an object")
        child = node.get(part)
        if not isinstance(child, (dict, list)):
            child = [] if isinstance(nxt, int) else {}
            node[part] = child
        node = child
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last > len(node):
            raise UsageError(f"cannot set {format_path(parts)}: index out of range")
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    else:
        if not isinstance(node, dict):
            raise UsageError(f"cannot set {format_path(parts)}: parent is not an object")
        node[last] = value


def unset_path(data: dict[str, Any], parts: list[str | int]) -> bool:
    """Remove a key or list item; returns False when it was absent."""
    try:
        parent = get_path(data, parts[:-1]) if len(parts) > 1 else data
    except KeyError:
        return False
    last = parts[-1]
    if isinstance(last, int) and isinstance(parent, list) and 0 <= last < len(parent):
        del parent[last]
        return True
    if isinstance(last, str) and isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


def flatten_paths(data: Any, prefix: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Leaf values keyed by their path, used to diff two configs."""
    out: dict[str, Any] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten_paths(value, (*prefix, key)))
    else:
        out[format_path(prefix)] = data
    return out


def changed_paths(old: Any, new: Any) -> list[str]:
    a, b = flatten_paths(old or {}), flatten_paths(new or {})
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
