"""`openclaw fleet up|status|down|restart`: many isolated gateways from one warm supervisor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from openclaw.cli.output import json_option, print_json, short_path, table
from openclaw.errors import OpenClawError
from openclaw.fleet.members import DEFAULT_PREFIX
from openclaw.profiles.env import resolve_home

prefix_option = click.option("--prefix", default=DEFAULT_PREFIX, show_default=True,
                             help="The fleet's name; its members are profiles PREFIX-1 .. PREFIX-N.")


@click.group(help="Run many isolated gateways (members PREFIX-1..N) from one supervisor.")
def fleet() -> None:
    pass


@fleet.command("up", help="Make N members (profiles, configs, tokens, ports) and start them all.")
@click.argument("count", type=click.IntRange(1, None))
@prefix_option
@click.option("--model", metavar="REF", help="Every member's default model (provider/model).")
@click.option("--from-config", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A config each new member starts from (its port, token and workspace are its own).")
@click.option("--base-port", type=click.IntRange(1024, 65000), help="Plan member ports from here up.")
@click.option("--memory", metavar="SIZE", help="Memory per member, e.g. 256M or 1G (cgroup v2, else RLIMIT_AS).")
@click.option("--open-files", type=int, metavar="N", help="Open files per member (RLIMIT_NOFILE).")
@click.option("--agent-concurrency", type=int, metavar="N", help="Agent runs at once per member.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120, show_default=True,
              help="Seconds to wait for every member to serve.")
@json_option
def up(count: int, prefix: str, model: str | None, from_config: Path | None, base_port: int | None,
       memory: str | None, open_files: int | None, agent_concurrency: int | None, timeout: float,
       as_json: bool) -> None:
    from openclaw.fleet import launch
    from openclaw.fleet.members import check_count, fleet_files

    files = fleet_files(prefix, resolve_home(os.environ))
    limits, overrides = launch.limits_asked(memory, open_files, agent_concurrency)
    req = launch.FleetRequest(check_count(count), files.prefix, model, from_config, base_port, limits, overrides)
    _supervisor, record, ready = launch.up(files, req, os.environ, timeout)
    report: dict[str, Any] = {"ok": True, "prefix": files.prefix,
              "supervisor": {"pid": ready.get("pid"), "socket": record["socket"], "log": record["log"]},
              "limits": limits, "members": launch.merge_report(record, ready)}
    failed = [m["name"] for m in report["members"] if m["state"] != "serving"]
    report["ok"] = not failed
    _show(report, as_json)
    if failed and as_json:
        raise SystemExit(1)
    if failed:
        raise OpenClawError(f"{len(failed)} of {count} members are not serving: {', '.join(failed[:10])}; "
                            "see each member's logs/fleet-console.log")


@fleet.command("status", help="Each member's state, pid, restarts and URL.")
@prefix_option
@json_option
def status(prefix: str, as_json: bool) -> None:
    from openclaw.fleet import launch
    from openclaw.fleet.members import fleet_files

    report = launch.status(fleet_files(prefix, resolve_home(os.environ)))
    _show(report, as_json)


@fleet.command("down", help="Stop every member and the supervisor; --purge also removes the members.")
@prefix_option
@click.option("--purge", is_flag=True, help="Also delete the members' state dirs and workspaces.")
@json_option
def down(prefix: str, purge: bool, as_json: bool) -> None:
    from openclaw.fleet import launch
    from openclaw.fleet.members import fleet_files

    result = launch.down(fleet_files(prefix, resolve_home(os.environ)), purge=purge)
    if as_json:
        print_json(result)
        return
    if not result["wasRunning"]:
        click.echo(f"fleet {prefix} was not running")
    else:
        click.echo(f"fleet {prefix} down: {len(result['stopped'])} members stopped")
    if purge:
        click.echo(f"purged {len(result['purged'])} members")


@fleet.command("restart", help="Restart one member (also one left down as stopped or crash-looping).")
@click.argument("name")
@prefix_option
@json_option
def restart(name: str, prefix: str, as_json: bool) -> None:
    from openclaw.fleet import launch
    from openclaw.fleet.control import request
    from openclaw.fleet.members import fleet_files

    files = fleet_files(prefix, resolve_home(os.environ))
    record = launch.supervisor_alive(files)
    if record is None:
        raise OpenClawError(f"fleet {prefix} is not running; `openclaw fleet up N --prefix {prefix}` starts it")
    answer = request(Path(record["socket"]), "restart", name=name)
    if not answer.get("ok"):
        raise OpenClawError(f"fleet restart: {answer.get('error')}")
    if as_json:
        print_json(answer)
    else:
        click.echo(f"{name}: restarting")


def _show(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    rows = [[m["name"], m["state"], m["pid"] or "-", m["url"], m["ports"].get("base"),
             m["restarts"], m["lastExit"] or "-", short_path(m["stateDir"])] for m in report["members"]]
    table(["MEMBER", "STATE", "PID", "URL", "BASE", "RESTARTS", "LAST EXIT", "STATE DIR"], rows)
    sup = report.get("supervisor")
    if sup:
        click.echo(f"supervisor pid {sup.get('pid')}; log {short_path(sup.get('log') or report.get('log'))}")
    elif "running" in report and not report["running"]:
        click.echo(f"fleet {report['prefix']} is not running (`openclaw fleet up N --prefix {report['prefix']}`)")
    click.echo("tokens: each member's config, gateway.auth.token (openclaw --profile MEMBER config get ...)")
