"""`openclaw system ...`: system events for the next heartbeat, and the heartbeat's switch and last
run, through the gateway (the same methods upstream's `openclaw system` calls)."""

from __future__ import annotations

import time
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json
from openclaw.cli.rpc_common import call_once, target_from

SCOPES = ["operator.admin", "operator.read", "operator.write"]


def _call(url: str | None, token: str | None, password: str | None, timeout: int, method: str,
          params: dict[str, Any] | None) -> Any:
    return call_once(target_from(url, token, password), timeout, method, params, scopes=SCOPES)


def describe(event: dict[str, Any] | None) -> str:
    """One line for a heartbeat event: when, what happened, where, why."""
    if not event:
        return "no heartbeat has run since the gateway started"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(event.get("ts") or 0) / 1000))
    where = f" to {event['channel']}:{event['to']}" if event.get("channel") and event.get("to") else ""
    why = f" ({event['reason']})" if event.get("reason") else ""
    text = f"{when} agent {event.get('agentId', '?')}: {event.get('status', '?')}{where}{why}, " \
           f"{event.get('durationMs', 0)} ms"
    if event.get("message"):
        text += f"\n  {event['message']}"
    if event.get("preview"):
        text += f"\n  {event['preview']}"
    return text


@click.group(help="System events and heartbeats of the running gateway.")
def system() -> None:
    pass


@system.command("event", help="Queue a system event for the next heartbeat (--mode now runs it at once).")
@click.option("--text", required=True, help="The event's text.")
@click.option("--mode", type=click.Choice(["now", "next-heartbeat"]), default="next-heartbeat", show_default=True,
              help="now: run a heartbeat at once; next-heartbeat: wait for the next one.")
@click.option("--session-key", help="The session whose heartbeat takes it (default: the main session).")
@rpc_options
@json_option
def event(text: str, mode: str, session_key: str | None, url: str | None, token: str | None, password: str | None,
          timeout: int, as_json: bool) -> None:
    from openclaw.errors import UsageError

    if not text.strip():
        raise UsageError('--text is required, e.g. openclaw system event --text "deploy finished"')
    params = {"mode": mode, "text": text.strip(), **({"sessionKey": session_key} if session_key else {})}
    result = _call(url, token, password, timeout, "wake", params)
    if as_json:
        print_json(result)
    else:
        click.echo("ok")


@system.group(help="The heartbeat: its last run, and the switch for all of them.")
def heartbeat() -> None:
    pass


@heartbeat.command("last", help="The last heartbeat event (since the gateway started).")
@rpc_options
@json_option
def last(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    result = _call(url, token, password, timeout, "last-heartbeat", None)
    if as_json:
        print_json(result)
    else:
        click.echo(describe(result))


def _switch(enabled: bool) -> None:
    @heartbeat.command("enable" if enabled else "disable",
                       help=f"{'Resume' if enabled else 'Pause'} heartbeats (until the gateway restarts).")
    @rpc_options
    @json_option
    def command(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
        result = _call(url, token, password, timeout, "set-heartbeats", {"enabled": enabled})
        if as_json:
            print_json(result)
        else:
            click.echo(f"heartbeats {'enabled' if result.get('enabled') else 'disabled'}")


_switch(True)
_switch(False)
