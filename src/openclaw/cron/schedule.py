"""When a job runs next: `{"kind": "every", "everyMs", "anchorMs"}`, `{"kind": "at", "atMs"}` or
`{"kind": "cron", "expr", "tz"}` (5 fields, or 6 with seconds first), as upstream stores them."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from openclaw.errors import UsageError

UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
MIN_EVERY_MS = 1000


def parse_duration(text: str) -> int:
    """`90s`, `10m`, `1h30m`, `2d` -> milliseconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", text.strip().lower())
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", "", text.strip().lower()).strip():
        raise UsageError(f"invalid duration {text!r} (use e.g. 30s, 10m, 1h30m, 2d)")
    return int(sum(float(n) * UNITS[u] for n, u in parts))


def now_ms() -> int:
    return int(time.time() * 1000)


def build(every: str | None = None, at: str | None = None, cron: str | None = None, tz: str | None = None) -> dict[str, Any]:
    """A schedule from the CLI's flags (exactly one of them)."""
    given = [x for x in (every, at, cron) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of --every, --at or --cron")
    if every:
        ms = parse_duration(every)
        if ms < MIN_EVERY_MS:
            raise UsageError("--every must be at least 1s")
        return {"kind": "every", "everyMs": ms, "anchorMs": now_ms()}
    if at:
        return {"kind": "at", "atMs": _when(at)}
    schedule = {"kind": "cron", "expr": cron.strip(), **({"tz": tz} if tz else {})}
    validate(schedule)
    return schedule


def _when(text: str) -> int:
    """An ISO time or a duration from now."""
    try:
        return now_ms() + parse_duration(text)
    except UsageError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r}: use an ISO time (2026-12-01T09:00:00Z) or a duration (20m)") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the host's local time
    return int(moment.timestamp() * 1000)


def validate(schedule: Any) -> None:
    """One line saying what is wrong with a schedule, as a UsageError."""
    if not isinstance(schedule, dict) or schedule.get("kind") not in ("every", "at", "cron"):
        raise UsageError('schedule must be {"kind": "every"|"at"|"cron", ...}')
    kind = schedule["kind"]
    if kind == "every" and (not isinstance(schedule.get("everyMs"), int) or schedule["everyMs"] < MIN_EVERY_MS):
        raise UsageError("schedule.everyMs must be an integer of at least 1000")
    if kind == "at" and not isinstance(schedule.get("atMs"), int):
        raise UsageError("schedule.atMs must be a time in milliseconds")
    if kind == "cron":
        expr = schedule.get("expr")
        if not isinstance(expr, str) or len(expr.split()) not in (5, 6):
            raise UsageError("schedule.expr must be a cron expression of 5 fields (or 6, seconds first)")
        _zone(schedule.get("tz"))
        from croniter import croniter

        if not croniter.is_valid(expr, second_at_beginning=len(expr.split()) == 6):
            raise UsageError(f"invalid cron expression {expr!r}")


def _zone(name: Any) -> Any:
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


def next_run(schedule: dict[str, Any], after_ms: int) -> int | None:
    """The first run strictly after `after_ms`, or None (a one-shot already past)."""
    kind = schedule.get("kind")
    if kind == "every":
        every, anchor = schedule["everyMs"], schedule.get("anchorMs", 0)
        steps = (after_ms - anchor) // every + 1 if after_ms >= anchor else 0
        return anchor + steps * every
    if kind == "at":
        return schedule["atMs"] if schedule["atMs"] > after_ms else None
    from croniter import croniter

    expr = schedule["expr"]
    zone = _zone(schedule.get("tz"))
    start = datetime.fromtimestamp(after_ms / 1000, zone or UTC).astimezone(zone) if zone else \
        datetime.fromtimestamp(after_ms / 1000).astimezone()
    it = croniter(expr, start, second_at_beginning=len(expr.split()) == 6)
    return int(it.get_next(float) * 1000)


def describe(schedule: dict[str, Any]) -> str:
    kind = schedule.get("kind")
    if kind == "every":
        ms = schedule["everyMs"]
        for unit in ("d", "h", "m", "s"):
            if ms % UNITS[unit] == 0:
                return f"every {ms // UNITS[unit]}{unit}"
        return f"every {ms}ms"
    if kind == "at":
        return "at " + datetime.fromtimestamp(schedule["atMs"] / 1000).astimezone().isoformat(timespec="seconds")
    return f"cron {schedule.get('expr')}" + (f" ({schedule['tz']})" if schedule.get("tz") else "")
