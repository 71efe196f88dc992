"""Pairing state in the former file layout, imported into the global store once: `credentials/<channel>-
pairing.json` (`{"version":1,"requests":[{id,code,createdAt,lastSeenAt,meta}]}`) and
`credentials/<channel>[-<account>]-allowFrom.json` (`{"version":1,"allowFrom":[...]}`), written by ours
before, or by an upstream older than its SQLite store. Each file is imported in the same transaction as its
`migration_sources` record, then renamed `.migrated` (upstream's doctor deletes them instead)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from openclaw import logfile
from openclaw.stores import legacy
from openclaw.stores import pairing as sql
from openclaw.stores.globaldb import immediate
from openclaw.stores.sqlitefile import SqliteFile

_done: set[Path] = set()
_lock = threading.Lock()


def import_once(db: sqlite3.Connection, store: SqliteFile, credentials: Path) -> None:
    """Import the directory's former files the first time this process touches its pairing tables."""
    key = credentials.resolve()
    with _lock:
        if key in _done:
            return
        _done.add(key)
    store.ensure(db, "migration-ledger", legacy.DDL)
    for path in sorted(credentials.glob("*-pairing.json")) + sorted(credentials.glob("*-allowFrom.json")):
        try:
            _import(db, path)
        except (OSError, ValueError, sqlite3.Error) as exc:
            logfile.warn(f"pairing file {path} not imported: {exc}", subsystem="pairing")


def _read(path: Path) -> tuple[bytes, dict[str, Any]]:
    data = path.read_bytes()
    parsed = json.loads(data) if data.strip() else {}
    return data, parsed if isinstance(parsed, dict) else {}


def _import(db: sqlite3.Connection, path: Path) -> None:
    data, parsed = _read(path)
    with immediate(db):
        if path.name.endswith("-pairing.json"):
            channel = path.name.removesuffix("-pairing.json")
            count = _import_requests(db, channel, parsed.get("requests"))
            legacy.record(db, "channel-pairing-requests", path, data, "channel_pairing_requests", count)
        else:
            channel, _, account = path.name.removesuffix("-allowFrom.json").partition("-")
            entries = [str(x) for x in parsed.get("allowFrom") or [] if isinstance(x, str | int)]
            count = sql.add_allowed(db, channel, account or "default", entries)
            legacy.record(db, "channel-pairing-allow-from", path, data, "channel_pairing_allow_entries", count)
    target = legacy.archive(path)
    logfile.info(f"imported {path.name} into the state database ({count} entries); kept as {target.name}",
                 subsystem="pairing")


def _import_requests(db: sqlite3.Connection, channel: str, raw: Any) -> int:
    have = {(r.account, r.sender) for r in sql.requests(db, channel)}
    count = 0
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id") or not item.get("code") or not item.get("createdAt"):
            continue
        meta = sql.clean_meta(item.get("meta"))
        account = sql.key(meta.get("accountId", "default"))
        if (account, str(item["id"])) in have:
            continue  # the store's own is newer
        sql.put_request(db, channel, sql.Row(account, str(item["id"]), str(item["code"]), str(item["createdAt"]),
                                             str(item.get("lastSeenAt") or item["createdAt"]), meta))
        count += 1
    return count
