"""`openclaw cron ...`: scheduled agent turns, managed through the gateway that runs them."""

from __future__ import annotations

import time
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json, table
from openclaw.cli.rpc_common import call_once, target_from

ADMIN = ["operator.admin", "operator.read"]


def _call(url: str | None, token: str | None, password: str | None, timeout: int, method: str,
          params: dict[str, Any]) -> Any:
    return call_once(target_from(url, token, password), timeout, method, params, scopes=ADMIN)


def _when(ms: int | None) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) if ms else "-"
    except (OverflowError, ValueError, OSError, TypeError):  # a stored time beyond any calendar
        return str(ms)


@click.group(help="Scheduled agent turns (each in a fresh session), run by the gateway.")
def cron() -> None:
    pass


ADD_EPILOG = """\b
Schedules (exactly one):
  --every 10m              every 10 minutes (from 1s to 365d)
  --at 20m                 once, 20 minutes from now; or an ISO time such as
                           2026-12-01T09:00:00Z (after now, within 10 years)
  --cron "0 8 * * 1-5"     5 fields: minute hour day-of-month month day-of-week
  --cron "*/30 * * * * *"  6 fields: seconds first, then the five above
                           (here: every 30 seconds)
Names and cron expressions are one line, without control characters.
"""


@cron.command("add", help="Add a job: a schedule (--every, --at or --cron) and a --message for the agent.",
              epilog=ADD_EPILOG)
@click.option("--name", required=True, help="Job name (one line).")
@click.option("--every", help="Interval, e.g. 10m, 1h (1s to 365d).")
@click.option("--at", "at_", help="One shot: an ISO time or a duration from now (20m), within 10 years.")
@click.option("--cron", "expr", help="Cron expression: 5 fields, or 6 with seconds first.")
@click.option("--tz", help="IANA time zone for --cron (default: this host's).")
@click.option("--message", required=True, help="What the agent is asked each time.")
@click.option("--agent", help="Agent id (default: the default agent).")
@click.option("--model", help="Model for this job's turns (provider/model).")
@click.option("--announce", "--deliver", "announce", is_flag=True, help="Send the reply to --channel/--to.")
@click.option("--channel", default="telegram", show_default=True, help="Delivery channel.")
@click.option("--to", "to", help="Delivery target (a Telegram chat id).")
@click.option("--account", help="Channel account id for delivery.")
@click.option("--timeout-seconds", type=click.IntRange(0), help="Time limit for each turn.")
@click.option("--delete-after-run", is_flag=True, help="Delete a one-shot (--at) job after it succeeds.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@click.option("--description", help="Job description.")
@rpc_options
@json_option
def add(name: str, every: str | None, at_: str | None, expr: str | None, tz: str | None, message: str,
        agent: str | None, model: str | None, announce: bool, channel: str, to: str | None, account: str | None,
        timeout_seconds: int | None, delete_after_run: bool, disabled: bool, description: str | None, url: str | None,
        token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    from openclaw.cron.schedule import build, check_name, describe
    from openclaw.errors import UsageError

    check_name(name, "--name")
    schedule = build(every, at_, expr, tz)
    if announce and not to:
        raise UsageError("--announce needs --to (e.g. a Telegram chat id)")
    payload = {"kind": "agentTurn", "message": message, **({"model": model} if model else {})}
    params: dict[str, Any] = {"name": name, "schedule": schedule, "enabled": not disabled, "payload": payload}
    if announce:
        params["delivery"] = {"mode": "announce", "channel": channel, "to": to,
                              **({"accountId": account} if account else {})}
    for key, value in (("agentId", agent), ("timeoutSeconds", timeout_seconds), ("description", description)):
        if value is not None:
            params[key] = value
    if delete_after_run:
        params["deleteAfterRun"] = True
    job = _call(url, token, password, timeout, "cron.add", params)
    if as_json:
        print_json(job)
        return
    click.echo(f"added {job['name']} ({job['id']}): {describe(job['schedule'])}, "
               f"next {_when(job['state'].get('nextRunAtMs'))}")


@cron.command("list", help="Jobs, their schedules and last runs.")
@click.option("--all", "show_all", is_flag=True, help="Include disabled jobs.")
@rpc_options
@json_option
def list_cmd(show_all: bool, url: str | None, token: str | None, password: str | None, timeout: int,
             as_json: bool) -> None:
    from openclaw.cron.schedule import describe

    data = _call(url, token, password, timeout, "cron.list", {"includeDisabled": show_all})
    if as_json:
        print_json(data)
        return
    if not data["jobs"]:
        click.echo("No cron jobs. Add one with: openclaw cron add --name N --every 1h --message '...'")
        return
    table(["ID", "NAME", "SCHEDULE", "NEXT", "LAST", "STATUS"],
          [[j["id"][:8], j.get("displayName") or j["name"], describe(j["schedule"]),
            _when(j["state"].get("nextRunAtMs")), _when(j["state"].get("lastRunAtMs")),
            j["state"].get("lastStatus") or ("disabled" if not j.get("enabled", True) else "-")]
           for j in data["jobs"]])


@cron.command("status", help="The scheduler: jobs, next wake.")
@rpc_options
@json_option
def status_cmd(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    data = _call(url, token, password, timeout, "cron.status", {})
    if as_json:
        print_json(data)
        return
    click.echo(f"jobs: {data['jobs']} ({data['enabledJobs']} enabled), running: {data['running']}, "
               f"next wake: {_when(data['nextWakeAtMs'])}")


def _simple(name: str, method: str, help_text: str, extra: dict[str, Any] | None = None) -> None:
    @cron.command(name, help=help_text)
    @click.argument("job")
    @rpc_options
    @json_option
    def command(job: str, url: str | None, token: str | None, password: str | None, timeout: int,
                as_json: bool) -> None:
        params: dict[str, Any] = {"id": job, **(extra or {})}
        result = _call(url, token, password, timeout, method, params)
        if as_json:
            print_json(result)
        elif method == "cron.run":
            click.echo(f"ran {job}: {result.get('status') or result.get('reason')}"
                       + (f" ({result['error']})" if result.get("error") else ""))
        elif method == "cron.remove":
            click.echo(f"removed {job}")
        else:
            click.echo(f"{name}d {job}")


_simple("rm", "cron.remove", "Remove a job (by id or name).")
_simple("run", "cron.run", "Run a job now and wait for it.")
_simple("enable", "cron.update", "Enable a job.", {"patch": {"enabled": True}})
_simple("disable", "cron.update", "Disable a job.", {"patch": {"enabled": False}})


@cron.command("runs", help="A job's recent runs (or every job's).")
@click.argument("job", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@rpc_options
@json_option
def runs(job: str | None, limit: int, url: str | None, token: str | None, password: str | None, timeout: int,
         as_json: bool) -> None:
    data = _call(url, token, password, timeout, "cron.runs", {"limit": limit, **({"id": job} if job else {})})
    if as_json:
        print_json(data)
        return
    table(["WHEN", "JOB", "TRIGGER", "STATUS", "MS", "SUMMARY"],
          [[_when(r["ts"]), r["jobId"][:8], r["trigger"], r["status"], r["durationMs"],
            (r.get("summary") or r.get("error") or "")[:60]] for r in data["entries"]])
