"""Where a heartbeat's message goes (`target`): `owner` (the first `commands.ownerAllowFrom`
entry, else the channel's first `allowFrom` entry; never a group), `last` (the chat the agent
last talked in), `none`, or a channel id with `to`. A route that cannot be found says why, in
upstream's reasons (`target-none`, `no-route`, `dm-blocked`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw.channels.pairing import normalize_sender
from openclaw.config.view import Config
from openclaw.heartbeat.settings import Heartbeat

DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class Route:
    channel: str | None = None
    to: str | None = None
    account: str | None = None
    reason: str | None = None  # why there is no route (then channel/to are unset)
    direct: bool = True  # a one-to-one chat (what `directPolicy: block` holds back)


def _is_group(chat: str) -> bool:
    """A Telegram group or channel id (negative), or a `*` wildcard: never an owner's chat."""
    return chat == "*" or chat.startswith("-") or not chat


def _chat(to: str) -> str:
    """The chat id of a `to` (a Telegram topic `<chatId>:topic:<threadId>` is sent to its chat)."""
    return to.split(":topic:", 1)[0].strip()


def owner(config: Config, channel: str | None, channels: list[str]) -> tuple[str, str] | None:
    """(channel, chat) of the owner: `commands.ownerAllowFrom` first, then each channel's allowFrom."""
    wanted = [channel] if channel else channels
    for entry in config.get("commands", "ownerAllowFrom") or []:
        text = str(entry).strip()
        prefix, _, rest = text.partition(":")
        named = prefix.lower() if rest and prefix.lower() in (*channels, "tg") else None
        named = "telegram" if named == "tg" else named
        chat = normalize_sender(text) if named in (None, "telegram") else rest
        where = named or (channel or (channels[0] if channels else None))
        if where in wanted and not _is_group(chat):
            return where, chat
    for name in wanted:
        for entry in config.channel(name).get("allowFrom") or []:
            chat = normalize_sender(entry)
            if not _is_group(chat):
                return name, chat
    return None


def resolve(config: Config, beat: Heartbeat, channels: list[str], last: Mapping[str, Any] | None) -> Route:
    """The route for `beat`; `channels`: the running ones; `last`: the agent's latest chat origin."""
    target = beat.target
    if target == "none":
        return Route(reason="target-none")
    if target == "last":
        if not last or last.get("channel") not in channels or not last.get("to"):
            return Route(reason="no-route")
        route = Route(str(last["channel"]), str(last["to"]), str(last.get("accountId") or DEFAULT_ACCOUNT),
                      direct=last.get("chatType", "direct") == "direct")
    else:
        channel = None if target == "owner" else target
        if channel is not None and channel not in channels:
            return Route(reason="no-route")
        to = _chat(beat.to) if channel is not None and beat.to else None
        found = (channel, to) if channel and to else owner(config, channel, channels)
        if found is None or found[0] is None:
            return Route(reason="no-route")
        route = Route(found[0], found[1], beat.account_id or DEFAULT_ACCOUNT, direct=not found[1].startswith("-"))
    if route.direct and beat.direct_blocked:
        return Route(route.channel, route.to, route.account, reason="dm-blocked")
    return route
