"""`send`: deliver a text message through a running channel (Telegram, Discord), as upstream's
`openclaw message send` does through its gateway; a repeated `idempotencyKey` is answered from the
first delivery instead of sending again."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import WRITE

MAX_REMEMBERED = 256
MAX_TEXT = 64_000
_delivered: OrderedDict[str, dict[str, Any]] = OrderedDict()


@method("send", scope=WRITE, params="SendParams")
async def send(ctx: CallContext) -> dict[str, Any]:
    from openclaw.channels.messages import OutboundMessage

    p = ctx.params
    key = p["idempotencyKey"]
    if key in _delivered:
        return _delivered[key]
    text = p.get("message") or ""
    if not text.strip():
        raise RpcError(INVALID_REQUEST, "message is required (media sends are not supported here)")
    if len(text) > MAX_TEXT:
        raise RpcError(INVALID_REQUEST, f"message is longer than {MAX_TEXT} characters")
    manager = ctx.gateway.services.channels
    configured = sorted(manager.status()) if manager is not None else []
    name = p.get("channel") or (configured[0] if len(configured) == 1 else "")
    channel = manager.channel(name) if manager is not None and name else None
    if channel is None:
        raise RpcError(UNAVAILABLE, f"channel {name or '(none given)'} is not running "
                                    f"(configured: {', '.join(configured) or 'none'})")
    chat_id: int | str = int(p["to"]) if p["to"].lstrip("-").isdigit() else p["to"]
    try:
        await channel.send(OutboundMessage(name, p.get("accountId") or "default", chat_id, text))
    except Exception as exc:  # noqa: BLE001 - the channel's failure, told to the caller in one line
        raise RpcError(UNAVAILABLE, f"{name} send failed: {exc}") from None
    payload = {"runId": key, "messageId": None, "channel": name, "chatId": str(chat_id)}
    _delivered[key] = payload
    while len(_delivered) > MAX_REMEMBERED:
        _delivered.popitem(last=False)
    return payload
