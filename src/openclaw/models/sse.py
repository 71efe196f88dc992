"""Server-sent events from a streaming HTTP response, with an idle limit between lines.

The limit is the response's own `sock_read` timeout (set by `wire.post`), which
aiohttp restarts on every read: no timer or task per line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from openclaw.models.types import ModelError


async def events(resp: aiohttp.ClientResponse, idle_s: float) -> AsyncIterator[tuple[str | None, str]]:
    """(event name or None, data) for each event; a provider silent for `idle_s` (the response's
    sock_read timeout) is a timeout."""
    name: str | None = None
    data: list[str] = []
    while True:
        try:
            raw = await resp.content.readline()
        except TimeoutError:
            raise ModelError("timeout", f"the provider sent nothing for {idle_s:g}s") from None
        except ValueError:  # one line past aiohttp's buffer limit
            raise ModelError("protocol", "the provider sent a stream line too long to be an event") from None
        except aiohttp.ClientError as exc:
            raise ModelError("network", f"the stream broke: {exc}") from None
        if not raw:
            if data:
                yield name, "\n".join(data)
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
