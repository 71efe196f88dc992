"""`channels.discord` as upstream writes it: accounts, the token's source, and who may talk where.

The top level is the `default` account; a named account under `accounts.*`
inherits the policy keys it leaves unset. DMs follow `dmPolicy`/`allowFrom`
(channels.access). Guild messages follow `groupPolicy` (default `allowlist`:
only guilds listed under `guilds`), a guild's `users`, and its `channels` map,
which becomes an allowlist as soon as it has one entry (`*` matches the rest);
a thread falls back to its parent channel's entry. Guild messages need a
mention unless `requireMention: false` (channel entry over guild entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw.channels.settings import read_accounts, read_dm_policy, read_token
from openclaw.config.secret_env import CHANNEL_TOKENS

(TOKEN,) = CHANNEL_TOKENS["discord"]
INHERITED = ("apiRoot", "dmPolicy", "allowFrom", "groupPolicy", "guilds", "dm", "allowBots",
             "dangerouslyAllowNameMatching")


def normalize_id(value: Any) -> str:
    """A user id as upstream's configs write it: `123`, `discord:123`, `user:123`, `<@123>`, `<@!123>`."""
    text = str(value).strip()
    for prefix in ("discord:", "user:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    if text.startswith("<@") and text.endswith(">"):
        text = text[2:-1].lstrip("!")
    return text


def accounts_from(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return read_accounts(config, (TOKEN,), INHERITED)


def resolve_token(raw: Mapping[str, Any], account: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, where from): `tokenFile` > `token` (a string or a SecretRef) > DISCORD_BOT_TOKEN (default account)."""
    return read_token(raw, TOKEN, account, env)


def dm_policy(settings: Mapping[str, Any]) -> tuple[str, set[str]]:
    return read_dm_policy(settings, normalize_id)


@dataclass(frozen=True)
class GuildRule:
    allowed: bool
    require_mention: bool = True
    users: frozenset[str] = frozenset()  # with `roles` both empty: anyone in the room
    roles: frozenset[str] = frozenset()
    names: bool = False  # `dangerouslyAllowNameMatching`: user names (which people can change) count too

    def admits(self, sender_id: str, sender_name: str, roles: frozenset[str] = frozenset()) -> bool:
        """Senders match `users` OR `roles` when either is set; names only when matching them is allowed."""
        if not self.users and not self.roles:
            return True
        named = self.names and bool(sender_name) and sender_name.lower() in self.users
        return "*" in self.users or sender_id in self.users or named or bool(self.roles & roles)


DENIED = GuildRule(False)


def guild_rule(settings: Mapping[str, Any], guild_id: str, channel: str, channel_name: str = "",
               parent: str = "", parent_name: str = "") -> GuildRule:
    """What a guild message in `channel` (a thread: also its `parent`) is allowed to do."""
    policy = settings.get("groupPolicy") or "allowlist"
    if policy == "disabled":
        return DENIED
    guilds = _mapping(settings.get("guilds"))
    guild = guilds.get(guild_id) or guilds.get("*")
    if not isinstance(guild, Mapping):
        return GuildRule(True) if policy == "open" else DENIED
    if guild.get("enabled") is False:
        return DENIED
    entry: Mapping[str, Any] = {}
    channels = guild.get("channels")
    if isinstance(channels, Mapping) and channels:
        found = next((channels[k] for k in (channel, channel_name, parent, parent_name, "*")
                      if k and isinstance(channels.get(k), Mapping)), None)
        if found is None or found.get("enabled", found.get("allow", True)) is False:
            return DENIED
        entry = found
    mention = entry.get("requireMention", guild.get("requireMention", True))
    users = entry.get("users", guild.get("users")) or []
    roles = entry.get("roles", guild.get("roles")) or []
    return GuildRule(True, mention is not False, frozenset(normalize_id(str(u)).lower() for u in users),
                     frozenset(str(r) for r in roles), settings.get("dangerouslyAllowNameMatching") is True)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
