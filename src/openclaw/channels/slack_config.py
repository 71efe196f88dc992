"""`channels.slack` read as upstream writes it: accounts, tokens, DM policy and channel rules.

Tokens are a string, a SecretRef (`{source: env|file, id}`), a `botTokenFile` /
`appTokenFile` (a regular file, not a symlink), or for the default account
SLACK_BOT_TOKEN / SLACK_APP_TOKEN from the environment. Channels obey
`groupPolicy` (`allowlist` by default: only `channels.<id>` entries; `open`;
`disabled`), each entry with `enabled`, `requireMention` (default true) and a
`users` allowlist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNT = "default"
INHERITED = ("apiRoot", "dmPolicy", "allowFrom", "groupPolicy", "channels", "requireMention", "mode")
TOKENS = {"botToken": ("botTokenFile", "SLACK_BOT_TOKEN", "xoxb-"), "appToken": ("appTokenFile", "SLACK_APP_TOKEN",
                                                                                   "xapp-")}
_PREFIXES = ("slack:", "user:")


def accounts_from(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top level is the `default` account; named accounts inherit what they leave unset or null."""
    top = {k: v for k, v in config.items() if k != "accounts"}
    out: dict[str, dict[str, Any]] = {}
    if any(top.get(k) for k in ("botToken", "appToken", "botTokenFile", "appTokenFile")) or not config.get("accounts"):
        out[DEFAULT_ACCOUNT] = top
    for name, raw in (config.get("accounts") or {}).items():
        if isinstance(raw, dict):
            inherited = {k: top[k] for k in INHERITED if k in top}
            out[str(name)] = {**inherited, **{k: v for k, v in raw.items() if v is not None}}
    return out


def token(raw: dict[str, Any], key: str, account: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, where from) for `botToken` or `appToken`; without a token, the reason instead."""
    file_key, env_name, _ = TOKENS[key]
    if raw.get(file_key):
        path = Path(os.path.expanduser(str(raw[file_key])))
        if path.is_symlink() or not path.is_file():
            return None, f"{file_key} {raw[file_key]} is missing, not a regular file, or a symlink"
        return path.read_text(encoding="utf-8").strip() or None, file_key
    value = raw.get(key)
    if isinstance(value, str) and value:
        return value, key
    if isinstance(value, dict):
        source, ident = value.get("source"), str(value.get("id") or "")
        if source == "env":
            return (env.get(ident) or None), f"env:{ident}"
        if source == "file":
            try:
                return Path(os.path.expanduser(ident)).read_text(encoding="utf-8").strip() or None, f"file:{ident}"
            except OSError:
                return None, f"{key} file {ident} could not be read"
        return None, f"{key}: SecretRef source {source!r} is not supported (use env or file)"
    if account == DEFAULT_ACCOUNT and env.get(env_name):
        return env[env_name], f"env:{env_name}"
    return None, f"no {key}, {file_key} or {env_name}"


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
    """(dmPolicy, allowFrom) with upstream's legacy `dm.policy` / `dm.allowFrom` as fallbacks."""
    raw_dm = settings.get("dm")
    dm: dict[str, Any] = raw_dm if isinstance(raw_dm, dict) else {}
    chosen = settings.get("dmPolicy") or dm.get("policy") or "pairing"
    allow = settings.get("allowFrom") or dm.get("allowFrom") or []
    return str(chosen), {normalize_user(x) for x in allow}


def channel_rule(settings: dict[str, Any], channel: str, user: str) -> bool | None:
    """None: messages in `channel` from `user` are not admitted; else whether a mention is required."""
    group_policy = settings.get("groupPolicy") or "allowlist"
    if group_policy == "disabled":
        return None
    rules = settings.get("channels") or {}
    rule = rules.get(channel) if isinstance(rules, dict) else None
    if rule is None and isinstance(rules, dict):
        rule = rules.get("*")
    if rule is None:
        if group_policy != "open":
            return None
        rule = {}
    if not isinstance(rule, dict) or rule.get("enabled") is False or rule.get("allow") is False:
        return None
    users = rule.get("users")
    if users and user not in {normalize_user(u) for u in users}:
        return None
    require = rule.get("requireMention", settings.get("requireMention", True))
    return require is not False


def token_shape(key: str, value: str) -> str | None:
    """A doctor finding when `value` does not look like the token `key` takes, else None."""
    prefix = TOKENS[key][2]
    if value.startswith(prefix):
        return None
    if key == "botToken" and value.startswith("xapp-"):
        return "botToken holds an app-level token (xapp-); it takes the bot token (xoxb-)"
    if key == "appToken" and value.startswith("xox"):
        return "appToken holds a bot or user token (xox…); Socket Mode needs the app-level token (xapp-)"
    return f"{key} does not start with {prefix}; copy it again from the Slack app settings"
