"""The process's memory indexes, one per agent store, made on first use and remade when the
settings that shape them change (a config reload). Bounded; a replaced index closes in the
background."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openclaw.config.view import Config
from openclaw.memory.endpoint import endpoint
from openclaw.memory.index import MemoryIndex
from openclaw.memory.settings import search_settings
from openclaw.stores.agentfile import agent_db_path

MAX_INDEXES = 64
_indexes: dict[Path, tuple[Any, MemoryIndex]] = {}
_closing: set[asyncio.Task[Any]] = set()


def index_for(state_dir: Path, agent_id: str, workspace: Path, config: Config,
              env: Mapping[str, str]) -> MemoryIndex:
    settings = search_settings(config, agent_id)
    target = endpoint(settings, config, env)
    shape = (workspace, settings, target)
    path = agent_db_path(state_dir, agent_id)
    found = _indexes.get(path)
    if found is not None and found[0] == shape:
        return found[1]
    if found is not None or len(_indexes) >= MAX_INDEXES:
        old = _indexes.pop(path, None) or _indexes.pop(next(iter(_indexes)))
        _retire(old[1])
    index = MemoryIndex(path, agent_id, workspace, settings, target)
    _indexes[path] = (shape, index)
    return index


def _retire(index: MemoryIndex) -> None:
    task = asyncio.ensure_future(index.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def close_all() -> None:
    """Close every index (gateway teardown)."""
    indexes = [i for _, i in _indexes.values()]
    _indexes.clear()
    for index in indexes:
        await index.close()
    await asyncio.gather(*_closing, return_exceptions=True)
