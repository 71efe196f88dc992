"""DM pairing and allow lists, kept in the instance's state dir in upstream's file layout.

`credentials/<channel>-pairing.json` holds pending requests (an 8-character
code, valid one hour, at most 3 per account); `credentials/<channel>-<account>-allowFrom.json`
holds approved senders; `credentials/owners.json` remembers the first approved
sender of each channel as its owner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.fsutil import atomic_write, ensure_private_dir, locked
from openclaw.timestamps import parse_utc_iso, utc_iso

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I
CODE_LENGTH = 8
TTL_S = 3600
MAX_PENDING = 3


def normalize_sender(value: Any) -> str:
    text = str(value).strip()
    for prefix in ("telegram:", "tg:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return text


@dataclass(frozen=True)
class PairingRequest:
    channel: str
    account: str
    sender: str
    code: str
    created_at: float
    last_seen_at: float
    meta: dict[str, Any]

    @property
    def request_id(self) -> str:
        """A stable opaque id for operators' UIs (the code stays between the sender and the owner)."""
        raw = f"{self.channel}\0{self.account}\0{self.sender}\0{utc_iso(self.created_at)}".encode()
        return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")[:32]

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "accountId": self.account, "senderId": self.sender, "code": self.code,
                "createdAt": utc_iso(self.created_at), "expiresAt": utc_iso(self.created_at + TTL_S), "meta": self.meta}


class PairingStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "credentials"

    # -- files ----------------------------------------------------------------------------------
    def _read(self, path: Path, default: dict[str, Any]) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return default
        return data if isinstance(data, dict) else default

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        ensure_private_dir(self.dir)
        atomic_write(path, json.dumps(data, indent=2) + "\n")

    def _lock(self) -> Any:
        ensure_private_dir(self.dir)
        return locked(self.dir / ".pairing.lock", timeout=10, what="pairing store")

    def _requests_path(self, channel: str) -> Path:
        return self.dir / f"{channel}-pairing.json"

    def _allow_path(self, channel: str, account: str) -> Path:
        return self.dir / f"{channel}-{account}-allowFrom.json"

    # -- requests -----------------------------------------------------------------------------
    def _live(self, channel: str, now: float) -> list[dict[str, Any]]:
        data = self._read(self._requests_path(channel), {"version": 1, "requests": []})
        return [r for r in data.get("requests", [])
                if isinstance(r, dict) and now - parse_utc_iso(r.get("createdAt", "")) < TTL_S]

    def request(
        self, channel: str, account: str, sender: str, meta: dict[str, Any] | None = None
    ) -> tuple[PairingRequest, bool]:
        """The sender's pending request, creating it if needed; True when newly created (send the code)."""
        now = time.time()
        with self._lock():
            requests = self._live(channel, now)
            mine = next((r for r in requests if r.get("id") == sender
                         and (r.get("meta") or {}).get("accountId", "default") == account), None)
            created = mine is None
            if mine is None:
                mine = {"id": sender, "code": self._new_code(requests), "createdAt": utc_iso(now),
                        "meta": {"accountId": account, **(meta or {})}}
                same = sorted((r for r in requests if (r.get("meta") or {}).get("accountId", "default") == account),
                              key=lambda r: parse_utc_iso(r.get("lastSeenAt", "")))
                for old in same[: max(0, len(same) - (MAX_PENDING - 1))]:
                    requests.remove(old)  # at most 3 pending per account: the stalest make room
                requests.append(mine)
            mine["lastSeenAt"] = utc_iso(now)
            self._write(self._requests_path(channel), {"version": 1, "requests": requests})
        return self._to_request(channel, mine), created

    def _new_code(self, requests: list[dict[str, Any]]) -> str:
        taken = {r.get("code") for r in requests}
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if code not in taken:
                return code

    def _to_request(self, channel: str, raw: dict[str, Any]) -> PairingRequest:
        meta = raw.get("meta") or {}
        return PairingRequest(channel, meta.get("accountId", "default"), str(raw.get("id")), str(raw.get("code")),
                              parse_utc_iso(raw.get("createdAt", "")), parse_utc_iso(raw.get("lastSeenAt", "")), meta)

    def pending(self, channel: str | None = None) -> list[PairingRequest]:
        channels = [channel] if channel else sorted(
            p.name.removesuffix("-pairing.json") for p in self.dir.glob("*-pairing.json"))
        now = time.time()
        return [self._to_request(ch, r) for ch in channels for r in self._live(ch, now)]

    def approve(self, channel: str, code: str) -> tuple[PairingRequest, bool]:
        """Move a pending request to the allow list; True when the sender became the owner."""
        wanted = code.strip().upper()
        with self._lock():
            requests = self._live(channel, time.time())
            match = next((r for r in requests if str(r.get("code", "")).upper() == wanted), None)
            if match is None:
                raise OpenClawError(f"no pending {channel} pairing request with code {wanted} "
                                    "(codes expire after an hour; see `openclaw pairing list`)")
            requests.remove(match)
            self._write(self._requests_path(channel), {"version": 1, "requests": requests})
            request = self._to_request(channel, match)
            self._add_allowed(channel, request.account, request.sender)
            owners = self._read(self.dir / "owners.json", {"version": 1})
            became_owner = not owners.get(channel)
            if became_owner:
                owners[channel] = [request.sender]
                self._write(self.dir / "owners.json", owners)
        return request, became_owner

    def by_id(self, channel: str, request_id: str) -> PairingRequest | None:
        return next((r for r in self.pending(channel) if r.request_id == request_id), None)

    def dismiss(self, channel: str, request_id: str) -> PairingRequest | None:
        """Drop a pending request without giving access; None when it is gone already."""
        with self._lock():
            requests = self._live(channel, time.time())
            match = next((r for r in requests if self._to_request(channel, r).request_id == request_id), None)
            if match is None:
                return None
            requests.remove(match)
            self._write(self._requests_path(channel), {"version": 1, "requests": requests})
        return self._to_request(channel, match)

    # -- allow lists and owners -------------------------------------------------------------------
    def _add_allowed(self, channel: str, account: str, sender: str) -> None:
        path = self._allow_path(channel, account)
        data = self._read(path, {"version": 1, "allowFrom": []})
        allow = [str(x) for x in data.get("allowFrom", [])]
        if sender not in allow:
            allow.append(sender)
        self._write(path, {"version": 1, "allowFrom": allow})

    def allowed(self, channel: str, account: str) -> set[str]:
        paths = [self._allow_path(channel, account)]
        if account == "default":
            paths.append(self.dir / f"{channel}-allowFrom.json")  # upstream's unscoped legacy file
        out: set[str] = set()
        for path in paths:
            out |= {normalize_sender(x) for x in self._read(path, {}).get("allowFrom", [])}
        return out

    def owners(self, channel: str) -> set[str]:
        return {normalize_sender(x) for x in self._read(self.dir / "owners.json", {}).get(channel, [])}
