"""The gateway-owner lease in upstream's global store (`state_leases`, scope `gateway-owner`, key
`global`): while a gateway of either implementation runs on a state dir it holds this row, so upstream's
and ours never serve, and write, the same state at once.

Upstream's row carries `payload_json {"owner":{"pid","host","startedAt"},"port","mode","supervisor"}`,
`startedAt` being the process's start time in clock ticks (field 22 of `/proc/<pid>/stat`). A holder is
gone when it is on this host and its pid is dead or was reused (another start time); upstream reclaims our
row by the same rule. Ours holds the row without expiry (`expires_at` NULL) until it stops, so it needs no
heartbeat; upstream's expires 5 minutes after its last heartbeat.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

DDL = """
CREATE TABLE IF NOT EXISTS state_leases (
  scope TEXT NOT NULL,
  lease_key TEXT NOT NULL,
  owner TEXT NOT NULL,
  expires_at INTEGER,
  heartbeat_at INTEGER,
  payload_json TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, lease_key)
) STRICT;
CREATE INDEX IF NOT EXISTS idx_state_leases_expiry
  ON state_leases(expires_at, scope, lease_key)
  WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_state_leases_owner
  ON state_leases(owner, updated_at DESC);
"""

SCOPE, KEY = "gateway-owner", "global"


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, as upstream records it; None if unreadable."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii").read()  # noqa: SIM115 - one read
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Holder:
    owner: str
    pid: int | None
    host: str | None
    port: int | None

    def describe(self) -> str:
        where = f"pid {self.pid}" if self.pid else "an unknown process"
        if self.host and self.host != socket.gethostname():
            where += f" on {self.host}"
        return where + (f", port {self.port}" if self.port else "")


def _holder(owner: str, payload_json: str | None) -> tuple[Holder, dict[str, Any]]:
    try:
        payload = json.loads(payload_json) if payload_json else {}
    except ValueError:
        payload = {}
    who = payload.get("owner") if isinstance(payload, dict) else None
    who = who if isinstance(who, dict) else {}
    pid = who.get("pid") if isinstance(who.get("pid"), int) else None
    port = payload.get("port") if isinstance(payload, dict) and isinstance(payload.get("port"), int) else None
    host = who.get("host") if isinstance(who.get("host"), str) else None
    return Holder(owner, pid, host, port), who


def _gone(holder: Holder, who: dict[str, Any]) -> bool:
    """Upstream's rule: dead only when on this host and the pid is dead or now another process."""
    if holder.pid is None or holder.pid <= 0 or holder.host != socket.gethostname():
        return False
    if not _alive(holder.pid):
        return True
    recorded = who.get("startedAt")
    current = start_ticks(holder.pid)
    return isinstance(recorded, int) and current is not None and current != recorded


def acquire(db: sqlite3.Connection, port: int, mode: str = "foreground") -> tuple[str | None, Holder | None]:
    """Take the lease (the caller holds the write transaction): (our owner id, None), or (None, the live
    holder). An expired row or one whose process is gone is replaced."""
    now = int(time.time() * 1000)
    row = db.execute("SELECT owner, expires_at, payload_json FROM state_leases WHERE scope = ? AND lease_key = ?",
                     (SCOPE, KEY)).fetchone()
    if row is not None:
        holder, who = _holder(row[0], row[2])
        expired = row[1] is not None and row[1] <= now
        if not expired and not _gone(holder, who):
            return None, holder
        db.execute("DELETE FROM state_leases WHERE scope = ? AND lease_key = ?", (SCOPE, KEY))
    owner = str(uuid.uuid4())
    payload = {"owner": {"pid": os.getpid(), "host": socket.gethostname(), "startedAt": start_ticks(os.getpid())},
               "port": port, "mode": mode, "supervisor": None}
    db.execute("INSERT INTO state_leases (scope, lease_key, owner, expires_at, heartbeat_at, payload_json, created_at,"
               " updated_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
               (SCOPE, KEY, owner, now, json.dumps(payload, separators=(",", ":")), now, now))
    return owner, None


def update_port(db: sqlite3.Connection, owner: str, port: int) -> None:
    row = db.execute("SELECT payload_json FROM state_leases WHERE scope = ? AND lease_key = ? AND owner = ?",
                     (SCOPE, KEY, owner)).fetchone()
    if row is None:
        return
    payload = json.loads(row[0]) if row[0] else {}
    payload["port"] = port
    db.execute("UPDATE state_leases SET payload_json = ?, updated_at = ? WHERE scope = ? AND lease_key = ? AND"
               " owner = ?", (json.dumps(payload, separators=(",", ":")), int(time.time() * 1000), SCOPE, KEY, owner))


def release(db: sqlite3.Connection, owner: str) -> None:
    db.execute("DELETE FROM state_leases WHERE scope = ? AND lease_key = ? AND owner = ?", (SCOPE, KEY, owner))
