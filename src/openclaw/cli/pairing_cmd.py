"""`openclaw pairing list [channel]` and `openclaw pairing approve <channel> <code>` (no gateway needed)."""

from __future__ import annotations

import click

from openclaw.channels.pairing import PairingStore
from openclaw.cli.output import json_option, print_json
from openclaw.profiles.paths import resolve_paths


@click.group(help="Senders waiting for access to this profile's bot, and approving them.")
def pairing() -> None:
    pass


@pairing.command("list", help="Pending pairing requests (codes are valid for one hour).")
@click.argument("channel", required=False)
@json_option
def list_cmd(channel: str | None, as_json: bool) -> None:
    pending = PairingStore(resolve_paths().state_dir).pending(channel)
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
@json_option
def approve(channel: str, code: str, as_json: bool) -> None:
    request, owner = PairingStore(resolve_paths().state_dir).approve(channel, code)
    if as_json:
        print_json({"ok": True, "request": request.as_dict(), "owner": owner})
        return
    click.echo(f"Approved sender {request.sender} on {channel}/{request.account}"
               + (" (now the owner: operator commands are theirs)" if owner else ""))
