"""Where an agent's store lives and whether this build may open it: the light part of the agent
store, read at gateway start without loading the row code."""

from __future__ import annotations

from pathlib import Path

from openclaw.stores.agentschema import AGENT_SCHEMA_VERSION
from openclaw.stores.sqlitefile import too_new


def agent_db_path(state_dir: Path, agent_id: str) -> Path:
    return state_dir / "agents" / agent_id / "agent" / "openclaw-agent.sqlite"


def refuse_newer(path: Path) -> None:
    """Raise `StoreTooNewError` when the agent store's header says a newer schema wrote it: read from
    the file's first 64 bytes, so a start checks every agent without opening SQLite."""
    try:
        with path.open("rb") as f:
            header = f.read(64)
    except FileNotFoundError:
        return
    if len(header) == 64 and header.startswith(b"SQLite format 3\x00"):
        found = int.from_bytes(header[60:64], "big")
        if found > AGENT_SCHEMA_VERSION:
            raise too_new(path, found, AGENT_SCHEMA_VERSION)
