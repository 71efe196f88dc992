"""The crash-loop breaker: after 3 unclean starts within 5 minutes, channels stay off.

A marker file exists while the gateway runs; a clean stop removes it. Finding
it at start means the previous run ended uncleanly (crash, `kill -9`). The
control plane always starts, so an operator can look and start channels.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from openclaw.fsutil import atomic_write, ensure_private_dir

WINDOW_S = 300.0
THRESHOLD = 3


class CrashLoopBreaker:
    def __init__(self, lock_dir: Path, logs_dir: Path) -> None:
        self.marker = lock_dir / "gateway.running"
        self.history = logs_dir / "unclean-starts.json"
        self.unclean: list[float] = []

    def record_start(self, now: float | None = None) -> bool:
        """Note this start; True when the breaker trips (channels must not auto-start)."""
        now = time.time() if now is None else now
        try:
            recent = [t for t in json.loads(self.history.read_text()) if now - t < WINDOW_S]
        except (OSError, ValueError, TypeError):
            recent = []
        if self.marker.exists():
            recent.append(now)
        self.unclean = recent
        ensure_private_dir(self.history.parent)
        atomic_write(self.history, json.dumps(recent) + "\n")
        ensure_private_dir(self.marker.parent)
        atomic_write(self.marker, json.dumps({"startedAt": now}) + "\n")
        return self.tripped

    @property
    def tripped(self) -> bool:
        return len(self.unclean) >= THRESHOLD

    def seconds_until_clear(self, now: float | None = None) -> float:
        """When the oldest unclean start in the window expires."""
        now = time.time() if now is None else now
        if not self.tripped:
            return 0.0
        return max(0.0, sorted(self.unclean)[-THRESHOLD] + WINDOW_S - now)

    def record_clean_stop(self) -> None:
        self.marker.unlink(missing_ok=True)
