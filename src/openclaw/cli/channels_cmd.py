"""`openclaw channels status [--probe]` and `openclaw channels start|stop|logout <channel>`."""

from __future__ import annotations

import time
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json
from openclaw.cli.rpc_common import call_once, target_from


def _rpc(url: str | None, token: str | None, password: str | None, timeout: int, method: str,
         params: dict[str, Any] | None = None) -> Any:
    return call_once(target_from(url, token, password), timeout, method, params)


def _ago(ms: int | None) -> str:
    if not ms:
        return "never"
    seconds = max(0, int(time.time() - ms / 1000))
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


@click.group(help="Messaging channels of this profile's gateway.")
def channels() -> None:
    pass


@channels.command("status", help="Each channel and account: running, connected, last update, last error.")
@click.option("--probe", is_flag=True,
              help="Also check each account live (Telegram: getMe; Slack: auth.test; Discord: GET /users/@me).")
@rpc_options
@json_option
def status(probe: bool, url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    data = _rpc(url, token, password, timeout, "channels.status", {"probe": True} if probe else None)
    if as_json:
        print_json(data)
        return
    if not data["channels"]:
        click.echo("No channels configured (add channels.telegram, channels.slack or channels.discord to the config, "
                   "or run onboard).")
    for name, ch in data["channels"].items():
        state = "suppressed by the crash-loop breaker" if ch.get("suppressed") else (
            "running" if ch.get("running") else "stopped")
        click.echo(f"{ch.get('label', name)}: {state}")
        for acct in (ch.get("accounts") or {}).values():
            bot = f" @{acct['bot'].get('username') or acct['bot'].get('name')}" if acct.get("bot") else ""
            last = acct.get("lastUpdateAt") or acct.get("lastEventAt") or acct.get("lastMessageAt")
            line = (f"  {acct['accountId']}{bot}: {'connected' if acct['connected'] else 'not connected'}, "
                    f"last update {_ago(last)}")
            if acct.get("lastError"):
                line += f", last error: {acct['lastError']}"
            if "probe" in acct:
                line += f", probe: {'ok' if acct['probe'].get('ok') else acct['probe'].get('error')}"
            click.echo(line)
    if data.get("crashLoop", {}).get("tripped"):
        click.echo("Crash-loop breaker: tripped; start channels by hand once the cause is fixed.")


@channels.command("start", help="Start a channel (also overrides the crash-loop breaker).")
@click.argument("channel")
@rpc_options
@json_option
def start(channel: str, url: str | None, token: str | None, password: str | None, timeout: int,
          as_json: bool) -> None:
    data = _rpc(url, token, password, timeout, "channels.start", {"channel": channel})
    if as_json:
        print_json(data)
    else:
        click.echo(f"channel {channel} started")


@channels.command("stop", help="Stop a channel until it is started again (or the gateway restarts).")
@click.argument("channel")
@rpc_options
@json_option
def stop(channel: str, url: str | None, token: str | None, password: str | None, timeout: int,
         as_json: bool) -> None:
    data = _rpc(url, token, password, timeout, "channels.stop", {"channel": channel})
    if as_json:
        print_json(data)
    else:
        click.echo(f"channel {channel} stopped" if data["stopped"] else f"channel {channel} was not running")


@channels.command("logout", help="Stop an account and forget its bot token (the rest of its config stays).")
@click.argument("channel")
@click.option("--account", help="Account id (default: the default account).")
@rpc_options
@json_option
def logout(channel: str, account: str | None, url: str | None, token: str | None, password: str | None, timeout: int,
           as_json: bool) -> None:
    data = _rpc(url, token, password, timeout, "channels.logout",
                {"channel": channel, **({"accountId": account} if account else {})})
    if as_json:
        print_json(data)
    elif data["cleared"]:
        click.echo(f"logged out {channel}/{data['accountId']}: bot token removed from the config")
    else:
        click.echo(f"{channel}/{data['accountId']} had no bot token in the config")


@channels.command("add", help="Add a channel account's credentials to the config (Telegram, Discord, Slack).")
@click.argument("channel_arg", required=False, metavar="[CHANNEL]")
@click.option("--channel", "channel_opt", help="telegram | discord | slack")
@click.option("--account", help="Account id (default: the default account).")
@click.option("--name", help="A display name for the account.")
@click.option("--token", "token_value", help="Telegram/Discord: the bot token (stored in the config file, mode 600).")
@click.option("--token-file", help="Telegram/Discord: a file holding the bot token (read at each start).")
@click.option("--bot-token", help="Slack: the bot token (xoxb-...).")
@click.option("--bot-token-file", help="Slack: a file holding the bot token.")
@click.option("--app-token", help="Slack: the app-level token for Socket Mode (xapp-...).")
@click.option("--app-token-file", help="Slack: a file holding the app-level token.")
@click.option("--use-env", is_flag=True,
              help="Use TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN / SLACK_BOT_TOKEN + SLACK_APP_TOKEN "
                   "from the environment.")
@json_option
def add(channel_arg: str | None, channel_opt: str | None, account: str | None, name: str | None,
        token_value: str | None, token_file: str | None, bot_token: str | None, bot_token_file: str | None,
        app_token: str | None, app_token_file: str | None, use_env: bool, as_json: bool) -> None:
    import os

    from openclaw.errors import UsageError
    from openclaw.profiles.paths import resolve_paths
    from openclaw.provisioning.channel_add import add_channel

    channel = channel_opt or channel_arg
    if not channel:
        raise UsageError("name the channel: openclaw channels add --channel discord --token <bot-token>")
    tokens = {"token": token_value, "token-file": token_file, "bot-token": bot_token,
              "bot-token-file": bot_token_file, "app-token": app_token, "app-token-file": app_token_file}
    data = add_channel(resolve_paths(os.environ).config_path, os.environ, channel, account, tokens, use_env, name)
    if as_json:
        print_json(data)
    else:
        click.echo(f"added {data['channel']}/{data['accountId']}; a running gateway starts it on its own "
                   f"(check: openclaw channels status --probe)")
