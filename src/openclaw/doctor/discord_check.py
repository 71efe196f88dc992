"""Doctor: each Discord account has a token shaped like one, Discord accepts it, and the bot has the
Message Content intent (without it guild messages arrive empty)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from openclaw.config.store import read_config
from openclaw.config.view import Config
from openclaw.doctor.checks import Context, Finding

Problem = tuple[str, str, str, str, str]  # check id, severity, what, why, fix (a doctor Finding's fields)

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
PROBE_TIMEOUT_S = 10.0
MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT(_LIMITED) on the application


def check_discord(ctx: Context) -> list[Finding]:
    config = read_config(ctx.paths.config_path, ctx.env, validate=False).view()
    return [Finding(*p, path=str(ctx.paths.config_path)) for p in discord_problems(config, ctx.env, ctx.prefix)]


def discord_problems(config: Config, env: Mapping[str, str], prefix: str) -> list[Problem]:
    if "discord" not in config.channel_names:
        return []
    from openclaw.channels.discord_config import accounts_from, resolve_token

    out: list[Problem] = []
    for account, raw in accounts_from(dict(config.channel("discord"))).items():
        where = "channels.discord" + ("" if account == "default" else f".accounts.{account}")
        fix = f"copy the bot token from the Discord Developer Portal (Bot page), then: {prefix} config set " \
              f"{where}.token <token> (or DISCORD_BOT_TOKEN)"
        token, source = resolve_token(raw, account, env)
        if not token:
            out.append(("channels/discord-token", "error", f"{where}: {source}", "the bot cannot connect", fix))
            continue
        if not TOKEN_SHAPE.match(token):
            out.append(("channels/discord-token", "warning", f"{where}: the token ({source}) is not shaped "
                               "like a Discord bot token (three dot-separated parts)", "Discord will refuse it", fix))
        out += _live(where, token, raw, fix)
    return out


def _live(where: str, token: str, raw: Mapping[str, Any], fix: str) -> list[Problem]:
    try:
        me, app = asyncio.run(asyncio.wait_for(_ask(token, raw.get("apiRoot")), PROBE_TIMEOUT_S))
    except TimeoutError:
        return [("channels/discord-probe", "warning", f"{where}: Discord did not answer within "
                        f"{PROBE_TIMEOUT_S:g}s", "the token could not be checked", "check the network, then run "
                        "doctor again")]
    if "error" in me:
        return [("channels/discord-token", "error", f"{where}: Discord refused the token: {me['error']}",
                 "the bot cannot connect", fix)]
    flags = app.get("flags")
    if isinstance(flags, int) and not flags & MESSAGE_CONTENT_FLAGS:
        return [("channels/discord-intents", "warning", f"{where}: the Message Content intent is off for "
                        f"{me.get('username')}", "messages in servers arrive without their text",
                        "Discord Developer Portal -> Bot -> Privileged Gateway Intents -> Message Content Intent")]
    return []


async def _ask(token: str, api_root: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    import aiohttp

    from openclaw.channels.discord_api import DiscordApi, DiscordError

    async with aiohttp.ClientSession() as session:
        api = DiscordApi(session, token, api_root)
        try:
            me = await api.me()
        except DiscordError as exc:
            return {"error": f"{exc.status} {exc.message}"}, {}
        try:
            app = await api.call("GET", "/applications/@me", "/applications/@me")
        except DiscordError:
            app = {}
        return me, app if isinstance(app, dict) else {}
