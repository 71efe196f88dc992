"""System events and the heartbeat switch an operator sets (`system-event`, `wake`, `set-heartbeats`),
and the last heartbeat event.

Texts wait in a bounded queue, listed in `status` as `queuedSystemEvents` the way upstream lists
them, until the next heartbeat of their session's agent takes them into its turn. Each heartbeat's event is
kept as the last one and handed to the listener (the serving gateway broadcasts it as `heartbeat`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

MAX_QUEUED = 20  # upstream keeps the latest 20 per session
MAX_TEXT = 2_000


class SystemEvents:
    def __init__(self) -> None:
        self.heartbeats_enabled = True
        self.last_heartbeat: dict[str, Any] | None = None
        self.queued: deque[dict[str, Any]] = deque(maxlen=MAX_QUEUED)
        self.listener: Callable[[dict[str, Any]], None] | None = None  # set by the serving gateway

    def enqueue(self, text: str, session_key: str, source: str) -> dict[str, Any]:
        entry = {"text": text[:MAX_TEXT], "ts": int(time.time() * 1000), "sessionKey": session_key, "source": source}
        if not self.queued or self.queued[-1]["text"] != entry["text"]:  # upstream drops an immediate repeat
            self.queued.append(entry)
        return entry

    def texts(self) -> list[str]:
        return [e["text"] for e in self.queued]

    def drain(self, agent_id: str) -> list[str]:
        """Take the texts waiting for the agent's sessions (`agent:<id>:...`): its heartbeat turn
        consumes them, whichever of its sessions a wake named."""
        prefix = f"agent:{agent_id}:"
        taken = [e for e in self.queued if e["sessionKey"].startswith(prefix)]
        if taken:
            kept = [e for e in self.queued if not e["sessionKey"].startswith(prefix)]
            self.queued.clear()
            self.queued.extend(kept)
        return [e["text"] for e in taken]

    def publish_heartbeat(self, event: dict[str, Any]) -> None:
        self.last_heartbeat = event
        if self.listener is not None:
            self.listener(event)
