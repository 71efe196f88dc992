"""Reading upstream's global store `state/openclaw.sqlite` in tests, as upstream would find it."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def opened(state_dir: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{state_dir / 'state' / 'openclaw.sqlite'}?mode=ro", uri=True, timeout=10)
    try:
        yield db
    finally:
        db.close()


def rows(state_dir: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if not (state_dir / "state" / "openclaw.sqlite").exists():
        return []
    with opened(state_dir) as db:
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def allow_entries(state_dir: Path, channel: str = "telegram", account: str = "default") -> list[str]:
    return [r[0] for r in rows(state_dir, "SELECT entry FROM channel_pairing_allow_entries WHERE channel_key = ?"
                               " AND account_id = ? ORDER BY sort_order", channel, account)]


def pairing_requests(state_dir: Path, channel: str = "telegram") -> list[dict[str, Any]]:
    found = rows(state_dir, "SELECT account_id, request_id, code, created_at, last_seen_at, meta_json"
                            " FROM channel_pairing_requests WHERE channel_key = ? ORDER BY created_at", channel)
    return [{"accountId": a, "id": i, "code": c, "createdAt": t, "lastSeenAt": s, "meta": json.loads(m or "null")}
            for a, i, c, t, s, m in found]


def telegram_offset(state_dir: Path, account: str = "default") -> dict[str, Any] | None:
    found = rows(state_dir, "SELECT value_json FROM plugin_state_entries WHERE plugin_id = 'telegram'"
                            " AND namespace = 'telegram.update-offsets' AND entry_key = ?", account)
    return json.loads(found[0][0]) if found else None


def devices(state_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(pending by request id, paired by device id), each row as a dict of its columns."""
    with opened(state_dir) as db:
        db.row_factory = sqlite3.Row
        pending = {r["request_id"]: dict(r) for r in db.execute("SELECT * FROM device_pairing_pending")}
        paired = {r["device_id"]: dict(r) for r in db.execute("SELECT * FROM device_pairing_paired")}
    return pending, paired


def lease(state_dir: Path) -> dict[str, Any] | None:
    found = rows(state_dir, "SELECT owner, expires_at, payload_json FROM state_leases"
                            " WHERE scope = 'gateway-owner' AND lease_key = 'global'")
    return {"owner": found[0][0], "expiresAt": found[0][1], "payload": json.loads(found[0][2] or "null")} \
        if found else None
