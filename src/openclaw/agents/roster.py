"""Where each agent keeps its sessions. Which agents an instance has is the config's
(`openclaw.config.view.Config.agents`: `agents.entries`, or upstream's `agents.list`)."""

from __future__ import annotations

from pathlib import Path


def sessions_db_path(state_dir: Path, agent_id: str) -> Path:
    """Where an agent's sessions live (SQLite); absent until the agent first runs."""
    return state_dir / "agents" / agent_id / "agent" / "sessions.sqlite"
