"""A minimal Discord REST client over aiohttp, honouring Discord's rate limits.

Every route has a bucket (Discord names it in `X-RateLimit-Bucket`); when a
bucket's `X-RateLimit-Remaining` reaches 0 its next request waits
`X-RateLimit-Reset-After`. A 429 waits its `retry_after` (the whole client
when `global` is set) and is retried a few times. The token is sent only in
the Authorization header; errors name the route, never the header.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from typing import Any

import aiohttp

from openclaw.httpbody import BodyTooLarge, read_body

DEFAULT_API_ROOT = "https://discord.com/api/v10"
MESSAGE_LIMIT = 2000  # Discord's maximum message content length
MAX_BODY = 1024 * 1024
MAX_BUCKETS = 256  # routes remembered (bounded: channel ids vary)
RATE_LIMIT_ATTEMPTS = 4
MAX_WAIT_S = 60.0  # a longer retry_after is reported, not slept through
USER_AGENT = "DiscordBot (https://openclaw.ai, 1.0) openclaw-python"


class DiscordError(Exception):
    def __init__(self, route: str, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{route}: {status} {message}")
        self.route, self.status, self.message, self.retry_after = route, status, message, retry_after


class RateLimits:
    """Per-route buckets and the global limit; waits happen before a request is sent."""

    def __init__(self) -> None:
        self.route_bucket: OrderedDict[str, str] = OrderedDict()
        self.resume_at: OrderedDict[str, float] = OrderedDict()  # bucket -> when it has room again
        self.global_until = 0.0
        self.waited = 0.0  # seconds spent waiting (status and tests)

    async def before(self, route: str) -> None:
        bucket = self.route_bucket.get(route, route)
        wait = max(self.global_until, self.resume_at.get(bucket, 0.0)) - time.monotonic()
        if wait > 0:
            self.waited += wait
            await asyncio.sleep(min(wait, MAX_WAIT_S))

    def after(self, route: str, headers: Any) -> None:
        bucket = headers.get("X-RateLimit-Bucket") or route
        _remember(self.route_bucket, route, bucket)
        remaining, reset_after = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset-After")
        try:
            if remaining is not None and reset_after is not None and int(remaining) <= 0:
                _remember(self.resume_at, bucket, time.monotonic() + float(reset_after))
        except ValueError:
            pass  # not as Discord documents them: no wait

    def limited(self, route: str, retry_after: float, is_global: bool) -> None:
        until = time.monotonic() + retry_after
        if is_global:
            self.global_until = max(self.global_until, until)
        else:
            _remember(self.resume_at, self.route_bucket.get(route, route), until)


def _remember(table: OrderedDict[str, Any], key: str, value: Any) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_BUCKETS:
        table.popitem(last=False)


class DiscordApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, api_root: str | None = None) -> None:
        self.session = session
        self.root = (api_root or DEFAULT_API_ROOT).rstrip("/")
        self._headers = {"Authorization": f"Bot {token}", "User-Agent": USER_AGENT}
        self.limits = RateLimits()

    async def call(self, method: str, path: str, route: str, body: dict[str, Any] | None = None,
                   timeout: float = 15.0) -> Any:
        """`route` is the path with its ids as placeholders except the top-level one (Discord's buckets)."""
        for attempt in range(RATE_LIMIT_ATTEMPTS):
            await self.limits.before(route)
            status, headers, data = await self._request(method, path, route, body, timeout)
            self.limits.after(route, headers)
            if status == 429:
                retry_after = float(data.get("retry_after") or headers.get("Retry-After") or 1.0)
                self.limits.limited(route, retry_after, bool(data.get("global"))
                                    or headers.get("X-RateLimit-Global") == "true")
                if retry_after > MAX_WAIT_S or attempt == RATE_LIMIT_ATTEMPTS - 1:
                    raise DiscordError(route, 429, "rate limited", retry_after)
                continue
            if status >= 400:
                raise DiscordError(route, status, str(data.get("message") or f"HTTP {status}"))
            return data
        raise DiscordError(route, 429, "rate limited")

    async def _request(self, method: str, path: str, route: str, body: dict[str, Any] | None,
                       timeout: float) -> tuple[int, Any, Any]:
        try:
            async with self.session.request(method, self.root + path, json=body, headers=self._headers,
                                            timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                raw = await read_body(resp.content, MAX_BODY)
                data = json.loads(raw) if raw.strip() else {}
                return resp.status, resp.headers, data if isinstance(data, dict | list) else {}
        except BodyTooLarge as exc:
            raise DiscordError(route, 0, f"answer too large: {exc}") from None
        except (ValueError, RecursionError):
            raise DiscordError(route, 0, "answer is not JSON") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DiscordError(route, 0, f"network error: {type(exc).__name__}") from None

    async def me(self) -> dict[str, Any]:
        me = await self.call("GET", "/users/@me", "/users/@me")
        if not isinstance(me, dict) or "id" not in me:
            raise DiscordError("/users/@me", 0, "the answer holds no user")
        return me

    async def gateway_url(self) -> str:
        data = await self.call("GET", "/gateway/bot", "/gateway/bot")
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise DiscordError("/gateway/bot", 0, "the answer holds no gateway url")
        return url

    async def send_message(self, channel_id: str, content: str, reply_to: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"content": content, "allowed_mentions": {"parse": []}}
        if reply_to:
            body["message_reference"] = {"message_id": reply_to, "fail_if_not_exists": False}
        data = await self.call("POST", f"/channels/{channel_id}/messages", f"/channels/{channel_id}/messages", body)
        return data if isinstance(data, dict) else {}

    async def trigger_typing(self, channel_id: str) -> None:
        await self.call("POST", f"/channels/{channel_id}/typing", f"/channels/{channel_id}/typing", timeout=10)

    async def open_dm(self, user_id: str) -> str:
        data = await self.call("POST", "/users/@me/channels", "/users/@me/channels", {"recipient_id": user_id})
        return str(data.get("id")) if isinstance(data, dict) else ""
