"""A minimal Telegram Bot API client over aiohttp: `{apiRoot}/bot<token>/<method>`.

The token only ever appears in the request URL; errors and logs name the
method, never the URL.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from openclaw.httpbody import BodyTooLarge, read_body

DEFAULT_API_ROOT = "https://api.telegram.org"
MESSAGE_LIMIT = 4096  # Telegram's maximum text length
MAX_BODY = 8 * 1024 * 1024  # a getUpdates page of 100 updates is far below this


class TelegramError(Exception):
    def __init__(self, method: str, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{method}: {code} {description}")
        self.method, self.code, self.description, self.retry_after = method, code, description, retry_after


class TelegramApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, api_root: str | None = None) -> None:
        self.session = session
        self._url = f"{(api_root or DEFAULT_API_ROOT).rstrip('/')}/bot{token}/"

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        try:
            async with self.session.post(self._url + method, json=params or {},
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                try:
                    data = json.loads(await read_body(resp.content, MAX_BODY))
                except BodyTooLarge as exc:
                    raise TelegramError(method, resp.status, f"HTTP {resp.status} with {exc}") from None
                except (ValueError, RecursionError):
                    raise TelegramError(method, resp.status, f"HTTP {resp.status} without a Bot API body") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TelegramError(method, 0, f"network error: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not data.get("ok"):
            data = data if isinstance(data, dict) else {}
            retry = (data.get("parameters") or {}).get("retry_after")
            raise TelegramError(method, int(data.get("error_code") or 0), str(data.get("description") or "error"),
                                float(retry) if retry is not None else None)
        return data.get("result")

    async def get_me(self) -> dict[str, Any]:
        me = await self.call("getMe", timeout=15)
        if not isinstance(me, dict):
            raise TelegramError("getMe", 0, "the answer holds no bot")
        return me

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": ["message"]}
        if offset is not None:
            params["offset"] = offset
        return await self.call("getUpdates", params, timeout=timeout + 15) or []

    async def send_message(self, chat_id: int | str, text: str) -> None:
        """One message of at most MESSAGE_LIMIT characters (see channels.text.split_message)."""
        await self.call("sendMessage", {"chat_id": chat_id, "text": text, "disable_web_page_preview": True})

    async def send_chat_action(self, chat_id: int | str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action}, timeout=10)

