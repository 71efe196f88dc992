"""Channel DM pairing in upstream's global store: `channel_pairing_requests` (pending senders and their
codes) and `channel_pairing_allow_entries` (approved senders), rows and JSON exactly as upstream 2026.9.6
reads and writes them, so a sender approved or waiting under either implementation stays so.

A request row is upstream's request object spread over columns: `request_id` is the sender id,
`created_at`/`last_seen_at` ISO text, `meta_json` an object of strings (`accountId` among them).
Keys are lower-cased, as upstream's; `*` is never an allow entry.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

DDL = """
CREATE TABLE IF NOT EXISTS channel_pairing_requests (
  channel_key TEXT NOT NULL,
  account_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  code TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  meta_json TEXT,
  PRIMARY KEY (channel_key, account_id, request_id)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_channel_pairing_requests_code
  ON channel_pairing_requests(channel_key, code);
CREATE INDEX IF NOT EXISTS idx_channel_pairing_requests_created
  ON channel_pairing_requests(channel_key, created_at, request_id);
CREATE TABLE IF NOT EXISTS channel_pairing_allow_entries (
  channel_key TEXT NOT NULL,
  account_id TEXT NOT NULL,
  entry TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel_key, account_id, entry)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_channel_pairing_allow_account
  ON channel_pairing_allow_entries(channel_key, account_id, sort_order, entry);
"""


def key(value: str) -> str:
    """A channel or account key as upstream stores it: lower-case, no path characters."""
    text = value.strip().lower()
    for ch in '\\/:*?"<>|':
        text = text.replace(ch, "_")
    return text.replace("..", "_") or "default"


@dataclass(frozen=True)
class Row:
    """One pending request as stored: `sender` is upstream's request `id`."""

    account: str
    sender: str
    code: str
    created_at: str
    last_seen_at: str
    meta: dict[str, str]


def clean_meta(meta: Any) -> dict[str, str]:
    """Upstream keeps only non-empty string values in a request's meta."""
    if not isinstance(meta, dict):
        return {}
    return {str(k): v.strip() for k, v in meta.items() if isinstance(v, str) and v.strip()}


def requests(db: sqlite3.Connection, channel: str) -> list[Row]:
    rows = db.execute(
        "SELECT account_id, request_id, code, created_at, last_seen_at, meta_json FROM channel_pairing_requests"
        " WHERE channel_key = ? ORDER BY created_at, account_id, request_id", (key(channel),)).fetchall()
    out = []
    for account, sender, code, created, seen, meta_json in rows:
        try:
            meta = clean_meta(json.loads(meta_json)) if meta_json else {}
        except ValueError:
            meta = {}
        meta["accountId"] = account
        out.append(Row(account, sender, code, created, seen or created, meta))
    return out


def channels(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT channel_key FROM channel_pairing_requests ORDER BY 1")]


def put_request(db: sqlite3.Connection, channel: str, row: Row) -> None:
    meta = {**clean_meta(row.meta), "accountId": key(row.account)}
    db.execute(
        "INSERT INTO channel_pairing_requests (channel_key, account_id, request_id, code, created_at, last_seen_at,"
        " meta_json) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_key, account_id, request_id) DO UPDATE SET"
        " code = excluded.code, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,"
        " meta_json = excluded.meta_json",
        (key(channel), key(row.account), row.sender, row.code, row.created_at, row.last_seen_at,
         json.dumps(meta, separators=(",", ":"))))


def drop_request(db: sqlite3.Connection, channel: str, account: str, sender: str) -> None:
    db.execute("DELETE FROM channel_pairing_requests WHERE channel_key = ? AND account_id = ? AND request_id = ?",
               (key(channel), key(account), sender))


def allowed(db: sqlite3.Connection, channel: str, account: str) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT entry FROM channel_pairing_allow_entries WHERE channel_key = ? AND account_id = ?"
        " ORDER BY sort_order, entry", (key(channel), key(account)))]


def add_allowed(db: sqlite3.Connection, channel: str, account: str, entries: list[str]) -> int:
    """Append entries not yet allowed, after the existing ones; returns how many were new."""
    have = allowed(db, channel, account)
    fresh = [e for e in dict.fromkeys(x.strip() for x in entries) if e and e != "*" and e not in have]
    now = int(time.time() * 1000)
    for order, entry in enumerate(fresh, start=len(have)):
        db.execute("INSERT INTO channel_pairing_allow_entries (channel_key, account_id, entry, sort_order, updated_at)"
                   " VALUES (?, ?, ?, ?, ?)", (key(channel), key(account), entry, order, now))
    return len(fresh)

