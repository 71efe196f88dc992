"""`openclaw logs`: tail the gateway's log over RPC (or straight from the file with --local)."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.rpc_common import call, connect, down_error, target_from
from openclaw.client.rpc import GatewayUnreachable
from openclaw.logtail import format_log_line, read_tail
from openclaw.profiles.paths import resolve_paths
from openclaw.retry import Backoff

RECONNECTS = 8
RECONNECT_BACKOFF = Backoff(base_s=1.0, cap_s=30.0)


def emit(lines: list[str], as_json: bool) -> None:
    for line in lines:
        click.echo(line if as_json else format_log_line(line))


@click.command(help="Show the gateway's logs; --follow keeps streaming.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines.")
@click.option("--limit", type=click.IntRange(1, 5000), default=200, show_default=True, help="Lines to show.")
@click.option("--max-bytes", type=click.IntRange(1, 1_000_000), default=250_000, show_default=True)
@click.option("--interval", type=click.IntRange(100, 60_000), default=1000, show_default=True,
              help="Polling interval in ms with --follow.")
@click.option("--local", is_flag=True, help="Read the log file directly (works while the gateway is down).")
@click.option("--json", "as_json", is_flag=True, help="Print raw JSON lines.")
@rpc_options
def logs(follow: bool, limit: int, max_bytes: int, interval: int, local: bool, as_json: bool,
         url: str | None, token: str | None, password: str | None, timeout: int) -> None:
    if local:
        _local(limit, max_bytes, interval, follow, as_json)
        return
    target = target_from(url, token, password)
    client = connect(target, timeout, scopes=["operator.read"])
    params: dict[str, Any] = {"limit": limit, "maxBytes": max_bytes}
    try:
        result = call(client, target, "logs.tail", params)
        emit(result["lines"], as_json)
        while follow:
            time.sleep(interval / 1000)
            try:
                result = client.call("logs.tail", {"cursor": result["cursor"], "maxBytes": max_bytes})
            except GatewayUnreachable:
                client = _reconnect(target, timeout)
                click.echo("[logs] gateway reconnected", err=True)
                continue
            emit(result["lines"], as_json)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()


def _reconnect(target: Any, timeout: int) -> Any:
    waits = RECONNECT_BACKOFF.waits()
    for _ in range(RECONNECTS):
        try:
            return connect(target, timeout, scopes=["operator.read"])
        except Exception as exc:  # noqa: BLE001 - keep retrying, report the last failure
            last = exc
            time.sleep(waits.next())
    raise down_error(target, GatewayUnreachable(target.url, f"gave up after {RECONNECTS} reconnects: {last}"))


def _local(limit: int, max_bytes: int, interval: int, follow: bool, as_json: bool) -> None:
    from openclaw.logfile import log_path

    path = log_path(resolve_paths(os.environ).logs_dir)
    result = read_tail(path, None, limit, max_bytes)
    emit(result["lines"], as_json)
    try:
        while follow:
            time.sleep(interval / 1000)
            result = read_tail(path, result["cursor"], 5000, max_bytes)
            emit(result["lines"], as_json)
    except KeyboardInterrupt:
        pass
