"""What a tool is to the agent loop, and which tools a turn gets.

A tool has a spec the model sees, a coroutine that runs it, and a kind that
says what it can do to the host: `read` changes nothing, `act` acts outside
the host (a browser), `write` mutates files, `exec` runs programs, `control`
changes an instance (the control plane). Everything but `read` is for owners
only, and the HTTP surface derives its hard deny list from the kind. Per-agent `tools.allow` / `tools.deny` (names, `*` for all)
narrow the set; a sender who is not an owner or allow-listed gets only the
tools that change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from openclaw.models.types import ToolSpec

MAX_RESULT_CHARS = 20_000  # what one tool result may put into the conversation


@dataclass(frozen=True)
class ToolContext:
    workspace: Path
    agent_id: str
    session_key: str
    operator: bool
    env: Mapping[str, str] = field(default_factory=dict)


Runner = Callable[[dict[str, Any], ToolContext], Awaitable[str]]
ToolKind = Literal["read", "act", "write", "exec", "control"]
HOST_CHANGING: frozenset[str] = frozenset({"write", "exec", "control"})  # never over HTTP unless allowed


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    run: Runner
    kind: ToolKind = "read"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def mutating(self) -> bool:
        """Changes something (or acts for the owner): owners and allow-listed senders only."""
        return self.kind != "read"

    @property
    def changes_host(self) -> bool:
        """Executes programs, mutates files or changes an instance."""
        return self.kind in HOST_CHANGING


class ToolError(Exception):
    """A tool refused or failed in a way the model should read (it becomes the tool's result)."""


def _names(value: Any) -> set[str] | None:
    return {str(v) for v in value} if isinstance(value, list) else None


def policy(config: dict[str, Any], agent_id: str) -> tuple[set[str] | None, set[str]]:
    """(allow or None for all, deny) from `tools.*` and `agents.entries.<id>.tools.*` (the agent's own wins)."""
    top = config.get("tools") if isinstance(config.get("tools"), dict) else {}
    agents = config.get("agents") if isinstance(config.get("agents"), dict) else {}
    entries = agents.get("entries") if isinstance(agents.get("entries"), dict) else {}
    own = (entries.get(agent_id) or {}).get("tools") if isinstance(entries.get(agent_id), dict) else None
    own = own if isinstance(own, dict) else {}
    allow = _names(own.get("allow")) if "allow" in own else _names(top.get("allow"))
    deny = (_names(top.get("deny")) or set()) | (_names(own.get("deny")) or set())
    return allow, deny


def select(tools: list[Tool], config: dict[str, Any], agent_id: str, operator: bool) -> list[Tool]:
    allow, deny = policy(config, agent_id)
    out = []
    for tool in tools:
        if tool.name in deny or "*" in deny:
            continue
        if allow is not None and tool.name not in allow and "*" not in allow:
            continue
        if tool.mutating and not operator:
            continue
        out.append(tool)
    return out


def clip(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"
