"""What both wire clients share: posting a request and turning HTTP failures into ModelErrors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from openclaw.models.catalog import Provider
from openclaw.models.types import ModelError, error_for_status

CONNECT_TIMEOUT_S = 10.0
MAX_ERROR_BODY = 64 * 1024
MAX_BODY = 16 * 1024 * 1024  # a non-streamed answer larger than this is refused


@asynccontextmanager
async def post(session: aiohttp.ClientSession, provider: Provider, url: str, body: dict[str, Any],
               headers: dict[str, str]) -> AsyncIterator[aiohttp.ClientResponse]:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=provider.timeout_s)
    try:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **headers, **provider.headers}
        async with session.post(url, data=data, headers=headers, timeout=timeout) as resp:
            if resp.status >= 400:
                text = (await resp.content.read(MAX_ERROR_BODY)).decode("utf-8", errors="replace")
                raise error_for_status(resp.status, text, resp.headers.get("retry-after"))
            yield resp
    except ModelError:
        raise
    except TimeoutError:
        raise ModelError("timeout", f"{provider.id} did not answer within {provider.timeout_s:g}s") from None
    except aiohttp.ClientError as exc:
        raise ModelError("network", f"{provider.id} at {url}: {exc}") from None


async def json_body(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    raw = await resp.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ModelError("protocol", f"the answer is larger than {MAX_BODY} bytes")
    return parse(raw.decode("utf-8", errors="replace"))


def parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ModelError("protocol", f"the provider sent something that is not JSON: {text[:120]!r}") from None
    if not isinstance(value, dict):
        raise ModelError("protocol", "the provider sent JSON that is not an object")
    return value


def arguments(raw: str) -> dict[str, Any]:
    """A tool call's arguments; a model that sends broken JSON gets the text back to see."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}
