"""Slack slash commands as upstream serves them, both ways off unless configured.

One command (`slashCommand: {enabled: true}`, named `openclaw` unless `name` says otherwise) whose
text is what is asked: `/openclaw /status main`, `/openclaw what changed?`. Or, with
`commands.native: true` (`auto` stays off for Slack, as upstream's), each chat command registered
in the Slack app under its own name: `/status main`. Slack hands them over the socket with a
`response_url`; the replies go there, seen by the sender only (`slashCommand.ephemeral`, the
default) or by the channel.

Access is judged as for messages: in a DM by dmPolicy/allowFrom/pairing (channels.access), in a
channel by groupPolicy, `channels.<id>` and its `users`; a command is addressed to the bot, so no
mention is needed. What is refused before access is judged is answered in the envelope's ack. A
plain prompt runs in a session of its own (`agent:<id>:<sessionPrefix>:<user>`, `slack:slash` by
default); a command acts on the chat's session, as upstream's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from openclaw.channels.messages import InboundMessage
from openclaw.channels.slack_config import policy, room, room_admits

SLASH = "slash_command"  # the `type` a slash command is kept under in the pending store
NOT_AUTHORIZED = "You are not authorized to use this command."


@dataclass(frozen=True)
class SlashSettings:
    enabled: bool  # the one command
    name: str
    session_prefix: str
    ephemeral: bool
    native: bool  # every chat command under its own name


def settings(raw: dict[str, Any]) -> SlashSettings:
    slash, commands = _section(raw, "slashCommand"), _section(raw, "commands")
    return SlashSettings(
        enabled=slash.get("enabled") is True,
        name=str(slash.get("name") or "").strip().lstrip("/") or "openclaw",
        session_prefix=str(slash.get("sessionPrefix") or "").strip() or "slack:slash",
        ephemeral=slash.get("ephemeral") is not False,
        native=commands.get("native") is True,
    )


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def prompt(payload: dict[str, Any], chosen: SlashSettings) -> str | None:
    """What the command asks (the text to answer), or None: not a command this account serves."""
    command, text = str(payload.get("command") or "").strip(), str(payload.get("text") or "").strip()
    if chosen.enabled and command.lstrip("/") == chosen.name:
        return text
    if chosen.native and command.startswith("/") and len(command) > 1:
        return f"{command} {text}".strip()
    return None


def direct(payload: dict[str, Any]) -> bool:
    return payload.get("channel_name") == "directmessage" or str(payload.get("channel_id") or "").startswith("D")


def refusal(payload: dict[str, Any], raw: dict[str, Any]) -> str | None:
    """Why the command is refused before its sender's access is judged, or None."""
    if direct(payload):
        return "Slack DMs are disabled." if policy(raw)[0] == "disabled" else None
    rule = room(raw, str(payload.get("channel_id") or ""))
    if rule is None:
        return "This channel is not allowed."
    if not room_admits(rule, str(payload.get("user_id") or "")):
        return "You are not authorized to use this command here."
    return None


def ephemeral(text: str) -> dict[str, Any]:
    """An immediate reply in the envelope's ack, seen by the sender only."""
    return {"text": text, "response_type": "ephemeral"}


def usable_url(url: str, api_root: str) -> bool:
    """A response_url to post to: HTTPS, or the Web API's own origin (a stand-in on loopback)."""
    parts, root = urlsplit(url), urlsplit(api_root)
    return parts.scheme == "https" or (parts.scheme, parts.netloc) == (root.scheme, root.netloc)


def message(stored: dict[str, Any], account: str, raw: dict[str, Any], bot_name: str | None) -> InboundMessage | None:
    """A kept slash command as a message to judge, or None (malformed, or no longer admitted)."""
    user, chat, url = stored.get("user_id"), stored.get("channel_id"), stored.get("response_url")
    text = stored.get("prompt")
    if not all(isinstance(v, str) and v for v in (user, chat, url, text)) or refusal(stored, raw):
        return None
    return InboundMessage(
        channel="slack", account=account, chat_id=str(chat), chat_type="private" if direct(stored) else "channel",
        sender_id=str(user), sender_name=str(stored.get("user_name") or user), text=str(text), message_id=0,
        mentioned=True, bot_username=bot_name, route=str(url),
        session=f"{settings(raw).session_prefix}:{user}")
