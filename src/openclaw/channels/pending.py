"""Updates a channel has taken from its platform but not yet answered, kept on disk until they are.

The platform forgets an update once the channel's offset moves past it, so an
update that needs an answer is written here first and the offset moves after.
The dispatcher settles it when it is done with it (its reply was sent, or it
needed none); one whose turn a crash or a stop cut short is still here at the
next start and goes through the bus again, so it is answered once. The ids of
the last SETTLED_KEPT settled updates are kept too: an update the platform
sends again (the offset was not yet written when the process died) is
recognised and not answered twice. The window that stays: a reply sent, then a
`kill -9` before its settlement is written, is sent again after the restart.

One store per file and process, shared by every channel object that a channel
restart makes, so a restart never publishes an update that is still being
answered.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from pathlib import Path
from typing import Any

from openclaw.fsutil import atomic_write, ensure_private_dir

MAX_PENDING = 256  # unanswered updates per account; the poller waits for room beyond this
SETTLED_KEPT = 1024  # settled update ids remembered against a repeat

_stores: dict[str, PendingUpdates] = {}
_stores_lock = threading.Lock()


def pending_store(path: Path) -> PendingUpdates:
    """The process's one store for `path` (made on first use)."""
    with _stores_lock:
        store = _stores.get(str(path))
        if store is None:
            store = _stores[str(path)] = PendingUpdates(path)
        return store


class PendingUpdates:
    def __init__(self, path: Path, limit: int = MAX_PENDING) -> None:
        self.path = path
        self.limit = limit
        self.items: dict[int, dict[str, Any]] = {}  # update id -> the update as the platform sent it
        self.settled: deque[int] = deque(maxlen=SETTLED_KEPT)
        self.in_flight: set[int] = set()  # handed to the bus by this process, not settled yet
        self._loaded = False
        self._room = asyncio.Event()
        self._lock = threading.Lock()  # writes come from worker threads
        self._taken = 0  # snapshots taken (on the loop)
        self._written = 0  # the newest snapshot on disk

    def load(self) -> None:
        """Read the file once per process (file work: run in a thread)."""
        if self._loaded:
            return
        self._loaded = True
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        for key, update in (data.get("pending") or {}).items():
            if str(key).isdigit() and isinstance(update, dict):
                self.items[int(key)] = update
        self.settled.extend(i for i in data.get("settled") or [] if isinstance(i, int))

    def seen(self, update_id: int) -> bool:
        """Already taken: waiting for its answer, or answered."""
        return update_id in self.items or update_id in self.settled

    def unanswered(self) -> list[tuple[int, dict[str, Any]]]:
        """Updates taken by an earlier run (or a stopped channel) that nobody is answering now."""
        return sorted((i, u) for i, u in self.items.items() if i not in self.in_flight)

    async def wait_for_room(self) -> None:
        while len(self.items) >= self.limit:
            self._room.clear()
            await self._room.wait()

    async def take(self, update_id: int, update: dict[str, Any]) -> None:
        """Keep `update` until it is settled; returns once that is on disk (OSError: not kept at all,
        so the caller must not acknowledge it)."""
        self.items[update_id] = update
        self.in_flight.add(update_id)
        try:
            await self._flush()
        except OSError:
            self.items.pop(update_id, None)
            self.in_flight.discard(update_id)
            raise

    def claim(self, update_id: int) -> None:
        """This process answers a stored update now (after a restart)."""
        self.in_flight.add(update_id)

    async def settle(self, update_id: int) -> None:
        """Done with it: answered, or nothing to answer. Idempotent."""
        self.in_flight.discard(update_id)
        if self.items.pop(update_id, None) is None:
            return
        self.settled.append(update_id)
        self._room.set()
        await self._flush()

    async def _flush(self) -> None:
        """Write what is held now, in a thread; a write that ends after a newer one is skipped. A caller
        cancelled meanwhile does not stop the write."""
        self._taken += 1
        snapshot = (self._taken, json.dumps({"version": 1, "pending": {str(k): v for k, v in self.items.items()},
                                             "settled": list(self.settled)}, ensure_ascii=False) + "\n")
        await asyncio.to_thread(self._write, *snapshot)

    def _write(self, version: int, text: str) -> None:
        with self._lock:
            if version <= self._written:
                return
            ensure_private_dir(self.path.parent)
            atomic_write(self.path, text)
            self._written = version
