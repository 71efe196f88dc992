"""The gateway's ownership locks: one per state dir (always) and one per config file, then upstream's
gateway-owner lease in the state database.

Each lock is an OS advisory lock on a JSON owner record. The kernel drops the
lock when its process dies, so a `kill -9` never blocks the next start; the
record (pid + start marker) lets us also recognize a live foreign owner.
Upstream's gateway takes none of these files but holds the `state_leases` row
(`openclaw.stores.leases`), so ours takes that row too: neither starts while
the other serves the same state dir.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from typing import Any

from openclaw import logfile
from openclaw.errors import GatewayLockError
from openclaw.fsutil import FileLock, ensure_private_dir
from openclaw.gateway.limits import LOCK_TIMEOUT_S
from openclaw.procutil import self_marker
from openclaw.profiles.lockfiles import config_lock_path, live_foreign_owner, read_owner, state_lock_path
from openclaw.profiles.paths import InstancePaths, runtime_dir
from openclaw.stores import leases
from openclaw.stores.globaldb import global_db, immediate
from openclaw.timestamps import utc_iso


class GatewayLocks:
    def __init__(self, paths: InstancePaths, port: int, multi_gateway: bool = False) -> None:
        self.paths = paths
        self.port = port
        self.owner_id = str(uuid.uuid4())
        self.locks: list[FileLock] = [FileLock(state_lock_path(paths))]
        if not multi_gateway:
            self.locks.append(FileLock(config_lock_path(paths.config_path)))
        self.lease: str | None = None  # our owner id in `state_leases` while held

    def record(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "ownerId": self.owner_id,
            "createdAt": utc_iso(),
            "configPath": str(self.paths.config_path),
            "stateDir": str(self.paths.state_dir),
            "port": self.port,
            "startMarker": self_marker(),
            "role": "gateway",
        }

    def acquire(self, timeout: float = LOCK_TIMEOUT_S) -> None:
        ensure_private_dir(self.paths.lock_dir)
        ensure_private_dir(runtime_dir() / "locks")
        started = time.monotonic()
        for lock in self.locks:
            remaining = max(0.0, timeout - (time.monotonic() - started))
            if not self._acquire_one(lock, remaining):
                self.release()
                owner = read_owner(lock.path) or {}
                pid = owner.get("pid", "unknown")
                waited = round((time.monotonic() - started) * 1000)
                if owner.get("role") not in (None, "gateway"):
                    raise GatewayLockError(f"`openclaw {owner['role']}` (pid {pid}) is using this state dir; "
                                           f"lock timeout after {waited}ms")
                raise GatewayLockError(f"gateway already running (pid {pid}); lock timeout after {waited}ms")
            lock.write(json.dumps(self.record(), indent=2) + "\n")
        try:
            self._take_lease()
        except BaseException:
            self.release()
            raise

    def _take_lease(self) -> None:
        """Upstream's gateway-owner row; GatewayLockError while a live gateway of either kind holds it."""
        store = global_db(self.paths.state_dir)

        def take(db: sqlite3.Connection) -> tuple[str | None, leases.Holder | None]:
            store.ensure(db, "state-leases", leases.DDL)
            with immediate(db):
                return leases.acquire(db, self.port)

        self.lease, holder = store.call(take)
        if holder is not None:
            raise GatewayLockError(f"another OpenClaw gateway ({holder.describe()}) owns this state dir "
                                   f"({store.path}, lease gateway-owner); stop it first")

    def _release_lease(self) -> None:
        owner, self.lease = self.lease, None
        if owner is not None:
            store = global_db(self.paths.state_dir)
            try:
                store.call(lambda db: leases.release(db, owner))
            except sqlite3.Error as exc:  # the row names this process: the next start reclaims it
                logfile.warn(f"gateway-owner lease not released: {exc}")

    def _acquire_one(self, lock: FileLock, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if lock.try_acquire():
                if not live_foreign_owner(read_owner(lock.path)):
                    return True
                lock.release(remove=False)
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def update_port(self, port: int) -> None:
        self.port = port
        for lock in self.locks:
            if lock.fd is not None:
                lock.write(json.dumps(self.record(), indent=2) + "\n")

    def release(self) -> None:
        self._release_lease()
        for lock in reversed(self.locks):
            lock.release(remove=True)
