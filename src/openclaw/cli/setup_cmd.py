"""`openclaw setup`: create or complete an instance (config, port, token, workspace)."""

from __future__ import annotations

import os

import click

from openclaw.cli.output import json_option, print_json, short_path
from openclaw.ports.footprint import format_ports
from openclaw.profiles.paths import resolve_paths
from openclaw.provisioning.setup import setup_instance


@click.command(help="Create the state dir, config (gateway.mode=local, port, token) and workspace.")
@click.option("--port", type=click.IntRange(1, 65535), help="Base port (default: the lowest free footprint).")
@click.option("--workspace", help="Agent workspace directory.")
@click.option("--force", is_flag=True, help="Accept a port whose footprint overlaps another instance.")
@json_option
def setup(port: int | None, workspace: str | None, force: bool, as_json: bool) -> None:
    paths = resolve_paths(os.environ)
    result = setup_instance(paths, os.environ, port=port, workspace=workspace, force=force)
    if as_json:
        print_json(result.as_dict())
        return
    cfg = short_path(paths.config_path)
    if result.config_status == "created":
        click.echo(f"Wrote {cfg}")
    elif result.config_status == "updated":
        click.echo(f"Updated {cfg} ({', '.join(result.changes)})")
    else:
        click.echo(f"Config OK: {cfg}")
    created = f" (created {', '.join(result.workspace.created_files)})" if result.workspace.created_files else ""
    click.echo(f"Workspace OK: {short_path(result.workspace.path)}{created}")
    fp = result.footprint
    click.echo(
        f"Ports: gateway {fp.base} ({result.port_source}), browser control {fp.control}, canvas {fp.canvas}, "
        f"CDP {fp.cdp_label}"
    )
    for collision in result.collisions:
        click.echo(f"Warning: footprint overlaps {collision.other} on {format_ports(collision.ports)}", err=True)
    prefix = paths.cli
    click.echo("")
    click.echo(f"Setup complete for profile {paths.name}. Start it with: {prefix} gateway")
