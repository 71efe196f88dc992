"""An `mcp.servers.<name>` entry from `openclaw mcp add`'s flags, in upstream's key names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class EntryError(ValueError):
    """The flags do not make one server (both or neither of --command and --url, a bad pair)."""


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise EntryError(f"{flag} {value!r} is not KEY=VALUE")
        out[key.strip()] = rest
    return out


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def build_entry(command: str | None = None, args: Sequence[str] = (), env: Sequence[str] = (), cwd: str | None = None,
                url: str | None = None, transport: str | None = None, headers: Sequence[str] = (),
                connect_timeout_s: float | None = None, timeout_s: float | None = None,
                include: str | None = None, exclude: str | None = None, disabled: bool = False) -> dict[str, Any]:
    if bool(command) == bool(url):
        raise EntryError("give either --command (a stdio server) or --url (an HTTP server)")
    entry: dict[str, Any] = {}
    if command:
        if transport or headers:
            raise EntryError("--transport and --header are for HTTP servers (--url)")
        entry["command"] = command
        if args:
            entry["args"] = list(args)
        if env:
            entry["env"] = _pairs(env, "--env")
        if cwd:
            entry["cwd"] = cwd
    else:
        if args or env or cwd:
            raise EntryError("--arg, --env and --cwd are for stdio servers (--command)")
        entry["url"] = url
        if transport:
            entry["transport"] = transport
        if headers:
            entry["headers"] = _pairs(headers, "--header")
    for key, seconds in (("connectionTimeoutMs", connect_timeout_s), ("requestTimeoutMs", timeout_s)):
        if seconds is not None:
            if seconds <= 0:
                raise EntryError("timeouts are seconds above 0")
            entry[key] = int(seconds * 1000)
    filters = {k: v for k, v in (("include", _csv(include)), ("exclude", _csv(exclude))) if v}
    if filters:
        entry["toolFilter"] = filters
    if disabled:
        entry["enabled"] = False
    return entry
