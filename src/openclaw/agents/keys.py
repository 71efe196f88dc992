"""Session keys as upstream spells them, so a conversation has the same name on every surface.

DMs share the agent's main session by default (`session.dmScope: main`);
`per-peer`, `per-channel-peer` and `per-account-channel-peer` split them.
Groups get one session per group (`session.groupScope: per-group`, or `main`).
"""

from __future__ import annotations

import re
from typing import Any

from openclaw.config.view import Config

DM_SCOPES = ("main", "per-peer", "per-channel-peer", "per-account-channel-peer")
_UNSAFE = re.compile(r"[^a-z0-9_.:@+-]")


def _part(value: Any) -> str:
    return _UNSAFE.sub("_", str(value).strip().lower())


def main_key(config: Config, agent_id: str) -> str:
    return f"agent:{_part(agent_id)}:{_part(config.session.main_key)}"


def explicit_key(agent_id: str, session_id: str) -> str:
    """The session upstream makes for `agent --session-id X` when no session has that id (keys are
    stored in lower case; the session keeps X as its id)."""
    return f"agent:{_part(agent_id)}:explicit:{session_id.strip().lower()}"


def named_key(agent_id: str, name: str) -> str:
    """`agent:<id>:<name>` for a session a channel names itself (`slack:slash:<user>`), in lower case."""
    return f"agent:{_part(agent_id)}:" + ":".join(_part(piece) for piece in name.split(":"))


def chat_key(config: Config, agent_id: str, channel: str, account: str, direct: bool,
             peer_id: Any, chat_id: Any, thread: str | None = None, room: str = "group") -> str:
    """The session a channel message belongs to; a thread is its own (`:thread:<id>` on the chat's key).
    `room`: how the platform names a shared chat in the key (`group`; `channel` for channel rooms)."""
    base = _chat_base(config, agent_id, channel, account, direct, peer_id, chat_id, room)
    return f"{base}:thread:{_part(thread)}" if thread else base


def _chat_base(config: Config, agent_id: str, channel: str, account: str, direct: bool,
               peer_id: Any, chat_id: Any, room: str) -> str:
    agent = f"agent:{_part(agent_id)}"
    if direct:
        scope = config.session.dm_scope
        if scope == "per-peer":
            return f"{agent}:direct:{_part(peer_id)}"
        if scope == "per-channel-peer":
            return f"{agent}:{_part(channel)}:direct:{_part(peer_id)}"
        if scope == "per-account-channel-peer":
            return f"{agent}:{_part(channel)}:{_part(account)}:direct:{_part(peer_id)}"
        return main_key(config, agent_id)
    if config.session.group_scope == "main":
        return main_key(config, agent_id)
    return f"{agent}:{_part(channel)}:{room}:{_part(chat_id)}"


def agent_of(key: str, default: str) -> str:
    """The agent id inside `agent:<id>:...`, else `default`."""
    parts = key.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "agent" and parts[1] else default
