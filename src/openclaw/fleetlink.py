"""What the rest of the host needs to know about fleets: whether an instance is a fleet member,
its supervisor's socket while one runs, and how to ask it something.

A member's state dir holds a marker naming its fleet's record; the record names the supervisor
(pid + start marker) and its control socket. The rescue bot starts a stopped member through its
supervisor this way, so the member stays supervised instead of running beside it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.fsutil import atomic_write
from openclaw.procutil import pid_alive

MARKER = "fleet-member.json"
MAX_ANSWER = 4 * 1024 * 1024


class FleetUnreachable(OpenClawError):
    """No supervisor answers on the fleet's socket."""


def write_marker(state_dir: Path, name: str, record: Path) -> None:
    atomic_write(state_dir / MARKER, json.dumps({"name": name, "record": str(record)}) + "\n")


def running_supervisor(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record's supervisor entry (pid, start marker) while that very process runs, else None."""
    sup = record.get("supervisor")
    if isinstance(sup, dict) and isinstance(sup.get("pid"), int) and pid_alive(sup["pid"], sup.get("startMarker")):
        return sup
    return None


def supervisor_of(state_dir: Path) -> tuple[str, Path] | None:
    """(member name, control socket) when this state dir is a member of a fleet whose supervisor
    runs; None otherwise (not a member, or its fleet is down)."""
    try:
        marker = json.loads((state_dir / MARKER).read_text())
        record = json.loads(Path(marker["record"]).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(record, dict) or running_supervisor(record) is None:
        return None
    if not any(isinstance(m, dict) and m.get("stateDir") == str(state_dir) for m in record.get("members", [])):
        return None
    return str(marker["name"]), Path(record["socket"])


def request(path: Path, op: str, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
    """Ask the supervisor at `path`; its answer. FleetUnreachable when none listens there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise FleetUnreachable(f"no fleet supervisor listens at {path}") from exc
        sock.sendall(json.dumps({"op": op, **params}).encode() + b"\n")
        return _read_answer(sock.recv, path)
    except ConnectionError as exc:
        raise FleetUnreachable(f"the fleet supervisor at {path} dropped the connection ({exc})") from exc
    except TimeoutError as exc:
        raise FleetUnreachable(f"the fleet supervisor at {path} did not answer within {timeout:g}s") from exc
    finally:
        sock.close()


def _read_answer(recv: Callable[[int], bytes], path: Path) -> dict[str, Any]:
    data = b""
    while b"\n" not in data:
        chunk = recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_ANSWER:
            raise FleetUnreachable(f"the fleet supervisor at {path} sent an answer over {MAX_ANSWER} bytes")
    try:
        answer = json.loads(data.split(b"\n", 1)[0])
    except ValueError as exc:
        raise FleetUnreachable(f"the fleet supervisor at {path} closed without an answer") from exc
    if not isinstance(answer, dict):
        raise FleetUnreachable(f"the fleet supervisor at {path} answered with a non-object")
    return answer
