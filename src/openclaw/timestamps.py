"""UTC timestamps as every record on disk writes them: ISO 8601 with a `Z` suffix."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utc_iso(ts: float | None = None, timespec: str = "auto") -> str:
    """`2026-11-21T05:21:00.123456Z` for `ts` (default: now); `timespec` as `datetime.isoformat`."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_utc_iso(text: str) -> float:
    """The epoch seconds of a `utc_iso` string; 0.0 when it is not one."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return 0.0
