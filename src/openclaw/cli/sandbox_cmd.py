"""`openclaw sandbox explain`: where this instance's agent tools may reach, and why."""

from __future__ import annotations

import os

import click

from openclaw.cli.output import json_option, print_json


@click.group(help="Inspect the fence and sandbox around the agent's tools.")
def sandbox() -> None:
    pass


@sandbox.command(
    help="Print the effective fence and sandbox policy, the mounts tools see, and the keys that change them.")
@click.option("--agent", "agent_id", help="The agent (default: the instance's default agent).")
@click.option("--session", help="A session key or short name (main, or e.g. telegram:direct:123).")
@json_option
def explain(agent_id: str | None, session: str | None, as_json: bool) -> None:
    from openclaw.config.store import read_view
    from openclaw.errors import UsageError
    from openclaw.profiles.paths import resolve_paths
    from openclaw.sandbox.explain import explain as build
    from openclaw.sandbox.explain import render

    paths = resolve_paths(os.environ)
    config = read_view(paths.config_path, os.environ)
    ids = [a.id for a in config.agents]
    if agent_id and agent_id not in ids:
        raise UsageError(f"unknown agent {agent_id!r} (agents: {', '.join(ids)})")
    data = build(paths, config, os.environ, agent_id or config.default_agent_id, session)
    if as_json:
        print_json(data)
        return
    for line in render(data):
        click.echo(line)
