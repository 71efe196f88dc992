"""The session-memory hook around a reset (`/new`, `/reset`, `sessions.reset`): the ending session's
messages are read before the reset and saved to a dated note after it, in the background, so the
reset's answer never waits on the disk (memory/sessionnote.py writes the note)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw import logfile

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime

_writing: set[asyncio.Task[Any]] = set()


@dataclass(frozen=True)
class Capture:
    workspace: Path
    messages: list[tuple[str, str]]
    count: int
    session_key: str
    session_id: str
    reason: str
    zone: str | None

    def save_in_background(self) -> None:
        task = asyncio.ensure_future(self._save())
        _writing.add(task)
        task.add_done_callback(_writing.discard)

    async def _save(self) -> None:
        from openclaw.memory import sessionnote

        try:
            path = await asyncio.to_thread(sessionnote.save, self.workspace, self.messages, self.count,
                                           self.session_key, self.session_id, self.reason, self.zone)
        except OSError as exc:
            logfile.warn(f"session-memory: could not save session {self.session_id}: {exc}", subsystem="memory")
            return
        if path is not None:
            logfile.info(f"Session context saved to {path}", subsystem="memory")


async def capture(runtime: AgentRuntime, agent_id: str, session_key: str, reason: str) -> Capture | None:
    """What the hook will save (None when it is off or the session does not exist); call before the reset."""
    from openclaw.memory.settings import hook_settings

    hook = hook_settings(runtime.config())
    if not hook.enabled:
        return None
    store = runtime.store(agent_id)
    old = await store.find(session_key)
    if old is None:
        return None
    messages = [(m.role, m.content) for m in await store.history(old)]
    return Capture(runtime.workspace(agent_id), messages, hook.messages, session_key, old.session_id, reason,
                   hook.user_timezone)
