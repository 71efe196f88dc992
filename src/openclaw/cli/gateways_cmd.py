"""`openclaw gateways`: every instance on this host, its ports, state and collisions."""

from __future__ import annotations

import click

from openclaw.cli.output import json_option, ok_mark, print_json, short_path, style, table
from openclaw.ports.instances import check_health, discover_instances
from openclaw.ports.planner import annotate_collisions
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.paths import resolve_paths


@click.command(help="List every instance on this host with its ports, pid, health and collisions.")
@json_option
def gateways(as_json: bool) -> None:
    current = resolve_paths()
    include = [current] if current.config_path.exists() else []
    instances = discover_instances(current.home, include=include)
    check_health(instances)
    annotate_collisions(instances, listening_ports())
    if as_json:
        print_json({"instances": [i.as_dict() for i in instances]})
        return
    if not instances:
        click.echo("No instances found. Create one with: openclaw setup (or openclaw --profile NAME setup)")
        return
    rows = []
    for inst in instances:
        collisions = "; ".join(c.describe() for c in inst.collisions)
        rows.append([
            inst.name, short_path(inst.state_dir), inst.base, inst.footprint.control, inst.footprint.canvas,
            inst.footprint.cdp_label, inst.pid or "-", ok_mark(inst.healthy if inst.running else None),
            style(collisions, fg="red") if collisions else "none",
        ])
    table(["PROFILE", "STATE DIR", "BASE", "CONTROL", "CANVAS", "CDP", "PID", "HEALTHY", "COLLISIONS"], rows)
