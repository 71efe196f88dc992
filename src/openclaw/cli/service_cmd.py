"""`openclaw gateway install|uninstall|start|stop|restart`: the profile's managed service."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import click

from openclaw.cli.output import json_option, print_json
from openclaw.profiles.paths import resolve_paths
from openclaw.services import lifecycle
from openclaw.services.base import ServiceError

wait_option = click.option("--wait", type=click.FloatRange(0, 600), default=lifecycle.HEALTH_WAIT_S,
                           show_default=True, help="Seconds to wait for /healthz before reporting (0: don't).")


def _report(action: str, as_json: bool, call: Callable[[], lifecycle.ServiceResult]) -> None:
    try:
        result = call()
    except ServiceError as exc:
        if as_json:
            click.echo(json.dumps({"action": action, "ok": False, "error": str(exc), "hints": exc.hints}))
            raise SystemExit(exc.exit_code) from None
        raise
    if as_json:
        print_json(result.as_dict())
        return
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for line in result.messages:
        click.echo(line)


@click.command("install", help="Install and start this profile's gateway as a user service.")
@click.option("--port", type=click.IntRange(1, 65535), help="Base port (recorded in config and the service).")
@click.option("--force", is_flag=True, help="Reinstall even if installed; accept an overlapping footprint.")
@json_option
def install(port: int | None, force: bool, as_json: bool) -> None:
    _report("install", as_json,
            lambda: lifecycle.install(resolve_paths(os.environ), os.environ, port=port, force=force))


@click.command("uninstall", help="Stop and remove this profile's gateway service.")
@json_option
def uninstall(as_json: bool) -> None:
    _report("uninstall", as_json, lambda: lifecycle.uninstall(resolve_paths(os.environ), os.environ))


@click.command("start", help="Start the installed service and wait until the gateway is healthy.")
@wait_option
@json_option
def start(wait: float, as_json: bool) -> None:
    _report("start", as_json, lambda: lifecycle.start(resolve_paths(os.environ), os.environ, wait=wait))


@click.command("stop", help="Stop the installed service.")
@json_option
def stop(as_json: bool) -> None:
    _report("stop", as_json, lambda: lifecycle.stop(resolve_paths(os.environ), os.environ))


@click.command("restart", help="Restart the installed service and wait until the gateway is healthy.")
@wait_option
@json_option
def restart(wait: float, as_json: bool) -> None:
    _report("restart", as_json, lambda: lifecycle.restart(resolve_paths(os.environ), os.environ, wait=wait))
