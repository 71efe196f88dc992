"""`openclaw channels add`: a channel account's credentials written to the config, as upstream's
flag-driven setup does (`--token`, `--bot-token`/`--app-token`, `--use-env`); DMs by pairing unless
set otherwise.

A running gateway notices the config write and starts the account (config reload).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw.config.secret_env import CHANNEL_TOKENS
from openclaw.config.store import update_config
from openclaw.errors import UsageError


@dataclass(frozen=True)
class Credential:
    """One secret a channel account needs, and the config keys and flag that carry it."""

    key: str  # config key of the token itself
    file_key: str  # config key of a file holding it
    flag: str  # CLI flag of the literal token (without "--"); the file flag is flag + "-file"
    env: str  # the variable --use-env reads


def _credentials(channel: str, *flags: str) -> tuple[Credential, ...]:
    return tuple(Credential(t.key, t.file_key, flag, t.env) for t, flag in zip(CHANNEL_TOKENS[channel], flags,
                                                                                strict=True))


CREDENTIALS: dict[str, tuple[Credential, ...]] = {
    "telegram": _credentials("telegram", "token"),
    "discord": _credentials("discord", "token"),
    "slack": _credentials("slack", "bot-token", "app-token"),
}
ENV_AS_REF = {"discord", "slack"}  # --use-env writes a SecretRef (Telegram's default account reads the env itself)
SECRET_KEYS = {c.key for creds in CREDENTIALS.values() for c in creds}


def add_channel(config_path: Path, env: Mapping[str, str], channel: str, account: str | None = None,
                tokens: Mapping[str, str | None] | None = None, use_env: bool = False,
                name: str | None = None) -> dict[str, Any]:
    """Write one account's credentials; returns what was written (the tokens themselves left out).

    `tokens` maps a flag name ("token", "token-file", "bot-token", "app-token-file", ...) to its value.
    """
    channel = channel.lower()
    if channel not in CREDENTIALS:
        raise UsageError(f"channels add supports {', '.join(sorted(CREDENTIALS))} (got {channel})")
    creds = CREDENTIALS[channel]
    given = {flag: value for flag, value in (tokens or {}).items() if value}
    _refuse_foreign_flags(channel, creds, given)
    account = account or "default"
    entry: dict[str, Any] = {}
    for cred in creds:
        entry.update(_credential(channel, cred, given, use_env, account, env))
    if name:
        entry["name"] = name

    def write(data: dict[str, Any]) -> None:
        section = data.setdefault("channels", {}).setdefault(channel, {})
        target = section if account == "default" else section.setdefault("accounts", {}).setdefault(account, {})
        for cred in creds:
            for key in (cred.key, cred.file_key):
                target.pop(key, None)  # one source of each token at a time
        target.update(entry)
        section.setdefault("dmPolicy", "pairing")

    update_config(config_path, write, env)
    shown = {k: ("<set>" if k in SECRET_KEYS and isinstance(v, str) else v) for k, v in entry.items()}
    return {"channel": channel, "accountId": account, "written": shown}


def _refuse_foreign_flags(channel: str, creds: tuple[Credential, ...], given: Mapping[str, str]) -> None:
    own = {c.flag for c in creds} | {c.flag + "-file" for c in creds}
    foreign = sorted(set(given) - own)
    if foreign:
        takes = ", ".join(f"--{c.flag}" for c in creds)
        raise UsageError(f"{channel} does not take --{foreign[0]}; give {takes} (or its -file form, or --use-env)")


def _credential(channel: str, cred: Credential, given: Mapping[str, str], use_env: bool, account: str,
                env: Mapping[str, str]) -> dict[str, Any]:
    """The config entries of one credential, from exactly one of its flag, its file flag or --use-env."""
    token, token_file = given.get(cred.flag), given.get(cred.flag + "-file")
    if sum(bool(x) for x in (token, token_file, use_env)) != 1:
        raise UsageError(f"give exactly one of --{cred.flag}, --{cred.flag}-file or --use-env")
    if token:
        return {cred.key: token.strip()}
    if token_file:
        path = Path(os.path.expanduser(token_file))
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"--{cred.flag}-file {token_file} is missing, not a regular file, or a symlink")
        return {cred.file_key: str(path.resolve())}
    if account != "default":
        raise UsageError(f"--use-env reads {cred.env}, which serves the default account only")
    if not env.get(cred.env):
        raise UsageError(f"--use-env needs {cred.env} set in this environment (and the gateway's)")
    return {cred.key: {"source": "env", "provider": "default", "id": cred.env}} if channel in ENV_AS_REF else {}
