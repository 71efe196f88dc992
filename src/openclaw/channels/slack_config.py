"""`channels.slack` read as upstream writes it: accounts, tokens, DM policy and channel rules.

Tokens are a string, a SecretRef (`{source: env|file, id}`), a `botTokenFile` /
`appTokenFile` (a regular file, not a symlink), or for the default account
SLACK_BOT_TOKEN / SLACK_APP_TOKEN from the environment. Channels obey
`groupPolicy` (`allowlist` by default: only `channels.<id>` entries; `open`;
`disabled`), each entry with `enabled`, `requireMention` (default true) and a
`users` allowlist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openclaw.channels.settings import read_accounts, read_dm_policy, read_token
from openclaw.config.secret_env import CHANNEL_TOKENS

INHERITED = ("apiRoot", "dmPolicy", "allowFrom", "groupPolicy", "channels", "requireMention", "mode",
             "slashCommand", "commands")
TOKENS = {t.key: t for t in CHANNEL_TOKENS["slack"]}  # botToken, appToken
SHAPES = {"botToken": "xoxb-", "appToken": "xapp-"}
_PREFIXES = ("slack:", "user:")


def accounts_from(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top level is the `default` account; named accounts inherit what they leave unset or null."""
    return read_accounts(config, tuple(TOKENS.values()), INHERITED)


def token(raw: dict[str, Any], key: str, account: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, where from) for `botToken` or `appToken`; without a token, the reason instead."""
    return read_token(raw, TOKENS[key], account, env)


def tokens(raw: dict[str, Any], account: str, env: Mapping[str, str]) -> tuple[tuple[str | None, str], ...]:
    """(bot token, source), (app token, source)."""
    return token(raw, "botToken", account, env), token(raw, "appToken", account, env)


def normalize_user(value: Any) -> str:
    text = str(value).strip()
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    return text.strip("<@>")


def policy(settings: dict[str, Any]) -> tuple[str, set[str]]:
    return read_dm_policy(settings, normalize_user)


def room(settings: dict[str, Any], channel: str) -> dict[str, Any] | None:
    """The `channels.<id>` entry (or `*`) that admits `channel` ({} under `groupPolicy: open`), else None."""
    group_policy = settings.get("groupPolicy") or "allowlist"
    if group_policy == "disabled":
        return None
    rules = settings.get("channels") or {}
    rule = rules.get(channel) if isinstance(rules, dict) else None
    if rule is None and isinstance(rules, dict):
        rule = rules.get("*")
    if rule is None:
        return {} if group_policy == "open" else None
    if not isinstance(rule, dict) or rule.get("enabled") is False or rule.get("allow") is False:
        return None
    return rule


def room_admits(rule: dict[str, Any], user: str) -> bool:
    """`user` is among the room's `users` (or the room lists none)."""
    users = rule.get("users")
    return not users or user in {normalize_user(u) for u in users}


def channel_rule(settings: dict[str, Any], channel: str, user: str) -> bool | None:
    """None: messages in `channel` from `user` are not admitted; else whether a mention is required."""
    rule = room(settings, channel)
    if rule is None or not room_admits(rule, user):
        return None
    require = rule.get("requireMention", settings.get("requireMention", True))
    return require is not False


def token_shape(key: str, value: str) -> str | None:
    """A doctor finding when `value` does not look like the token `key` takes, else None."""
    prefix = SHAPES[key]
    if value.startswith(prefix):
        return None
    if key == "botToken" and value.startswith("xapp-"):
        return "botToken holds an app-level token (xapp-); it takes the bot token (xoxb-)"
    if key == "appToken" and value.startswith("xox"):
        return "appToken holds a bot or user token (xox…); Socket Mode needs the app-level token (xapp-)"
    return f"{key} does not start with {prefix}; copy it again from the Slack app settings"
