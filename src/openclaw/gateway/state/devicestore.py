"""Devices this gateway knows: remote clients' device keys waiting for an operator's approval, and
those approved with the scopes they may have (`<state>/devices/{pending,paired}.json`).

Local devices need no approval (as upstream's). Held in memory; loaded before the port answers.
Every change is written in a thread: a handshake's pending request in the background (it never waits
on a file), an operator's approve/reject/remove before its answer (`persist`). Each write takes a
snapshot on the event loop, so a later change is never overwritten by an earlier write that ends last.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from openclaw.fsutil import atomic_write, ensure_private_dir

MAX_PENDING = 64
PENDING_TTL_MS = 3_600_000


def _now() -> int:
    return int(time.time() * 1000)


class DeviceStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "devices"
        self.pending: dict[str, dict[str, Any]] = {}  # requestId -> request
        self.paired: dict[str, dict[str, Any]] = {}  # deviceId -> device
        self._lock = threading.Lock()  # writes come from worker threads
        self._taken = 0  # snapshots taken (on the loop)
        self._written = 0  # the newest snapshot on disk

    def load(self) -> None:
        for name, into in (("pending", self.pending), ("paired", self.paired)):
            try:
                data = json.loads((self.dir / f"{name}.json").read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                into.update({k: v for k, v in data.items() if isinstance(v, dict)})
        self.expire()

    async def persist(self) -> None:
        """Write the store as it is now, in a thread; returns once it is on disk (OSError if it cannot be)."""
        await asyncio.to_thread(self._write, *self._snapshot())

    def _snapshot(self) -> tuple[int, str, str]:
        self._taken += 1
        return (self._taken, json.dumps(self.pending, indent=2) + "\n", json.dumps(self.paired, indent=2) + "\n")

    def _write(self, version: int, pending: str, paired: str) -> None:
        with self._lock:
            if version <= self._written:
                return  # a newer snapshot is already on disk
            ensure_private_dir(self.dir)
            atomic_write(self.dir / "pending.json", pending)
            atomic_write(self.dir / "paired.json", paired)
            self._written = version

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
        return list(device.get("scopes") or [])

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
        existing.update(publicKey=device.get("publicKey"), role=params.get("role") or "operator",
                        scopes=list(dict.fromkeys(params.get("scopes") or [])), clientId=client.get("id"),
                        clientMode=client.get("mode"), platform=client.get("platform"),
                        displayName=client.get("displayName"), remoteIp=remote, ts=_now())
        return existing

    # -- operators' answers --------------------------------------------------------------------
    def approve(self, request_id: str) -> dict[str, Any] | None:
        request = self.pending.pop(request_id, None)
        if request is None:
            return None
        device = {k: request.get(k) for k in ("deviceId", "publicKey", "role", "scopes", "clientId", "clientMode",
                                                "platform", "displayName", "remoteIp")}
        device.update(approvedAtMs=_now(), createdAtMs=self.paired.get(request["deviceId"], {}).get("createdAtMs",
                                                                                                   _now()))
        self.paired[request["deviceId"]] = device
        return device

    def reject(self, request_id: str) -> dict[str, Any] | None:
        return self.pending.pop(request_id, None)

    def remove(self, device_id: str) -> dict[str, Any] | None:
        return self.paired.pop(device_id, None)
