"""What a run needs, resolved before it starts: the models to try, the tools, the prompt's facts.
Its own module so that the turn and the compaction it calls both read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw.agents import prompt
from openclaw.agents.tools import Tool
from openclaw.models.catalog import ModelRef, Provider


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, resolved before it starts."""

    refs: list[ModelRef]
    known: dict[str, Provider]
    workspace: Path
    tools: list[Tool]
    runtime: prompt.Runtime
    env: Mapping[str, str]
    max_tokens: int = 4096
    sections: tuple[tuple[str, str], ...] = ()  # (heading, text) added to the system prompt: skills, memory
    tool_env: Mapping[str, str] = field(default_factory=dict)  # set for its commands where unset (skills' env)
    readable: tuple[Path, ...] = ()  # folders outside the workspace its tools may read (its skills')
    bootstrap: tuple[int, int, int] = (prompt.PER_FILE, prompt.TOTAL, prompt.USER_MAX)  # workspace files' caps
