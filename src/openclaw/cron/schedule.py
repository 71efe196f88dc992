"""When a job runs next: `{"kind": "every", "everyMs", "anchorMs"}`, `{"kind": "at", "at": ISO}` (our former
`atMs` is still read) or `{"kind": "cron", "expr", "tz"}` (5 fields, or 6 with seconds first), as upstream stores them.

Times are bounded so a job can neither overflow a date nor wait forever: `every` from 1 s to 1 year,
`at` after now and within 10 years. Names and expressions are one line without control characters
(they end up in tables and logs).
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any, TypeGuard

from openclaw.errors import UsageError

UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
MIN_EVERY_MS = 1000
MAX_EVERY_MS = 365 * UNITS["d"]  # one year
MAX_AHEAD_MS = 3653 * UNITS["d"]  # ten years (with their leap days)
MAX_NAME = 200  # characters in a job name


def parse_duration(text: str) -> int:
    """`90s`, `10m`, `1h30m`, `2d` -> milliseconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", text.strip().lower())
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", "", text.strip().lower()).strip():
        raise UsageError(f"invalid duration {text!r} (use e.g. 30s, 10m, 1h30m, 2d)")
    total = sum(float(n) * UNITS[u] for n, u in parts)
    if not math.isfinite(total):
        raise UsageError(f"invalid duration {text!r} (use e.g. 30s, 10m, 1h30m, 2d)")
    return int(total)


def now_ms() -> int:
    return int(time.time() * 1000)


def build(
    every: str | None = None, at: str | None = None, cron: str | None = None, tz: str | None = None
) -> dict[str, Any]:
    """A schedule from the CLI's flags (exactly one of them)."""
    given = [x for x in (every, at, cron) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of --every, --at or --cron")
    if every:
        ms = parse_duration(every)
        if ms < MIN_EVERY_MS:
            raise UsageError("--every must be at least 1s")
        if ms > MAX_EVERY_MS:
            raise UsageError("--every must be at most 365d (one year)")
        return {"kind": "every", "everyMs": ms, "anchorMs": now_ms()}
    if at:
        when, now = _when(at), now_ms()
        if when <= now:
            raise UsageError(f"--at {at!r} is in the past; give a later time or a duration (20m)")
        if when > now + MAX_AHEAD_MS:
            raise UsageError(f"--at {at!r} is more than 10 years ahead")
        return {"kind": "at", "at": iso(when)}
    assert cron is not None  # exactly one was given
    if control_char(cron):
        raise UsageError("--cron must be one line without control characters")
    schedule = {"kind": "cron", "expr": cron.strip(), **({"tz": tz} if tz else {})}
    validate(schedule, now_ms())
    return schedule


def _when(text: str) -> int:
    """An ISO time or a duration from now."""
    try:
        return now_ms() + parse_duration(text)
    except UsageError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.astimezone()  # the host's local time
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"--at {text!r}: use an ISO time (2026-12-01T09:00:00Z) or a duration (20m)") from None


def control_char(text: str) -> bool:
    """A newline, tab, other C0/C1 control, line separator or bidi override in `text`."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in BIDI for c in text)


BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_name(name: Any, label: str = "name") -> None:
    """One line saying what is wrong with a job name, as a UsageError (`label`: what the caller called it)."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise UsageError(f"{label} must be 1 to {MAX_NAME} characters")
    if control_char(name):
        raise UsageError(f"{label} must be one line without control characters")


def _millis(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(schedule: Any, now: int | None = None) -> None:
    """One line saying what is wrong with a schedule, as a UsageError. A new or changed schedule is
    checked against `now` (an `at` must be ahead); a stored one (`now` None) may lie in the past."""
    if not isinstance(schedule, dict) or schedule.get("kind") not in ("every", "at", "cron"):
        raise UsageError('schedule must be {"kind": "every"|"at"|"cron", ...}')
    kind, horizon = schedule["kind"], (now or now_ms()) + MAX_AHEAD_MS
    if kind == "every":
        every, anchor = schedule.get("everyMs"), schedule.get("anchorMs")
        if not _millis(every) or not MIN_EVERY_MS <= every <= MAX_EVERY_MS:
            raise UsageError(f"schedule.everyMs must be an integer from {MIN_EVERY_MS} (1s) to {MAX_EVERY_MS} (1 year)")
        if anchor is not None and (not _millis(anchor) or (now is not None and abs(anchor - now) > MAX_AHEAD_MS)):
            raise UsageError("schedule.anchorMs must be a time in milliseconds within 10 years of now")
    if kind == "at":
        name = "schedule.at" if "at" in schedule else "schedule.atMs"
        at = at_ms(schedule)
        if at is None:
            raise UsageError("schedule.at must be an ISO time" if "at" in schedule
                             else "schedule.atMs must be a time in milliseconds")
        if now is not None and at <= now:
            raise UsageError(f"{name} must be in the future")
        if at > horizon:
            raise UsageError(f"{name} must be within 10 years from now")
    if kind == "cron":
        expr = schedule.get("expr")
        if isinstance(expr, str) and control_char(expr):
            raise UsageError("schedule.expr must be one line without control characters")
        if not isinstance(expr, str) or len(expr.split()) not in (5, 6):
            raise UsageError("schedule.expr must be a cron expression of 5 fields (or 6, seconds first)")
        _zone(schedule.get("tz"))
        from croniter import croniter

        if not croniter.is_valid(expr, second_at_beginning=len(expr.split()) == 6):
            raise UsageError(f"invalid cron expression {expr!r}")
        if now is not None:
            try:
                next_run(schedule, now)
            except (ValueError, OverflowError):  # croniter's bad-date error is a ValueError
                raise UsageError(f"cron expression {expr!r} never comes due") from None


def iso(ms: int) -> str:
    """Milliseconds as the ISO time upstream stores in an `at` schedule (UTC, milliseconds, `Z`)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def at_ms(schedule: dict[str, Any]) -> int | None:
    """An `at` schedule's time: upstream's `at` (an ISO time, or digits) or our former `atMs`."""
    at = schedule.get("at")
    if at is None:
        value = schedule.get("atMs")
        return value if _millis(value) else None
    if not isinstance(at, str) or not at.strip() or control_char(at):
        return None
    if at.strip().isdigit():
        return int(at.strip())
    try:
        moment = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return int(moment.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return None


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
        every: int = schedule["everyMs"]  # validated when the job was stored
        anchor: int = schedule.get("anchorMs", 0)
        steps = (after_ms - anchor) // every + 1 if after_ms >= anchor else 0
        return anchor + steps * every
    if kind == "at":
        at = at_ms(schedule)
        return at if at is not None and at > after_ms else None
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
        at = at_ms(schedule)
        try:
            if at is None:
                raise ValueError(at)
            return "at " + datetime.fromtimestamp(at / 1000).astimezone().isoformat(timespec="seconds")
        except (OverflowError, ValueError, OSError, TypeError):  # a stored time beyond any calendar
            return f"at {schedule.get('at', schedule.get('atMs'))}"
    if kind != "cron":
        return str(kind)  # upstream's other triggers (on-exit, stream)
    return f"cron {schedule.get('expr')}" + (f" ({schedule['tz']})" if schedule.get("tz") else "")
