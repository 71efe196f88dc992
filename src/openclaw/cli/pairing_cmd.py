"""`openclaw pairing list [channel]` and `openclaw pairing approve <channel> <code>`: from this host's
files (no gateway needed), or through any gateway with `--url` (an operator elsewhere)."""

from __future__ import annotations

import os
from typing import Any

import click

from openclaw.channels.pairing import PairingStore
from openclaw.cli.output import json_option, print_json
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import resolve_paths

remote = click.option("--url", help="Go through this gateway (ws://host:port) instead of this host's files.")
secret = click.option("--token", help="Its token (or OPENCLAW_GATEWAY_TOKEN).")
password_opt = click.option("--password", help="Its password.")


def _remote(url: str, token: str | None, password: str | None, method: str, params: dict[str, Any]) -> Any:
    import os

    from openclaw.cli.rpc_common import call_once, target_from

    token = token or os.environ.get("OPENCLAW_GATEWAY_TOKEN")
    password = password or os.environ.get("OPENCLAW_GATEWAY_PASSWORD")
    return call_once(target_from(url, token, password), 10_000, method, params,
                     scopes=["operator.pairing", "operator.admin"])


@click.group(help="Senders waiting for access to this profile's bot, and approving them.")
def pairing() -> None:
    pass


@pairing.command("list", help="Pending pairing requests (codes are valid for one hour).")
@click.argument("channel", required=False)
@remote
@secret
@password_opt
@json_option
def list_cmd(channel: str | None, url: str | None, token: str | None, password: str | None, as_json: bool) -> None:
    if url:
        data = _remote(url, token, password, "channels.pairing.list", {"channel": channel} if channel else {})
        if as_json:
            print_json(data)
            return
        for r in data["requests"]:
            click.echo(f"{r['channel']}/{r['accountId']}: {r.get('code', '?')}  sender {r['senderId']}")
        click.echo("Approve with: openclaw pairing approve <channel> <code> --url ..." if data["requests"]
                   else "No pending pairing requests.")
        return
    pending = PairingStore(resolve_paths(os.environ).state_dir).pending(channel)
    if as_json:
        print_json({"requests": [p.as_dict() for p in pending]})
        return
    if not pending:
        click.echo("No pending pairing requests.")
        return
    for p in pending:
        who = f" (@{p.meta['username']})" if p.meta.get("username") else ""
        click.echo(f"{p.channel}/{p.account}: {p.code}  sender {p.sender}{who}")
    click.echo("Approve with: openclaw pairing approve <channel> <code>")


@pairing.command("approve", help="Give a pending sender access; the first approved sender becomes the owner.")
@click.argument("channel")
@click.argument("code")
@remote
@secret
@password_opt
@json_option
def approve(channel: str, code: str, url: str | None, token: str | None, password: str | None, as_json: bool) -> None:
    if url:
        listed = _remote(url, token, password, "channels.pairing.list", {"channel": channel})["requests"]
        match = next((r for r in listed if str(r.get("code", "")).upper() == code.strip().upper()), None)
        if match is None:
            raise OpenClawError(f"no pending {channel} pairing request with code {code.strip().upper()} "
                                "on that gateway (codes expire after an hour; see `openclaw pairing list --url ...`)")
        done = _remote(url, token, password, "channels.pairing.approve",
                       {"channel": channel, "accountId": match["accountId"], "requestId": match["requestId"],
                        "notify": True})
        if as_json:
            print_json({"ok": True, **done})
        else:
            click.echo(f"Approved sender {done['senderId']} on {channel}/{match['accountId']} (through {url})")
        return
    request, owner = PairingStore(resolve_paths(os.environ).state_dir).approve(channel, code)
    if as_json:
        print_json({"ok": True, "request": request.as_dict(), "owner": owner})
        return
    click.echo(f"Approved sender {request.sender} on {channel}/{request.account}"
               + (" (now the owner: operator commands are theirs)" if owner else ""))
