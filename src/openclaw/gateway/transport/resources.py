"""The gateway process's own resources: its file-descriptor limit, accept errors, freed memory.

- The soft `RLIMIT_NOFILE` is raised to the hard limit at start, so sockets
  run out at the limit the administrator set, not at a shell's default 1024.
- When descriptors do run out, asyncio logs a traceback per failed accept (tens
  of thousands a second); we log one line per interval with a count instead.
- A connection that made us buffer megabytes leaves the allocator holding
  them; once it is gone, glibc is asked to hand free pages back to the OS.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

from openclaw import logfile, memguard

ACCEPT_LOG_INTERVAL_S = 10.0
TRIM_AFTER_BYTES = 4 * 1024 * 1024
TRIM_DELAY_S = 1.0
_EXHAUSTION = "out of system resource"  # asyncio's message for EMFILE/ENFILE/ENOBUFS/ENOMEM on accept


def raise_nofile_limit() -> tuple[int, int] | None:
    """Soft NOFILE -> hard (capped where the platform refuses 'unlimited'); the new (soft, hard)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if sys.platform == "darwin":
        target = min(target, 10_240)  # OPEN_MAX: macOS refuses more for setrlimit
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft, hard


class AcceptErrorThrottle:
    """A loop exception handler: fd exhaustion on accept is logged once per interval; a fleet member
    out of memory ends (openclaw.memguard)."""

    def __init__(self, interval: float = ACCEPT_LOG_INTERVAL_S) -> None:
        self.interval = interval
        self.suppressed = 0
        self._last = float("-inf")

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), BaseException):  # a task's or callback's, nobody awaited it
            memguard.check(context["exception"])  # a fleet member out of memory ends here (exit 75)
        if _EXHAUSTION not in str(context.get("message", "")):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            self.suppressed += 1
            return
        exc = context.get("exception")
        more = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
        logfile.error(f"cannot accept connections: {exc or 'out of file descriptors'}{more}; open sockets are "
                      "timed out within seconds, or raise the open-files limit (ulimit -n)", subsystem="http")
        self._last, self.suppressed = now, 0


class MemoryTrimmer:
    """Gives freed heap pages back after connections that held a lot have gone (glibc only).

    Each ended connection counts what it buffered plus one socket read buffer
    (asyncio reads into 256 KiB); once that adds up, a trim runs a moment
    later, at most once per interval, off the event loop.
    """

    READ_BUFFER = 256 * 1024

    def __init__(self) -> None:
        self._pending = 0
        self._scheduled = False
        self._trim: Any = None

    def connection_ended(self, peak_bytes: int) -> None:
        if not sys.platform.startswith("linux"):
            return
        self._pending += peak_bytes + self.READ_BUFFER
        if self._pending >= TRIM_AFTER_BYTES and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(TRIM_DELAY_S, self._start)

    def _start(self) -> None:
        self._scheduled, self._pending = False, 0
        asyncio.get_running_loop().run_in_executor(None, self._run)

    def _run(self) -> None:
        if self._trim is None:
            import ctypes

            try:
                self._trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                self._trim = False
        if self._trim:
            self._trim(0)
