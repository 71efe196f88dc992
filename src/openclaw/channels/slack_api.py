"""A minimal Slack Web API client over aiohttp: `POST {apiRoot}/<method>` with a bearer token.

Tokens travel only in the Authorization header; errors and logs name the
method and Slack's error code (`invalid_auth`, `ratelimited`), never a token.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from openclaw.httpbody import BodyTooLarge, read_body

DEFAULT_API_ROOT = "https://slack.com/api"
MESSAGE_LIMIT = 4000  # Slack truncates longer `text`; its own advice is to stay within 4,000 characters
MAX_BODY = 4 * 1024 * 1024
TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                "not_allowed_token_type", "missing_scope"}


class SlackError(Exception):
    """`code` is Slack's `error` string (`network` for no answer); `status` the HTTP status (0: none)."""

    def __init__(self, method: str, code: str, status: int = 200, retry_after: float | None = None) -> None:
        super().__init__(f"{method}: {code}")
        self.method, self.code, self.status, self.retry_after = method, code, status, retry_after

    @property
    def token_rejected(self) -> bool:
        return self.code in TOKEN_ERRORS

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.code in ("network", "ratelimited")


class SlackApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, api_root: str | None = None) -> None:
        self.session = session
        self._root = (api_root or DEFAULT_API_ROOT).rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self.scopes: list[str] = []  # from the X-OAuth-Scopes header of the last answer

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15.0) -> dict[str, Any]:
        try:
            async with self.session.post(f"{self._root}/{method}", json=params or {}, headers=self._headers,
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                if resp.status == 429:
                    raise SlackError(method, "ratelimited", 429, _seconds(resp.headers.get("Retry-After")))
                if "X-OAuth-Scopes" in resp.headers:
                    self.scopes = [s.strip() for s in resp.headers["X-OAuth-Scopes"].split(",") if s.strip()]
                try:
                    data = json.loads(await read_body(resp.content, MAX_BODY))
                except (BodyTooLarge, ValueError, RecursionError):
                    raise SlackError(method, f"HTTP {resp.status} without a Web API body", resp.status) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SlackError(method, "network", 0) from exc
        if not isinstance(data, dict) or data.get("ok") is not True:
            code = str(data.get("error") or "error") if isinstance(data, dict) else "error"
            raise SlackError(method, code, resp.status)
        return data

    async def auth_test(self) -> dict[str, Any]:
        """Who this token is: `user_id` (the bot user), `team_id`, `user`, `bot_id`."""
        return await self.call("auth.test", timeout=10)

    async def open_connection(self) -> str:
        """A Socket Mode WebSocket URL (this must be the app-level token, xapp-)."""
        url = (await self.call("apps.connections.open", timeout=10)).get("url")
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise SlackError("apps.connections.open", "no WebSocket URL in the answer")
        return url

    async def post_message(self, channel: str, text: str, thread_ts: str | None = None) -> str:
        """One message of at most MESSAGE_LIMIT characters; returns its `ts`."""
        params: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if thread_ts:
            params["thread_ts"] = thread_ts
        return str((await self.call("chat.postMessage", params)).get("ts") or "")


async def respond(session: aiohttp.ClientSession, url: str, text: str, response_type: str) -> None:
    """A reply through a slash command's response_url (no token: the URL itself is the credential, so
    errors name neither)."""
    method = "response_url"
    try:
        async with session.post(url, json={"text": text, "response_type": response_type},
                                timeout=aiohttp.ClientTimeout(total=15.0)) as resp:
            if resp.status == 429:
                raise SlackError(method, "ratelimited", 429, _seconds(resp.headers.get("Retry-After")))
            try:
                body = json.loads(await read_body(resp.content, MAX_BODY))
            except (BodyTooLarge, ValueError, RecursionError):
                body = None  # Slack answers a plain "ok"
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise SlackError(method, "network", 0) from exc
    if resp.status != 200 or (isinstance(body, dict) and body.get("ok") is False):
        error = body.get("error") if isinstance(body, dict) else None
        raise SlackError(method, str(error or f"HTTP {resp.status}"), resp.status)


def _seconds(raw: str | None) -> float | None:
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None
