"""Process vitals in upstream's shapes: `eventLoop` (how late the loop runs its timers, how busy the
process is) and `processMemory`, for `health`, `status`, `channels.status` and `system.info`.

The loop is sampled once a second from the first time anyone asks (a timer, nothing blocking),
keeping the last minute: a gateway nobody asks costs nothing.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections import deque
from typing import Any

INTERVAL_S = 1.0
SAMPLES = 60
DEGRADED_DELAY_MS = 500.0  # a p99 lateness above this marks the loop degraded
DEGRADED_CPU = 0.9


class LoopMonitor:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.delays: deque[float] = deque(maxlen=SAMPLES)
        self.cpu = deque[tuple[float, float]](maxlen=SAMPLES)  # (wall, process cpu) at each sample
        self.degraded_since_ms: int | None = None
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        if self._due:
            self.delays.append(max(0.0, (now - self._due) * 1000))
        self.cpu.append((now, time.process_time()))
        self._due = now + INTERVAL_S
        self._handle = self.loop.call_later(INTERVAL_S, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def health(self) -> dict[str, Any]:
        delays = sorted(self.delays) or [0.0]
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        (wall0, cpu0), (wall1, cpu1) = self.cpu[0], self.cpu[-1]
        ratio = (cpu1 - cpu0) / (wall1 - wall0) if wall1 > wall0 else 0.0
        checks = (("event-loop-delay", p99 > DEGRADED_DELAY_MS), ("cpu", ratio > DEGRADED_CPU))
        reasons = [reason for reason, bad in checks if bad]
        if reasons and self.degraded_since_ms is None:
            self.degraded_since_ms = int(time.time() * 1000)
        elif not reasons:
            self.degraded_since_ms = None
        cores = os.cpu_count() or 1
        return {"degraded": bool(reasons), "degradedSinceMs": self.degraded_since_ms, "reasons": reasons,
                "intervalMs": INTERVAL_S * 1000, "delayP99Ms": round(p99, 1), "delayMaxMs": round(delays[-1], 1),
                "utilization": round(min(1.0, ratio), 3), "cpuCoreRatio": round(ratio, 3),
                "cpuBreakdown": {"mainThreadCoreRatio": round(ratio, 3), "hostCpuCount": cores}}


_monitors: dict[asyncio.AbstractEventLoop, LoopMonitor] = {}


def event_loop_health() -> dict[str, Any]:
    """The running loop's health (its sampling starts with the first call)."""
    loop = asyncio.get_running_loop()
    monitor = _monitors.get(loop)
    if monitor is None:
        for stale in [k for k in _monitors if k.is_closed()]:
            del _monitors[stale]
        monitor = _monitors[loop] = LoopMonitor(loop)
    return monitor.health()


def process_memory() -> dict[str, int]:
    """Resident memory now (and at its peak): what a Python process can say of upstream's fields."""
    rss = 0
    try:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rssBytes": rss, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def vitals() -> dict[str, Any]:
    return {"eventLoop": event_loop_health(), "processMemory": process_memory()}
