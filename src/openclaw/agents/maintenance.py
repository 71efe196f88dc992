"""Session maintenance (`session.maintenance`): keep each agent's session store bounded.

Sessions idle longer than `pruneAfter` (default 30d) go, then the oldest beyond
`maxEntries` (default 500), with the transcripts of earlier resets. `mode: warn`
only logs what would go. A session with a run in progress is never pruned. The
runtime runs this at most once per `INTERVAL_S` per agent, after a turn, off the
turn's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openclaw import logfile
from openclaw.agents.sessions import SessionStore
from openclaw.config.view import Config

INTERVAL_S = 3600.0
DEFAULT_PRUNE_AFTER = "30d"
DEFAULT_MAX_ENTRIES = 500
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)


def duration_ms(text: str | int | float) -> int:
    """`30d`, `12h`, `90m`, `45s`, `500ms`, or a bare number of milliseconds."""
    if isinstance(text, (int, float)):
        return int(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 90m)")
    return int(float(match.group(1)) * _UNITS_MS[(match.group(2) or "ms").lower()])


@dataclass(frozen=True)
class Policy:
    enforce: bool
    prune_after_ms: int | None
    max_entries: int | None


def policy(config: Config) -> Policy:
    section = config.session.maintenance
    after = section.get("pruneAfter", DEFAULT_PRUNE_AFTER)
    try:
        after_ms = duration_ms(after) if after not in (None, "", 0) else None
    except ValueError:
        after_ms = duration_ms(DEFAULT_PRUNE_AFTER)
    cap = section.get("maxEntries", DEFAULT_MAX_ENTRIES)
    return Policy(section.get("mode", "enforce") != "warn", after_ms, cap if isinstance(cap, int) and cap > 0 else None)


async def maintain(store: SessionStore, config: Config, busy: frozenset[str], agent_id: str) -> list[str]:
    """Apply the policy to one agent's store; the keys pruned (or, in warn mode, that would be)."""
    rule = policy(config)
    keys = await store.prune(rule.prune_after_ms, rule.max_entries, keep=busy, dry_run=not rule.enforce)
    if keys:
        verb = "pruned" if rule.enforce else "would prune (session.maintenance.mode is warn)"
        logfile.info(f"{verb} {len(keys)} session(s) of agent {agent_id}", subsystem="sessions")
    return keys
