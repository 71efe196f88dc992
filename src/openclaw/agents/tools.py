"""What a tool is to the agent loop, and which tools a turn gets.

A tool has a spec the model sees, a coroutine that runs it, and a kind that
says what it can do to the host: `read` changes nothing, `act` acts outside
the host (a browser), `write` mutates files, `exec` runs programs, `control`
changes an instance (the control plane). Everything but `read` is for owners
only, and the HTTP surface derives its hard deny list from the kind.
`tools.allow` / `tools.deny` (names, `*` globs, a group such as `bundle-mcp`), with the agent's own on top,
narrow the set; a sender who is not an owner or allow-listed gets only the
tools that change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from openclaw.config.view import Config
from openclaw.models.types import ToolSpec

MAX_RESULT_CHARS = 20_000  # what one tool result may put into the conversation


@dataclass(frozen=True)
class ToolContext:
    workspace: Path
    agent_id: str
    session_key: str
    operator: bool
    env: Mapping[str, str] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)  # for its commands, where they do not set it
    readable: tuple[Path, ...] = ()  # folders outside the workspace it may read (the run's skills)


Runner = Callable[[dict[str, Any], ToolContext], Awaitable[str]]
ToolKind = Literal["read", "act", "write", "exec", "control"]
HOST_CHANGING: frozenset[str] = frozenset({"write", "exec", "control"})  # never over HTTP unless allowed


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    run: Runner
    kind: ToolKind = "read"
    group: str = ""  # a name the policy can use for a family of tools (`bundle-mcp`)

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


def select(tools: list[Tool], config: Config, agent_id: str, operator: bool) -> list[Tool]:
    """The tools a turn gets: `tools.*` with the agent's own policy on top, then what its sender may use."""
    rule = config.tool_policy(agent_id)
    allow, deny = rule.allow, rule.deny
    out = []
    for tool in tools:
        if named(tool, deny):
            continue
        if allow is not None and not named(tool, allow):
            continue
        if tool.mutating and not operator:
            continue
        out.append(tool)
    return out


def named(tool: Tool, patterns: frozenset[str]) -> bool:
    """`tool` is among `patterns`: its name, its group, or a `*` glob over its name."""
    if tool.name in patterns or (tool.group and tool.group in patterns):
        return True
    return any("*" in p and fnmatchcase(tool.name, p) for p in patterns)


def clip(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"
