"""Devices this gateway knows: remote clients' device keys waiting for an operator's approval, and
those approved with the scopes they may have, kept where upstream 2026.9.6 keeps them
(`device_pairing_pending` / `device_pairing_paired` in `<state>/state/openclaw.sqlite`, as upstream's
records: see `openclaw.stores.devices`), so a device paired under either implementation stays paired.

Local devices need no approval (as upstream's). Held in memory; loaded before the port answers.
Every change is saved on the store's own thread: a handshake's pending request in the background (it never
waits on the file), an operator's approve/reject/remove before its answer (`persist`). Each save is a
snapshot taken on the event loop and queued in order on that one thread, so a later change is never
overwritten by an earlier one. The former `devices/{pending,paired}.json` are imported once, then `.migrated`.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from openclaw import logfile
from openclaw.stores import devices as sql
from openclaw.stores import legacy
from openclaw.stores.globaldb import global_db, immediate

MAX_PENDING = 64
PENDING_TTL_MS = 3_600_000
Records = dict[str, dict[str, Any]]


def _now() -> int:
    return int(time.time() * 1000)


class DeviceStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "devices"  # the former JSON files
        self.db = global_db(state_dir)
        self.pending: Records = {}  # requestId -> request
        self.paired: Records = {}  # deviceId -> device

    def load(self) -> None:
        """Read the tables (importing the former files first); from a thread, never the loop."""
        pending, paired = self.db.call(self._load)
        self.pending.update(pending)
        self.paired.update(paired)
        self.expire()

    def _load(self, db: sqlite3.Connection) -> tuple[Records, Records]:
        self.db.ensure(db, "devices", sql.DDL)
        self._import_files(db)
        return sql.load(db)

    def _import_files(self, db: sqlite3.Connection) -> None:
        files = [p for p in (self.dir / "pending.json", self.dir / "paired.json") if p.exists()]
        if not files:
            return
        self.db.ensure(db, "migration-ledger", legacy.DDL)
        with immediate(db):
            pending, paired = sql.load(db)
            for path in files:
                data = path.read_bytes()
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = {}
                records = {k: v for k, v in parsed.items() if isinstance(v, dict)} if isinstance(parsed, dict) else {}
                into = pending if path.name == "pending.json" else paired
                fresh = {k: _upstream_shape(v) for k, v in records.items() if k not in into}
                into.update(fresh)
                table = "device_pairing_pending" if into is pending else "device_pairing_paired"
                legacy.record(db, "device-pairing-json", path, data, table, len(fresh))
            sql.save(db, list(pending.values()), list(paired.values()))
        for path in files:
            target = legacy.archive(path)
            logfile.info(f"imported {path} into the state database; kept as {target.name}", subsystem="devices")

    async def persist(self) -> None:
        """Save the store as it is now; returns once it is committed (sqlite3.Error or OSError if it cannot be)."""
        pending, paired = copy.deepcopy(list(self.pending.values())), copy.deepcopy(list(self.paired.values()))

        def save(db: sqlite3.Connection) -> None:
            self.db.ensure(db, "devices", sql.DDL)
            with immediate(db):
                sql.save(db, pending, paired)

        try:
            await self.db.run(save)
        except sqlite3.Error as exc:
            raise OSError(f"state database: {exc}") from exc

    def expire(self) -> None:
        cutoff = _now() - PENDING_TTL_MS
        for request_id in [k for k, r in self.pending.items() if r.get("ts", 0) < cutoff]:
            del self.pending[request_id]

    # -- the handshake's questions -------------------------------------------------------------
    def approved_scopes(self, device_id: str, public_key: str) -> list[str] | None:
        device = self.paired.get(device_id)
        if device is None or device.get("publicKey") != public_key:
            return None
        device["lastSeenAtMs"] = _now()
        approved = device.get("approvedScopes")
        return list(approved if isinstance(approved, list) else device.get("scopes") or [])

    def request(self, device: dict[str, Any], params: dict[str, Any], remote: str) -> dict[str, Any]:
        """The device's pending request (one per device), made or refreshed."""
        self.expire()
        client = params.get("client") or {}
        existing = next((r for r in self.pending.values() if r["deviceId"] == device["id"]), None)
        if existing is None:
            while len(self.pending) >= MAX_PENDING:
                del self.pending[min(self.pending, key=lambda k: self.pending[k]["ts"])]
            existing = {"requestId": str(uuid.uuid4()), "deviceId": device["id"]}
            self.pending[existing["requestId"]] = existing
        role = params.get("role") or "operator"
        existing.update(publicKey=device.get("publicKey"), role=role, roles=[role],
                        scopes=list(dict.fromkeys(params.get("scopes") or [])), clientId=client.get("id"),
                        clientMode=client.get("mode"), platform=client.get("platform"),
                        displayName=client.get("displayName"), remoteIp=remote, ts=_now())
        return existing

    # -- operators' answers --------------------------------------------------------------------
    def approve(self, request_id: str) -> dict[str, Any] | None:
        request = self.pending.pop(request_id, None)
        if request is None:
            return None
        before = self.paired.get(request["deviceId"], {})
        kept = before if before.get("publicKey") == request.get("publicKey") else {}  # a new key: old tokens go
        device = {**kept, **{k: request[k] for k in ("deviceId", "publicKey", "role", "roles", "scopes", "clientId",
                                                      "clientMode", "platform", "displayName", "remoteIp")
                               if request.get(k) is not None}}
        now = _now()  # one reading: a first pairing is created and approved at the same instant
        device.update(approvedScopes=list(request.get("scopes") or []), approvedAtMs=now,
                      createdAtMs=before.get("createdAtMs", now))
        self.paired[request["deviceId"]] = device
        return device

    def reject(self, request_id: str) -> dict[str, Any] | None:
        return self.pending.pop(request_id, None)

    def remove(self, device_id: str) -> dict[str, Any] | None:
        return self.paired.pop(device_id, None)


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """A record as clients may see it: each role's token summarised, its secret left out."""
    out = dict(record)
    tokens = out.pop("tokens", None)
    if isinstance(tokens, dict):
        out["tokens"] = [{k: v for k, v in t.items() if k != "token"} for t in tokens.values() if isinstance(t, dict)]
    return out


def _upstream_shape(record: dict[str, Any]) -> dict[str, Any]:
    """A record of the former files as upstream's: `roles` from `role`, the approved `scopes` as
    `approvedScopes` too."""
    out = dict(record)
    if out.get("role") and "roles" not in out:
        out["roles"] = [out["role"]]
    if "approvedAtMs" in out and "approvedScopes" not in out and isinstance(out.get("scopes"), list):
        out["approvedScopes"] = list(out["scopes"])
    return out
