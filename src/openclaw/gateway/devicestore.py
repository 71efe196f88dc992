"""Devices this gateway knows: remote clients' device keys waiting for an operator's approval, and
those approved with the scopes they may have (`<state>/devices/{pending,paired}.json`).

Local devices need no approval (as upstream's). Held in memory; loaded before the port answers and
saved in a thread after every change, so a handshake never waits on a file.
"""

from __future__ import annotations

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
        self._lock = threading.Lock()  # saves come from worker threads

    def load(self) -> None:
        for name, into in (("pending", self.pending), ("paired", self.paired)):
            try:
                data = json.loads((self.dir / f"{name}.json").read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                into.update({k: v for k, v in data.items() if isinstance(v, dict)})
        self.expire()

    def save(self) -> None:
        with self._lock:
            ensure_private_dir(self.dir)
            atomic_write(self.dir / "pending.json", json.dumps(self.pending, indent=2) + "\n")
            atomic_write(self.dir / "paired.json", json.dumps(self.paired, indent=2) + "\n")

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
