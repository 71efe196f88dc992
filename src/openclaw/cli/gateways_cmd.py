"""`openclaw gateways`: every instance on this host, its ports, state and collisions; then the
port neighbours (gateways other HOMEs run here), for the ports they hold."""

from __future__ import annotations

import os

import click

from openclaw.cli.output import json_option, ok_mark, print_json, short_path, style, table
from openclaw.ports.footprint import format_ports
from openclaw.ports.instances import Instance
from openclaw.profiles.paths import resolve_paths
from openclaw.rescue.survey import survey


@click.command(help="List every instance on this host with its ports, pid, health and collisions.")
@json_option
def gateways(as_json: bool) -> None:
    surveyed, neighbours = survey(resolve_paths(os.environ), os.environ)
    if as_json:
        print_json({"instances": [{**i.as_dict(), "service": service} for i, service in surveyed],
                    "neighbours": [n.as_dict() for n in neighbours]})
        return
    if not surveyed:
        click.echo("No instances found. Create one with: openclaw setup (or openclaw --profile NAME setup)")
    else:
        _instances(surveyed)
    if neighbours:
        click.echo("\nPort neighbours (gateways of other HOMEs on this host; not managed from here):")
        table(["PROFILE", "HOME", "PORTS", "PID"],
              [[n.name, short_path(n.home) if n.home else "-", format_ports(sorted(n.footprint.ports())), n.pid or "-"]
               for n in neighbours])


def _instances(surveyed: list[tuple[Instance, str | None]]) -> None:
    rows = []
    for inst, service in surveyed:
        collisions = "; ".join(c.describe() for c in inst.collisions)
        browsers = ", ".join(f"{p['name']}:{p['cdpPort'] or 'remote'}" for p in inst.browser_profiles) or "-"
        rows.append([
            inst.name + (" (upstream)" if inst.implementation == "upstream" else ""), short_path(inst.state_dir),
            _port(inst, "base"), _port(inst, "control"), _port(inst, "canvas"),
            inst.footprint.cdp_label, browsers, inst.pid or "-", ok_mark(inst.healthy if inst.running else None),
            service or "-", style(collisions, fg="red") if collisions else "none",
        ])
    table(["PROFILE", "STATE DIR", "BASE", "CONTROL", "CANVAS", "CDP", "BROWSERS", "PID", "HEALTHY", "SERVICE",
           "COLLISIONS"], rows)


def _port(inst: Instance, role: str) -> str:
    """The port, marked `*` when a running instance listens on it."""
    port = {"base": inst.footprint.base, "control": inst.footprint.control, "canvas": inst.footprint.canvas}[role]
    return f"{port}*" if inst.listening.get(role) else str(port)
