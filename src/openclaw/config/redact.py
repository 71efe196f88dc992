"""Hide secrets in anything we show or send (config.get, `config get`, logs)."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "__OPENCLAW_REDACTED__"
_SECRET_KEY = re.compile(r"^(token|password|secret|apiKey|botToken)$|(Token|Password|Secret|ApiKey)$")
_NOT_SECRET = {"tokenFile", "maxTokens", "contextTokens"}


def is_secret_key(key: str) -> bool:
    return key not in _NOT_SECRET and bool(_SECRET_KEY.search(key))


# Credentials under names that a service chose rather than our schema: HTTP headers and environment
# variables (`mcp.servers.<name>.headers` / `.env`, `env.vars`). Only hidden when shown.
_CREDENTIAL_NAME = re.compile(r"^(authorization|proxy-authorization|cookie|x-api-key)$|^[A-Z0-9_]*"
                              r"(_TOKEN|_SECRET|_PASSWORD|_API_KEY)$", re.I)


def _shown_secret(key: str) -> bool:
    return is_secret_key(key) or bool(_CREDENTIAL_NAME.match(key))


def redact(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: (REDACTED if _shown_secret(str(k)) and isinstance(v, str) and v else redact(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


def redact_at(parts: list[str | int], value: Any) -> Any:
    """A value read at a key path, redacted; its own key (`gateway.auth.token`) decides too."""
    last = parts[-1] if parts else None
    return redact({last: value})[last] if isinstance(last, str) else redact(value)


def restore_redacted(submitted: Any, current: Any) -> Any:
    """Put real secrets back where a client echoed the redaction sentinel."""
    if isinstance(submitted, dict):
        cur = current if isinstance(current, dict) else {}
        return {k: restore_redacted(v, cur.get(k)) for k, v in submitted.items()}
    if isinstance(submitted, list):
        cur_list = current if isinstance(current, list) else []
        return [restore_redacted(v, cur_list[i] if i < len(cur_list) else None) for i, v in enumerate(submitted)]
    if submitted == REDACTED:
        return current
    return submitted
