"""DM pairing and allow lists, kept where upstream 2026.9.6 keeps them: `channel_pairing_requests` and
`channel_pairing_allow_entries` in `<state>/state/openclaw.sqlite` (SQL in `openclaw.stores.pairing`).

A pending request has an 8-character code, valid one hour, at most 3 per account; approving it moves the
sender to the account's allow list. `credentials/owners.json` (ours alone) remembers the first approved
sender of each channel as its owner. Every change is one transaction; callers run in threads or the CLI.
Credential JSON files of the former layout are imported on first use and set aside
(`channels/pairing_legacy.py`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from openclaw.channels.pairing_legacy import import_once
from openclaw.errors import OpenClawError
from openclaw.fsutil import atomic_write, ensure_private_dir, locked
from openclaw.stores import pairing as sql
from openclaw.stores.globaldb import global_db, immediate
from openclaw.timestamps import parse_utc_iso, utc_iso

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I
CODE_LENGTH = 8
TTL_S = 3600
MAX_PENDING = 3
T = TypeVar("T")


def normalize_sender(value: Any) -> str:
    text = str(value).strip()
    for prefix in ("telegram:", "tg:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return text


def iso_ms(ts: float) -> str:
    """Upstream's timestamp text: `2026-12-02T05:22:35.452Z`."""
    return utc_iso(ts, timespec="milliseconds")


@dataclass(frozen=True)
class PairingRequest:
    channel: str
    account: str
    sender: str
    code: str
    created_at: float
    last_seen_at: float
    meta: dict[str, Any]
    created_text: str = ""  # the stored `createdAt`, which the request id is made from

    @property
    def request_id(self) -> str:
        """Upstream's stable opaque id for operators' UIs (the code stays between the sender and the owner)."""
        created = self.created_text or iso_ms(self.created_at)
        raw = f"{self.channel}\0{self.account}\0{self.sender}\0{created}".encode()
        return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")[:32]

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "accountId": self.account, "senderId": self.sender, "code": self.code,
                "createdAt": self.created_text or iso_ms(self.created_at),
                "expiresAt": iso_ms(self.created_at + TTL_S), "meta": self.meta}


def _to_request(channel: str, row: sql.Row) -> PairingRequest:
    return PairingRequest(channel, row.account, row.sender, row.code, parse_utc_iso(row.created_at),
                          parse_utc_iso(row.last_seen_at), dict(row.meta), row.created_at)


class PairingStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "credentials"
        self.db = global_db(state_dir)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` on the store's thread, the tables there and the former files imported first."""
        def run(db: sqlite3.Connection) -> T:
            self.db.ensure(db, "channel-pairing", sql.DDL)
            import_once(db, self.db, self.dir)
            return fn(db)

        return self.db.call(run)

    # -- requests -----------------------------------------------------------------------------
    def _live(self, db: sqlite3.Connection, channel: str, now: float) -> list[sql.Row]:
        """Pending requests still within their hour; expired ones are dropped (in the caller's transaction)."""
        rows = sql.requests(db, channel)
        for old in [r for r in rows if now - parse_utc_iso(r.created_at) >= TTL_S]:
            sql.drop_request(db, channel, old.account, old.sender)
        return [r for r in rows if now - parse_utc_iso(r.created_at) < TTL_S]

    def request(
        self, channel: str, account: str, sender: str, meta: dict[str, Any] | None = None
    ) -> tuple[PairingRequest, bool]:
        """The sender's pending request, creating it if needed; True when newly created (send the code)."""
        account = sql.key(account)

        def write(db: sqlite3.Connection) -> tuple[sql.Row, bool]:
            now = time.time()
            with immediate(db):
                rows = self._live(db, channel, now)
                mine = next((r for r in rows if r.sender == sender and r.account == account), None)
                if mine is None:
                    same = sorted((r for r in rows if r.account == account), key=lambda r: r.last_seen_at)
                    for old in same[: max(0, len(same) - (MAX_PENDING - 1))]:
                        sql.drop_request(db, channel, old.account, old.sender)  # the stalest make room
                    fresh = sql.Row(account, sender, _new_code({r.code for r in rows}), iso_ms(now), iso_ms(now),
                                    {**sql.clean_meta(meta or {}), "accountId": account})
                    sql.put_request(db, channel, fresh)
                    return fresh, True
                seen = sql.Row(mine.account, mine.sender, mine.code, mine.created_at, iso_ms(now),
                               {**mine.meta, **sql.clean_meta(meta or {})})
                sql.put_request(db, channel, seen)
                return seen, False

        row, created = self._call(write)
        return _to_request(channel, row), created

    def pending(self, channel: str | None = None) -> list[PairingRequest]:
        def read(db: sqlite3.Connection) -> list[PairingRequest]:
            now = time.time()
            names = [sql.key(channel)] if channel else sql.channels(db)
            return [_to_request(ch, r) for ch in names for r in sql.requests(db, ch)
                    if now - parse_utc_iso(r.created_at) < TTL_S]

        return self._call(read)

    def approve(self, channel: str, code: str) -> tuple[PairingRequest, bool]:
        """Move a pending request to the allow list; True when the sender became the owner."""
        wanted = code.strip().upper()

        def write(db: sqlite3.Connection) -> sql.Row:
            with immediate(db):
                match = next((r for r in self._live(db, channel, time.time()) if r.code.upper() == wanted), None)
                if match is None:
                    raise OpenClawError(f"no pending {channel} pairing request with code {wanted} "
                                        "(codes expire after an hour; see `openclaw pairing list`)")
                sql.drop_request(db, channel, match.account, match.sender)
                sql.add_allowed(db, channel, match.account, [match.sender])
            return match

        request = _to_request(sql.key(channel), self._call(write))
        return request, self._claim_owner(sql.key(channel), request.sender)

    def by_id(self, channel: str, request_id: str) -> PairingRequest | None:
        return next((r for r in self.pending(channel) if r.request_id == request_id), None)

    def dismiss(self, channel: str, request_id: str) -> PairingRequest | None:
        """Drop a pending request without giving access; None when it is gone already."""
        name = sql.key(channel)

        def write(db: sqlite3.Connection) -> sql.Row | None:
            with immediate(db):
                rows = self._live(db, name, time.time())
                match = next((r for r in rows if _to_request(name, r).request_id == request_id), None)
                if match is not None:
                    sql.drop_request(db, name, match.account, match.sender)
            return match

        row = self._call(write)
        return None if row is None else _to_request(name, row)

    # -- allow lists and owners -------------------------------------------------------------------
    def allowed(self, channel: str, account: str) -> set[str]:
        return {normalize_sender(x) for x in self._call(lambda db: sql.allowed(db, channel, account))}

    def _claim_owner(self, channel: str, sender: str) -> bool:
        ensure_private_dir(self.dir)
        with locked(self.dir / ".pairing.lock", timeout=10, what="pairing store"):
            owners = self._owners_file()
            if owners.get(channel):
                return False
            owners[channel] = [sender]
            atomic_write(self.dir / "owners.json", json.dumps(owners, indent=2) + "\n")
        return True

    def _owners_file(self) -> dict[str, Any]:
        try:
            data = json.loads((self.dir / "owners.json").read_text())
        except (OSError, ValueError):
            return {"version": 1}
        return data if isinstance(data, dict) else {"version": 1}

    def owners(self, channel: str) -> set[str]:
        return {normalize_sender(x) for x in self._owners_file().get(channel, [])}


def _new_code(taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code
