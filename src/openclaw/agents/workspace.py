"""An agent workspace: the folder whose Markdown files shape the agent's system prompt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.fsutil import atomic_write
from openclaw.profiles.env import expand_user
from openclaw.profiles.paths import InstancePaths

STARTER_FILES: dict[str, str] = {
    "AGENTS.md": """# Agents

How this workspace is run. The gateway reads this file into the agent's
instructions at the start of every session.

- Work inside this folder unless asked otherwise; keep notes in `memory/`.
- Prefer small, reversible steps. Ask before anything destructive.
- When a task needs a tool you do not have, say so plainly.
""",
    "SOUL.md": """# Soul

Who the agent is when it speaks: calm, direct, useful. It answers the
question asked, shows its work when that helps, and says "I don't know"
when it doesn't. Edit this file to change the agent's character.
""",
    "USER.md": """# User

Facts about the person this agent works for. Fill in what helps:

- Name:
- Time zone:
- How they like answers (short, detailed, bullet points):
""",
    "IDENTITY.md": """# Identity

- Name: OpenClaw
- Role: personal assistant running on this host's gateway
- Emoji: 🦞
""",
}


@dataclass
class WorkspaceResult:
    path: Path
    created_dir: bool = False
    created_files: list[str] = field(default_factory=list)


def ensure_workspace(path: Path) -> WorkspaceResult:
    """Create the workspace and any missing starter file; never touch files that exist."""
    result = WorkspaceResult(path, created_dir=not path.exists())
    path.mkdir(parents=True, exist_ok=True)
    for name, text in STARTER_FILES.items():
        target = path / name
        if not target.exists():
            atomic_write(target, text, mode=0o644)
            result.created_files.append(name)
    return result


def workspace_dir(config: dict[str, Any], paths: InstancePaths, env: Mapping[str, str]) -> Path:
    """`agents.defaults.workspace` > OPENCLAW_WORKSPACE_DIR > the profile's default."""
    agents = config.get("agents") if isinstance(config.get("agents"), dict) else {}
    defaults = agents.get("defaults") if isinstance(agents.get("defaults"), dict) else {}
    value = defaults.get("workspace") or env.get("OPENCLAW_WORKSPACE_DIR")
    return expand_user(value, env) if value else paths.default_workspace
