"""An agent workspace: the folder whose Markdown files shape the agent's system prompt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw.config.view import Config
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


def workspace_dir(config: Config, paths: InstancePaths, env: Mapping[str, str]) -> Path:
    """`agents.defaults.workspace` > OPENCLAW_WORKSPACE_DIR > the profile's default."""
    value = config.agent_defaults.workspace or env.get("OPENCLAW_WORKSPACE_DIR")
    return expand_user(value, env) if value else paths.default_workspace


def agent_workspace(config: Config, paths: InstancePaths, env: Mapping[str, str], agent_id: str) -> Path:
    """The agent's own `workspace` if it names one, else the instance's (`workspace_dir`)."""
    own = config.agent(agent_id).workspace
    return expand_user(own, env) if own else workspace_dir(config, paths, env)


SEED_FILE_MAX = 64 * 1024  # a prompt file larger than this is not a prompt file
SEED_TOTAL_MAX = 512 * 1024  # what a ConfigMap (1 MiB) comfortably carries beside the config


def prompt_files(path: Path) -> tuple[dict[str, str], list[str]]:
    """The workspace's top-level Markdown files (what shapes the prompt), for carrying them to
    another place; (files, names skipped for size)."""
    files: dict[str, str] = {}
    skipped: list[str] = []
    total = 0
    for item in sorted(path.glob("*.md")) if path.is_dir() else []:
        try:
            size = item.stat().st_size
            if not item.is_file() or size > SEED_FILE_MAX or total + size > SEED_TOTAL_MAX:
                skipped.append(item.name)
                continue
            files[item.name] = item.read_text(encoding="utf-8")
            total += size
        except (OSError, UnicodeDecodeError):
            skipped.append(item.name)
    return files, skipped


def seed_workspace(path: Path, seed: Path) -> list[str]:
    """Copy the seed's Markdown files into a new instance's workspace, never over an existing file."""
    copied = []
    for item in sorted(seed.glob("*.md")) if seed.is_dir() else []:
        target = path / item.name
        if target.exists() or item.stat().st_size > SEED_FILE_MAX:
            continue
        atomic_write(target, item.read_bytes())
        copied.append(item.name)
    return copied
