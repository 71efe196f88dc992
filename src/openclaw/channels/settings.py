"""A `channels.<name>` section read as upstream writes it, the same way for every channel: its accounts,
and each account's tokens.

The top level is the `default` account (present when it holds a token, or when there are no named
accounts); a named account under `accounts.*` inherits the keys the channel lists that it leaves
unset or null. A token comes from its `...File` key (a regular file, not a symlink), else its own key
(the value, or a SecretRef `{source: env|file, id}`), else, for the default account only, the
channel's environment variable. Sources are named as upstream reports them: `config`, `env`, the
file key, `env:<NAME>` and `file:<path>` for SecretRefs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openclaw.config.secret_env import ChannelToken

DEFAULT_ACCOUNT = "default"
MAX_TOKEN_FILE = 16 * 1024  # a token is well under this; a larger file is read this far


def read_accounts(config: Mapping[str, Any], tokens: tuple[ChannelToken, ...],
                  inherited: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Account id -> its settings; named accounts get the top level's `inherited` keys they leave unset."""
    top = {k: v for k, v in config.items() if k != "accounts"}
    out: dict[str, dict[str, Any]] = {}
    if any(top.get(t.key) or top.get(t.file_key) for t in tokens) or not config.get("accounts"):
        out[DEFAULT_ACCOUNT] = top
    for name, raw in (config.get("accounts") or {}).items():
        if isinstance(raw, dict):
            base = {k: top[k] for k in inherited if k in top}
            out[str(name)] = {**base, **{k: v for k, v in raw.items() if v is not None}}
    return out


def read_token(raw: Mapping[str, Any], keys: ChannelToken, account: str,
                  env: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, where from), or (None, why there is none) in one line."""
    if raw.get(keys.file_key):
        return read_token_file(str(raw[keys.file_key]), keys.file_key)
    value = raw.get(keys.key)
    if isinstance(value, str) and value:
        return value, "config"
    if isinstance(value, Mapping):
        return _secret_ref(value, keys.key, env)
    if account == DEFAULT_ACCOUNT and env.get(keys.env):
        return env[keys.env], "env"
    return None, f"no {keys.key}, {keys.file_key} or {keys.env}"


def read_dm_policy(settings: Mapping[str, Any], normalize: Callable[[Any], str]) -> tuple[str, set[str]]:
    """(dmPolicy, allowFrom); upstream's older `dm.policy` / `dm.allowFrom` count when the new keys are unset."""
    dm = settings.get("dm")
    legacy: Mapping[str, Any] = dm if isinstance(dm, Mapping) else {}
    policy = settings.get("dmPolicy") or legacy.get("policy") or "pairing"
    allow = settings.get("allowFrom") or legacy.get("allowFrom") or []
    return str(policy), {normalize(x) for x in allow}


def _secret_ref(ref: Mapping[str, Any], key: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    source, ident = ref.get("source"), str(ref.get("id") or "")
    if source == "env":
        return (env[ident], f"env:{ident}") if env.get(ident) else (None, f"{key}: env {ident} is not set")
    if source == "file":
        return read_token_file(ident, f"file:{ident}", f"{key} file")
    return None, f"{key}: SecretRef source {source!r} is not supported (use env or file)"


def read_token_file(name: str, source: str, what: str | None = None) -> tuple[str | None, str]:
    """(the file's text, `source`), or (None, why not)."""
    what = what or source
    path = Path(os.path.expanduser(name))
    if path.is_symlink() or not path.is_file():
        return None, f"{what} {name} is missing, not a regular file, or a symlink"
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_TOKEN_FILE).strip()
    except OSError as exc:
        return None, f"{what} {name} cannot be read: {exc.strerror}"
    if not text:
        return None, f"{what} {name} is empty"
    return text, source
