"""What `openclaw memory status` reports for one agent: the files there are, what the index holds,
whether it is behind the files, and where embeddings come from. Read-only: a missing store is
reported empty, never created."""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.memory import files as memfiles
from openclaw.memory.index import MemoryIndex, changed
from openclaw.memory.store import Indexed


@dataclass
class Status:
    files: int  # memory files on disk
    indexed_files: int
    chunks: int
    cache_entries: int
    dirty: bool  # the index is behind the files (or was built for another model)
    provider: str
    model: str
    requested_provider: str
    store: Path
    workspace: Path
    extra_paths: list[str] = field(default_factory=list)
    vector: str = "off"  # off | numpy | pure-python
    error: str | None = None  # the last embeddings failure


async def status(index: MemoryIndex) -> Status:
    listed = await asyncio.to_thread(memfiles.list_files, index.workspace, index.settings.extra_paths)
    store = index.store
    known: dict[str, Indexed] = {}
    meta: dict[str, Any] = {}
    files = chunks = cache = 0
    if store.path.exists():
        known = await store.file.run(store.known)
        meta = await store.file.run(store.meta)
        files, chunks, cache = await store.file.run(store.counts)
    dirty = (meta.get("model") != index.model or any(changed(known.get(f.path), f) for f in listed)
             or bool(set(known) - {f.path for f in listed}))
    vector = "off"
    if index.embedder is not None:
        vector = "numpy" if importlib.util.find_spec("numpy") is not None else "pure-python"
    return Status(len(listed), files, chunks, cache, dirty, index.target.provider if index.target else "none",
                  index.model, index.settings.provider, store.path, index.workspace,
                  [e.path for e in index.settings.extra_paths], vector, index.error)
