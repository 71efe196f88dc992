"""Device pairing in upstream's global store: `device_pairing_pending` (device keys waiting for an
operator), `device_pairing_paired` (approved devices) and `device_auth_tokens` (a device's per-role
tokens), with upstream 2026.9.6's columns.

A row is upstream's record object spread over columns: camelCase keys, `*_json` columns JSON
(`roles` and `scopes` arrays of strings, `approvedScopes`, `tokens` keyed by role), 0/1 booleans,
absent keys NULL. Every column is carried through a load and a save, so what ours does not use (tokens,
node surfaces, labels) survives ours untouched. A save replaces the tables' rows with the snapshot in one
transaction, as upstream's does.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

DDL = """
CREATE TABLE IF NOT EXISTS device_pairing_pending (
  request_id TEXT NOT NULL PRIMARY KEY,
  device_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  display_name TEXT,
  platform TEXT,
  device_family TEXT,
  client_id TEXT,
  client_mode TEXT,
  browser_origin TEXT,
  role TEXT,
  roles_json TEXT,
  scopes_json TEXT,
  remote_ip TEXT,
  silent INTEGER,
  is_repair INTEGER,
  ts INTEGER NOT NULL,
  refreshed_at_ms INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS idx_device_pairing_pending_device
  ON device_pairing_pending(device_id, ts DESC);
CREATE TABLE IF NOT EXISTS device_pairing_paired (
  device_id TEXT NOT NULL PRIMARY KEY,
  public_key TEXT NOT NULL,
  display_name TEXT,
  operator_label TEXT,
  platform TEXT,
  device_family TEXT,
  client_id TEXT,
  client_mode TEXT,
  browser_origin TEXT,
  role TEXT,
  roles_json TEXT,
  scopes_json TEXT,
  approved_scopes_json TEXT,
  remote_ip TEXT,
  tokens_json TEXT,
  approved_via TEXT,
  node_surface_json TEXT,
  pending_node_surface_json TEXT,
  created_at_ms INTEGER NOT NULL,
  approved_at_ms INTEGER NOT NULL,
  last_seen_at_ms INTEGER,
  last_seen_reason TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS idx_device_pairing_paired_approved
  ON device_pairing_paired(approved_at_ms DESC, device_id);
CREATE TABLE IF NOT EXISTS device_auth_tokens (
  device_id TEXT NOT NULL,
  role TEXT NOT NULL,
  token TEXT NOT NULL,
  scopes_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (device_id, role)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_device_auth_tokens_updated
  ON device_auth_tokens(updated_at_ms DESC, device_id, role);
"""

# (column, record key, kind): kind "v" plain value, "j" JSON, "b" 0/1 boolean
_COMMON = [("public_key", "publicKey", "v"), ("display_name", "displayName", "v"), ("platform", "platform", "v"),
           ("device_family", "deviceFamily", "v"), ("client_id", "clientId", "v"), ("client_mode", "clientMode", "v"),
           ("browser_origin", "browserOrigin", "v"), ("role", "role", "v"), ("roles_json", "roles", "j"),
           ("scopes_json", "scopes", "j"), ("remote_ip", "remoteIp", "v")]
PENDING = [("request_id", "requestId", "v"), ("device_id", "deviceId", "v"), *_COMMON, ("silent", "silent", "b"),
           ("is_repair", "isRepair", "b"), ("ts", "ts", "v"), ("refreshed_at_ms", "refreshedAtMs", "v")]
PAIRED = [("device_id", "deviceId", "v"), *_COMMON, ("operator_label", "operatorLabel", "v"),
          ("approved_scopes_json", "approvedScopes", "j"), ("tokens_json", "tokens", "j"),
          ("approved_via", "approvedVia", "v"), ("node_surface_json", "nodeSurface", "j"),
          ("pending_node_surface_json", "pendingNodeSurface", "j"), ("created_at_ms", "createdAtMs", "v"),
          ("approved_at_ms", "approvedAtMs", "v"), ("last_seen_at_ms", "lastSeenAtMs", "v"),
          ("last_seen_reason", "lastSeenReason", "v")]
REQUIRED = {"request_id", "device_id", "public_key", "ts", "created_at_ms", "approved_at_ms"}


def _from_row(columns: list[tuple[str, str, str]], row: tuple[Any, ...]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for (_, name, kind), value in zip(columns, row, strict=True):
        if value is None:
            continue
        if kind == "j":
            try:
                value = json.loads(value)
            except ValueError:
                continue
        elif kind == "b":
            value = value != 0
        record[name] = value
    return record


def _to_row(columns: list[tuple[str, str, str]], record: dict[str, Any]) -> tuple[Any, ...] | None:
    out: list[Any] = []
    for column, name, kind in columns:
        value = record.get(name)
        if value is None and column in REQUIRED:
            return None  # upstream would refuse the row too
        if value is not None and kind == "j":
            value = json.dumps(value, separators=(",", ":"))
        elif value is not None and kind == "b":
            value = 1 if value else 0
        out.append(value)
    return tuple(out)


def _select(db: sqlite3.Connection, table: str, columns: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    names = ", ".join(c for c, _, _ in columns)
    return [_from_row(columns, row) for row in db.execute(f"SELECT {names} FROM {table}")]


def load(db: sqlite3.Connection) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(pending by request id, paired by device id), as upstream's records."""
    pending = {r["requestId"]: r for r in _select(db, "device_pairing_pending", PENDING)}
    paired = {r["deviceId"]: r for r in _select(db, "device_pairing_paired", PAIRED)}
    return pending, paired


def _insert(db: sqlite3.Connection, table: str, columns: list[tuple[str, str, str]],
            records: list[dict[str, Any]]) -> None:
    names = ", ".join(c for c, _, _ in columns)
    marks = ", ".join("?" for _ in columns)
    rows = [row for row in (_to_row(columns, r) for r in records) if row is not None]
    db.executemany(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", rows)


def save(db: sqlite3.Connection, pending: list[dict[str, Any]], paired: list[dict[str, Any]]) -> None:
    """Replace both tables with the snapshot (the caller holds the transaction); a device no longer paired
    loses its tokens too."""
    db.execute("DELETE FROM device_pairing_pending")
    _insert(db, "device_pairing_pending", PENDING, pending)
    db.execute("DELETE FROM device_pairing_paired")
    _insert(db, "device_pairing_paired", PAIRED, paired)
    db.execute("DELETE FROM device_auth_tokens WHERE device_id NOT IN (SELECT device_id FROM device_pairing_paired)")
