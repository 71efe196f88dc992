"""`openclaw devices list|approve|reject|remove`: remote clients' device keys, through the gateway."""

from __future__ import annotations

import time
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json, table
from openclaw.cli.rpc_common import call_once, target_from

ADMIN = ["operator.admin", "operator.pairing"]
DONE = {"device.pair.approve": "approved", "device.pair.reject": "rejected", "device.pair.remove": "removed"}


def _ago(ms: int | None) -> str:
    if not ms:
        return "-"
    seconds = int(time.time() - ms / 1000)
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


@click.group(help="Devices of remote clients: pending approval, and approved.")
def devices() -> None:
    pass


@devices.command("list", help="Pending requests and approved devices.")
@rpc_options
@json_option
def list_cmd(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    data = call_once(target_from(url, token, password), timeout, "device.pair.list", {}, scopes=ADMIN)
    if as_json:
        print_json(data)
        return
    pending, paired = data.get("pending") or [], data.get("paired") or []
    click.echo(f"Pending ({len(pending)})")
    if pending:
        table(["REQUEST", "DEVICE", "CLIENT", "FROM", "SCOPES", "ASKED"],
              [[r["requestId"], r["deviceId"][:12], f"{r.get('clientId')}/{r.get('clientMode')}",
                r.get("remoteIp") or "-", ",".join(r.get("scopes") or []) or "-", _ago(r.get("ts"))]
               for r in pending])
    click.echo(f"Paired ({len(paired)})")
    if paired:
        table(["DEVICE", "CLIENT", "SCOPES", "APPROVED", "CONNECTED"],
              [[d["deviceId"][:12], f"{d.get('clientId')}/{d.get('clientMode')}",
                ",".join(d.get("scopes") or []) or "-", _ago(d.get("approvedAtMs")),
                "yes" if d.get("connected") else "no"] for d in paired])
    if pending:
        click.echo("Approve with: openclaw devices approve <request>")


def _resolve(method: str, key: str, help_text: str) -> Any:
    @devices.command(method.rsplit(".", 1)[1], help=help_text)
    @click.argument("ident")
    @rpc_options
    @json_option
    def command(ident: str, url: str | None, token: str | None, password: str | None, timeout: int,
                as_json: bool) -> None:
        result = call_once(target_from(url, token, password), timeout, method, {key: ident}, scopes=ADMIN)
        if as_json:
            print_json(result)
        else:
            device = (result.get("device") or {}).get("deviceId") or result.get("deviceId") or ident
            click.echo(f"{DONE[method]}: {device}")

    return command


_resolve("device.pair.approve", "requestId", "Approve a pending device (it gets the scopes it asked for).")
_resolve("device.pair.reject", "requestId", "Refuse a pending device.")
_resolve("device.pair.remove", "deviceId", "Forget an approved device (its sessions are closed).")
