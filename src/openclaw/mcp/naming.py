"""The names MCP tools get before the model: `<server>__<tool>`, as upstream names them.

Providers accept `[A-Za-z0-9_-]` names of at most 64 characters that start with a letter, so each
part is cleaned (other characters become `-`, a part that starts with anything but a letter gets a
`mcp-`/`tool-` prefix), the server part is cut at 30 characters and the tool part to what is left.
Names that then collide (ignoring case) get `-2`, `-3`, ... in the order servers are declared and
tools are listed, so a catalog that does not change keeps its names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_PREFIX = 30
MAX_TOTAL = 64
SEPARATOR = "__"


def _fragment(raw: str, fallback: str, limit: int | None = None) -> str:
    cleaned = UNSAFE.sub("-", raw.strip()) or fallback
    if not cleaned[0].isascii() or not cleaned[0].isalpha():
        cleaned = f"{fallback}-{cleaned}"
    return cleaned[:limit] if limit else cleaned


def server_names(names: Iterable[str]) -> dict[str, str]:
    """Each configured server name -> its safe prefix, unique ignoring case, in declaration order."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = candidate = _fragment(name, "mcp", MAX_PREFIX)
        n = 2
        while candidate.lower() in used:
            suffix = f"-{n}"
            candidate = base[:max(1, MAX_PREFIX - len(suffix))] + suffix
            n += 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def tool_name(server: str, tool: str, taken: set[str]) -> str:
    """`server__tool` within MAX_TOTAL characters, not in `taken` (lower-cased names); adds it there."""
    room = max(1, MAX_TOTAL - len(server) - len(SEPARATOR))
    base = _fragment(tool, "tool")[:room] or "tool"
    candidate = f"{server}{SEPARATOR}{base}"
    n = 2
    while candidate.lower() in taken:
        suffix = f"-{n}"
        candidate = f"{server}{SEPARATOR}{base[:max(1, room - len(suffix))]}{suffix}"
        n += 1
    taken.add(candidate.lower())
    return candidate
