"""System events and heartbeat switches an operator sets (`system-event`, `wake`, `set-heartbeats`).

This gateway runs no periodic heartbeat turns: what it keeps is the switch, the last heartbeat
event it published, and a bounded queue of system-event texts, listed in `status` as
`queuedSystemEvents` the way upstream lists the texts waiting for the main session's next turn.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

MAX_QUEUED = 20  # upstream keeps the latest 20 per session
MAX_TEXT = 2_000


class SystemEvents:
    def __init__(self) -> None:
        self.heartbeats_enabled = True
        self.last_heartbeat: dict[str, Any] | None = None
        self.queued: deque[dict[str, Any]] = deque(maxlen=MAX_QUEUED)

    def enqueue(self, text: str, session_key: str, source: str) -> dict[str, Any]:
        entry = {"text": text[:MAX_TEXT], "ts": int(time.time() * 1000), "sessionKey": session_key, "source": source}
        if not self.queued or self.queued[-1]["text"] != entry["text"]:  # upstream drops an immediate repeat
            self.queued.append(entry)
        return entry

    def texts(self) -> list[str]:
        return [e["text"] for e in self.queued]
