"""Presence: the gateway's own entry plus connected long-lived clients (UIs, nodes)."""

from __future__ import annotations

import platform
import socket
import time
from typing import Any

from openclaw import __version__


def _platform() -> tuple[str, str]:
    system = platform.system()
    if system == "Darwin":
        return f"macos {platform.mac_ver()[0]}", "Mac"
    if system == "Windows":
        return f"windows {platform.release()}", "Windows"
    return f"{system.lower()} {platform.release().split('-')[0]}", system


def _primary_ip() -> str:
    """The address other hosts would reach us on (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address: str = sock.getsockname()[0]
            return address
        except OSError:
            return "127.0.0.1"


class Presence:
    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.host = socket.gethostname()
        self.ip = _primary_ip()
        self.platform, self.device_family = _platform()
        self.clients: dict[str, dict[str, Any]] = {}
        self.version = 0

    def self_entry(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ip": self.ip,
            "version": __version__,
            "platform": self.platform,
            "deviceFamily": self.device_family,
            "mode": "gateway",
            "reason": "self",
            "instanceId": self.instance_id,
            "text": f"Gateway: {self.host} ({self.ip}) · app {__version__} · mode gateway · reason self",
            "ts": int(time.time() * 1000),
        }

    def entries(self) -> list[dict[str, Any]]:
        return [self.self_entry(), *self.clients.values()]

    def add(self, conn_id: str, client: dict[str, Any], remote_ip: str, scopes: list[str]) -> None:
        now = int(time.time() * 1000)
        entry = {
            "host": client.get("displayName") or client.get("id"),
            "clientId": client.get("id"),
            "ip": remote_ip,
            "version": client.get("version"),
            "platform": client.get("platform"),
            "mode": client.get("mode"),
            "reason": "connect",
            "instanceId": client.get("instanceId") or conn_id,
            "scopes": scopes,
            "onlineSince": now,
            "ts": now,
        }
        self.clients[conn_id] = {k: v for k, v in entry.items() if v is not None}
        self.version += 1

    def remove(self, conn_id: str) -> bool:
        if self.clients.pop(conn_id, None) is None:
            return False
        self.version += 1
        return True
