"""Config hot reload: notice settled edits to `openclaw.json` and hand them to the runner.

The watcher polls one file's stat (inode, size, mtime) a few times a
second. For a single file that is exact, survives editors' rename-on-save,
and costs an idle gateway nothing like a native watcher thread would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

POLL_S = 0.3
SETTLE_S = 0.15


def signature(path: Path) -> tuple[int, int, int] | None:
    """The file's (inode, size, mtime): taken before a read, it names the version that read saw."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)

class ConfigWatcher:
    """Calls `on_change` once per settled edit of `path`."""

    def __init__(self, path: Path, on_change: Callable[[], Awaitable[None]], interval: float = POLL_S) -> None:
        self.path = path
        self.on_change = on_change
        self.interval = interval
        self._last = signature(path)
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()

    def poke(self) -> None:
        """Check now (used right after a write through the RPC)."""
        self._poke.set()

    def accept(self, seen: tuple[int, int, int] | None) -> None:
        """Treat the version `seen` (its signature taken before it was read) as applied: a write made
        since then is still a change."""
        self._last = seen

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # the poll interval passed: look anyway
                await asyncio.wait_for(self._poke.wait(), timeout=self.interval)
            self._poke.clear()
            current = signature(self.path)
            if current == self._last:
                continue
            current = await self._settle(current)
            self._last = current
            await self.on_change()

    async def _settle(self, sig: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        """Wait until the file stops changing (editors write, rename and touch in bursts)."""
        for _ in range(20):
            await asyncio.sleep(SETTLE_S)
            nxt = signature(self.path)
            if nxt == sig:
                return sig
            sig = nxt
        return sig
