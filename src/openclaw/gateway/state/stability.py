"""A bounded ring of payload-free diagnostic events (`diagnostics.stability`): what happened to this
gateway lately (starts, reloads, refused payloads, slow consumers, agent runs) and its memory,
in the shape upstream's `openclaw gateway stability` reads."""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

CAPACITY = 1000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 25


def rss_bytes() -> int:
    """This process's resident memory, from /proc where there is one (no psutil import)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class StabilityRecorder:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.seq = 0
        self.dropped = 0

    def record(self, kind: str, **fields: Any) -> None:
        if len(self.records) == self.capacity:
            self.dropped += 1
        self.seq += 1
        self.records.append({"seq": self.seq, "ts": int(time.time() * 1000), "type": kind,
                             **{k: v for k, v in fields.items() if v is not None}})

    def snapshot(self, limit: int = DEFAULT_LIMIT, kind: str | None = None,
                 since_seq: int | None = None) -> dict[str, Any]:
        self.record("diagnostic.memory.sample", memory={"rssBytes": rss_bytes()})
        chosen = [r for r in self.records if (kind is None or r["type"] == kind)
                  and (since_seq is None or r["seq"] > since_seq)]
        return {
            "generatedAt": f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}.{int(time.time() * 1000) % 1000:03d}Z",
            "capacity": self.capacity, "count": len(chosen), "dropped": self.dropped,
            "firstSeq": chosen[0]["seq"] if chosen else None, "lastSeq": chosen[-1]["seq"] if chosen else None,
            "events": chosen[-limit:], "summary": _summary(chosen),
        }


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_type: dict[str, int] = {}
    latest, peak = None, 0
    refused = 0
    for record in records:
        by_type[record["type"]] = by_type.get(record["type"], 0) + 1
        if "memory" in record:
            latest = record["memory"]
            peak = max(peak, record["memory"]["rssBytes"])
        if record["type"] == "payload.large":
            refused += 1
    out: dict[str, Any] = {"byType": by_type}
    if latest:
        out["memory"] = {"latest": latest, "maxRssBytes": peak, "pressureCount": 0}
    if refused:
        out["payloadLarge"] = {"count": refused, "rejected": refused, "truncated": 0, "chunked": 0,
                               "bySurface": {"gateway.ws": refused}}
    return out
