"""`openclaw sessions`: this instance's agent sessions, read from its own store (no gateway needed)."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from openclaw.cli.output import json_option, print_json, table
from openclaw.profiles.paths import resolve_paths


def _age(ms: int) -> str:
    seconds = int(time.time() - ms / 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@click.command(help="List agent sessions: key, messages, tokens, last activity.")
@click.option("--agent", "agent_id", help="Only this agent's sessions.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def sessions(agent_id: str | None, limit: int, as_json: bool) -> None:
    import asyncio

    from openclaw.agents.roster import legacy_sessions_path, sessions_db_path
    from openclaw.agents.sessions import SessionStore
    from openclaw.config.store import read_view

    paths = resolve_paths(os.environ)
    config = read_view(paths.config_path, os.environ)

    async def read() -> list[dict[str, Any]]:
        rows = []
        for info in config.agents:
            path = sessions_db_path(paths.state_dir, info.id)
            found = path.exists() or legacy_sessions_path(paths.state_dir, info.id).exists()
            if (agent_id and info.id != agent_id) or not found:
                continue
            store = SessionStore(path)
            try:
                rows += [{**s.as_dict(), "agentId": info.id} for s in await store.list(limit)]
            finally:
                await store.close()
        return sorted(rows, key=lambda r: -r["updatedAt"])[:limit]

    rows = asyncio.run(read())
    if as_json:
        print_json({"count": len(rows), "sessions": rows})
        return
    if not rows:
        click.echo("No sessions yet.")
        return
    table(["KEY", "AGENT", "MESSAGES", "TOKENS", "MODEL", "ACTIVE"],
          [[r["key"], r["agentId"], str(r["entries"]), str(r["totalTokens"]), r["model"] or r["modelOverride"] or "-",
            _age(r["updatedAt"]) + " ago"] for r in rows])
