"""Doctor checks for `channels.slack`: token shapes (xoxb- / xapp-), and auth.test with the bot token
(a rejected token in one line; the granted scopes, from the X-OAuth-Scopes header, against the ones the
channel needs)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from openclaw.channels.slack_api import DEFAULT_API_ROOT
from openclaw.channels.slack_config import accounts_from, token, token_shape
from openclaw.config.store import read_config
from openclaw.doctor.checks import Context, Finding

NEEDED_SCOPES = ("chat:write", "im:history", "app_mentions:read")
AUTH_TIMEOUT_S = 5.0
MAX_ANSWER = 64 * 1024


def auth_test(api_root: str, bot_token: str) -> tuple[dict[str, Any], list[str]]:
    """Slack's auth.test answer and granted scopes (an answer without `ok` is returned as it came)."""
    request = urllib.request.Request(f"{api_root.rstrip('/')}/auth.test", data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {bot_token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=AUTH_TIMEOUT_S) as resp:
            scopes = [s.strip() for s in (resp.headers.get("X-OAuth-Scopes") or "").split(",") if s.strip()]
            data = json.loads(resp.read(MAX_ANSWER))
    except urllib.error.HTTPError as exc:
        return {"ok": False, "error": f"HTTP {exc.code}"}, []
    except (OSError, ValueError) as exc:
        return {"ok": False, "error": f"unreachable ({type(exc).__name__})"}, []
    return (data if isinstance(data, dict) else {"ok": False, "error": "not a Web API answer"}), scopes


def check_slack(ctx: Context) -> list[Finding]:
    snap = read_config(ctx.paths.config_path, ctx.env)
    section = (snap.data.get("channels") or {}).get("slack") if snap.exists and not snap.issues else None
    if not isinstance(section, dict) or section.get("enabled") is False:
        return []
    out: list[Finding] = []
    path = str(ctx.paths.config_path)
    for account, raw in accounts_from(section).items():
        where = f"channels.slack{'' if account == 'default' else f'.accounts.{account}'}"
        values = {key: token(raw, key, account, ctx.env) for key in ("botToken", "appToken")}
        for key, (value, source) in values.items():
            problem = source if value is None else token_shape(key, value)
            if problem:
                out.append(Finding("slack/token", "error", f"slack account {account}: {problem}",
                                   "the Slack channel cannot connect without both tokens",
                                   f"{ctx.prefix} config set {where}.{key} <token>", path))
        bot = values["botToken"][0]
        if bot and not any(f.check == "slack/token" and f"account {account}:" in f.what for f in out):
            out += _live(ctx, account, where, raw, bot, path)
    return out


def _live(ctx: Context, account: str, where: str, raw: dict[str, Any], bot: str, path: str) -> list[Finding]:
    answer, scopes = auth_test(str(raw.get("apiRoot") or DEFAULT_API_ROOT), bot)
    if answer.get("ok") is not True:
        return [Finding("slack/auth", "error", f"slack account {account}: auth.test failed: {answer.get('error')}",
                        "Slack refuses this bot token (or cannot be reached)",
                        f"{ctx.prefix} config set {where}.botToken <xoxb-token>", path)]
    missing = [s for s in NEEDED_SCOPES if scopes and s not in scopes]
    if missing:
        return [Finding("slack/scopes", "warning", f"slack account {account}: missing scopes {', '.join(missing)}",
                        "without them the bot cannot read DMs or mentions, or cannot answer",
                        "add the scopes in the Slack app's OAuth settings and reinstall the app", path)]
    return []
