"""Channel plugins' keyed state in upstream's global store (`plugin_state_entries`): here the Telegram
update offset, kept where upstream 2026.9.6 keeps it so neither implementation answers an update the
other already handled.

Upstream's row: plugin `telegram`, namespace `telegram.update-offsets`, key the account id (anything
outside `[a-z0-9._-]` replaced by `_`), value `{"version":3,"lastUpdateId":N,"botId":"<digits before
the token's colon>","tokenFingerprint":"<first 16 hex of sha256(token)>"}`. Upstream ignores a stored
offset whose bot id or fingerprint does not match its token (a rotated token starts afresh); so does ours.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from typing import Any

DDL = """
CREATE TABLE IF NOT EXISTS plugin_state_entries (
  plugin_id TEXT NOT NULL,
  namespace TEXT NOT NULL,
  entry_key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (plugin_id, namespace, entry_key)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_plugin_state_expiry
  ON plugin_state_entries(expires_at)
  WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_plugin_state_listing
  ON plugin_state_entries(plugin_id, namespace, created_at, entry_key, expires_at);
"""

TELEGRAM = "telegram"
OFFSETS = "telegram.update-offsets"
OFFSET_VERSION = 3


def account_key(account: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "_", account.strip(), flags=re.IGNORECASE) or "default"


def bot_id(token: str) -> str | None:
    head = token.strip().split(":", 1)[0]
    return str(int(head)) if head.isdigit() and int(head) > 0 else None


def fingerprint(token: str) -> str | None:
    token = token.strip()
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None


def offset_value(update_id: int, token: str) -> dict[str, Any]:
    return {"version": OFFSET_VERSION, "lastUpdateId": update_id, "botId": bot_id(token),
            "tokenFingerprint": fingerprint(token)}


def usable_offset(value: Any, token: str) -> int | None:
    """The stored last update id, if it belongs to this token (upstream's versions 1-3 understood)."""
    if not isinstance(value, dict) or value.get("version") not in (1, 2, OFFSET_VERSION):
        return None
    last = value.get("lastUpdateId")
    if not isinstance(last, int) or isinstance(last, bool) or last < 0:
        return None
    current = bot_id(token)
    if current is None:
        return last
    if value["version"] < 2 or value.get("botId") != current:
        return None  # upstream: "legacy-state" or "bot-id-changed"; start from Telegram's own offset
    if value["version"] < OFFSET_VERSION or value.get("tokenFingerprint") != fingerprint(token):
        return None  # "token-rotated"
    return last


def read_entry(db: sqlite3.Connection, plugin: str, namespace: str, entry: str) -> Any:
    row = db.execute("SELECT value_json FROM plugin_state_entries WHERE plugin_id = ? AND namespace = ?"
                     " AND entry_key = ? AND (expires_at IS NULL OR expires_at > ?)",
                     (plugin, namespace, entry, int(time.time() * 1000))).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def write_entry(db: sqlite3.Connection, plugin: str, namespace: str, entry: str, value: Any) -> None:
    """One statement, so atomic on its own; `created_at` is kept from the first write, as upstream's."""
    db.execute("INSERT INTO plugin_state_entries (plugin_id, namespace, entry_key, value_json, created_at, expires_at)"
               " VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (plugin_id, namespace, entry_key) DO UPDATE SET"
               " value_json = excluded.value_json, expires_at = NULL",
               (plugin, namespace, entry, json.dumps(value, separators=(",", ":")), int(time.time() * 1000)))
