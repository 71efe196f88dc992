"""`openclaw gateways`: every instance on this host, its ports, state and collisions."""

from __future__ import annotations

from pathlib import Path

import click

from openclaw.cli.output import json_option, ok_mark, print_json, short_path, style, table
from openclaw.ports.instances import Instance, check_health, discover_instances
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
    listening = listening_ports()
    annotate_collisions(instances, listening)
    for inst in instances:
        if inst.running and listening is not None:
            inst.listening = {"control": inst.footprint.control in listening,
                              "canvas": inst.footprint.canvas in listening}
    services = {str(i.state_dir): _service_state(i, current.home) for i in instances}
    if as_json:
        print_json({"instances": [{**i.as_dict(), "service": services[str(i.state_dir)]} for i in instances]})
        return
    if not instances:
        click.echo("No instances found. Create one with: openclaw setup (or openclaw --profile NAME setup)")
        return
    rows = []
    for inst in instances:
        collisions = "; ".join(c.describe() for c in inst.collisions)
        browsers = ", ".join(f"{p['name']}:{p['cdpPort'] or 'remote'}" for p in inst.browser_profiles) or "-"
        rows.append([
            inst.name, short_path(inst.state_dir), inst.base, _port(inst, "control"), _port(inst, "canvas"),
            inst.footprint.cdp_label, browsers, inst.pid or "-", ok_mark(inst.healthy if inst.running else None),
            services[str(inst.state_dir)] or "-", style(collisions, fg="red") if collisions else "none",
        ])
    table(["PROFILE", "STATE DIR", "BASE", "CONTROL", "CANVAS", "CDP", "BROWSERS", "PID", "HEALTHY", "SERVICE",
           "COLLISIONS"], rows)


def _port(inst: Instance, role: str) -> str:
    """The port, marked `*` when a running instance listens on it."""
    port = inst.footprint.control if role == "control" else inst.footprint.canvas
    return f"{port}*" if inst.listening.get(role) else str(port)


def _service_state(inst: Instance, home: Path) -> str | None:
    """`installed` when this instance's service definition exists (a file check, no subprocess)."""
    from openclaw.services.lifecycle import definition_exists

    if inst.profile is None and inst.state_dir != home / ".openclaw":
        return None
    return "installed" if definition_exists(inst.paths(home)) else None
