"""`openclaw channels add`: a channel account's credentials written to the config, as upstream's
flag-driven setup does (`--token`, `--token-file`, `--use-env`); DMs by pairing unless set otherwise.

A running gateway notices the config write and starts the account (config reload).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openclaw.config.store import update_config
from openclaw.errors import UsageError

TOKEN_KEY = {"telegram": "botToken", "discord": "token"}
TOKEN_ENV = {"telegram": "TELEGRAM_BOT_TOKEN", "discord": "DISCORD_BOT_TOKEN"}


def add_channel(config_path: Path, env: Mapping[str, str], channel: str, account: str | None = None,
                token: str | None = None, token_file: str | None = None, use_env: bool = False,
                name: str | None = None) -> dict[str, Any]:
    """Write one account's credentials; returns what was written (the token itself left out)."""
    channel = channel.lower()
    if channel not in TOKEN_KEY:
        raise UsageError(f"channels add supports {', '.join(sorted(TOKEN_KEY))} (got {channel})")
    if sum(bool(x) for x in (token, token_file, use_env)) != 1:
        raise UsageError("give exactly one of --token, --token-file or --use-env")
    account = account or "default"
    entry: dict[str, Any] = {}
    if token:
        entry[TOKEN_KEY[channel]] = token.strip()
    elif token_file:
        path = Path(os.path.expanduser(token_file))
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"--token-file {token_file} is missing, not a regular file, or a symlink")
        entry["tokenFile"] = str(path.resolve())
    else:
        variable = TOKEN_ENV[channel]
        if account != "default":
            raise UsageError(f"--use-env reads {variable}, which serves the default account only")
        if not env.get(variable):
            raise UsageError(f"--use-env needs {variable} set in this environment (and the gateway's)")
        if channel == "discord":
            entry["token"] = {"source": "env", "provider": "default", "id": variable}
    if name:
        entry["name"] = name

    def write(data: dict[str, Any]) -> None:
        section = data.setdefault("channels", {}).setdefault(channel, {})
        target = section if account == "default" else section.setdefault("accounts", {}).setdefault(account, {})
        for key in ("botToken", "token", "tokenFile"):
            target.pop(key, None)  # one source of the token at a time
        target.update(entry)
        section.setdefault("dmPolicy", "pairing")

    update_config(config_path, write, env)
    shown = {k: ("<set>" if k in ("botToken", "token") and isinstance(v, str) else v) for k, v in entry.items()}
    return {"channel": channel, "accountId": account, "written": shown}
