"""Where each agent keeps its sessions. Which agents an instance has is the config's
(`openclaw.config.view.Config.agents`: `agents.entries`, or upstream's `agents.list`)."""

from __future__ import annotations

from pathlib import Path

from openclaw.stores.agentfile import agent_db_path


def sessions_db_path(state_dir: Path, agent_id: str) -> Path:
    """Where an agent's sessions live: upstream's agent store (absent until the agent first runs)."""
    return agent_db_path(state_dir, agent_id)


def legacy_sessions_path(state_dir: Path, agent_id: str) -> Path:
    """Our former sessions file, imported into the agent store on its first open."""
    return state_dir / "agents" / agent_id / "agent" / "sessions.sqlite"
