"""Which agents an instance has, read from config (`agents.entries`, or upstream's `agents.list`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_AGENT_ID = "main"


@dataclass(frozen=True)
class AgentInfo:
    id: str
    name: str | None
    is_default: bool


def agent_roster(config: dict[str, Any]) -> list[AgentInfo]:
    agents = config.get("agents") if isinstance(config.get("agents"), dict) else {}
    rows: list[tuple[str, dict[str, Any]]] = []
    entries = agents.get("entries")
    if isinstance(entries, dict):
        rows += [(str(k), v if isinstance(v, dict) else {}) for k, v in entries.items()]
    legacy = agents.get("list")
    if isinstance(legacy, list):
        rows += [(str(v.get("id")), v) for v in legacy if isinstance(v, dict) and v.get("id")]
    if not rows:
        return [AgentInfo(DEFAULT_AGENT_ID, None, True)]
    default_id = next((aid for aid, v in rows if v.get("default")), rows[0][0])
    return [AgentInfo(aid, v.get("name"), aid == default_id) for aid, v in rows]


def default_agent_id(config: dict[str, Any]) -> str:
    return next(a.id for a in agent_roster(config) if a.is_default)


def sessions_db_path(state_dir: Path, agent_id: str) -> Path:
    """Where an agent's sessions live (SQLite); absent until the agent first runs."""
    return state_dir / "agents" / agent_id / "agent" / "sessions.sqlite"


def agent_entry(config: dict[str, Any], agent_id: str) -> dict[str, Any]:
    """The agent's own section (`agents.entries.<id>` or its `agents.list[]` item); {} when it has none."""
    agents = config.get("agents") if isinstance(config.get("agents"), dict) else {}
    entries = agents.get("entries")
    if isinstance(entries, dict) and isinstance(entries.get(agent_id), dict):
        return entries[agent_id]
    legacy = agents.get("list")
    for item in legacy if isinstance(legacy, list) else ():
        if isinstance(item, dict) and str(item.get("id")) == agent_id:
            return item
    return {}
