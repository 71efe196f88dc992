"""`openclaw mcp`: the MCP servers in `mcp.servers`. `list`, `show` and `doctor` read the config;
only `doctor --probe` connects (from this process, inside the same fence the gateway uses);
`set` and `unset` write through the config store (validated, atomic, under its lock)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from openclaw.cli.output import json_option, print_json, short_path


@click.group(help="Configured MCP servers: list, show, check and probe them, set or remove one.")
def mcp() -> None:
    pass


def _raw_servers() -> tuple[Any, dict[str, Any]]:
    from openclaw.config.store import read_config
    from openclaw.errors import ConfigError
    from openclaw.profiles.paths import resolve_paths

    paths = resolve_paths(os.environ)
    snap = read_config(paths.config_path, os.environ, validate=False)
    broken = [i for i in snap.issues if i.path in ("<file>", "<root>")]
    if broken:
        raise ConfigError(f"{paths.config_path}: {broken[0].message}")
    servers = (snap.data.get("mcp") or {}).get("servers") if isinstance(snap.data.get("mcp"), dict) else None
    return paths.config_path, dict(servers) if isinstance(servers, dict) else {}


def _redacted(entry: Any) -> Any:
    from openclaw.mcp.config import secret_name

    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    for key in ("headers", "env"):
        if isinstance(out.get(key), dict):
            out[key] = {k: "[redacted]" if secret_name(k) else v for k, v in out[key].items()}
    return out


@mcp.command("list", help="The configured servers, sorted by name.")
@json_option
def list_cmd(as_json: bool) -> None:
    from openclaw.mcp.config import read_server

    path, servers = _raw_servers()
    if as_json:
        print_json({name: servers[name] for name in sorted(servers)})
        return
    if not servers:
        click.echo(f"No MCP servers in {short_path(path)} (add one with `openclaw mcp set NAME JSON`).")
        return
    click.echo(f"MCP servers ({short_path(path)}):")
    for name in sorted(servers):
        entry = read_server(name, servers[name] if isinstance(servers[name], dict) else {})
        state = "" if entry.enabled else " (disabled)"
        problem = f"  ! {entry.problem}" if entry.problem else ""
        click.echo(f"- {name}: {entry.transport} {entry.describe()}{state}{problem}")


@mcp.command("show", help="One server's entry (or every entry) as written in the config.")
@click.argument("name", required=False)
@json_option
def show_cmd(name: str | None, as_json: bool) -> None:
    from openclaw.errors import OpenClawError

    _, servers = _raw_servers()
    if name is not None and name not in servers:
        known = ", ".join(sorted(servers)) or "none"
        raise OpenClawError(f"no MCP server named {name!r} (configured: {known})")
    data = servers[name] if name is not None else {n: servers[n] for n in sorted(servers)}
    print_json(data if as_json else (_redacted(data) if name else {k: _redacted(v) for k, v in data.items()}))


@mcp.command(help="How each server would be reached (transport, command or URL, limits, filters); no connecting.")
@json_option
def status(as_json: bool) -> None:
    from openclaw.mcp.config import servers
    from openclaw.mcp.config import status as describe

    path, config = _view(validate=False)
    rows = [describe(s) for s in servers(config)]
    if as_json:
        print_json({"path": str(path), "servers": rows})
        return
    click.echo(f"MCP servers ({short_path(path)}):" if rows else f"No MCP servers in {short_path(path)}.")
    for row in rows:
        state = "" if row["enabled"] else ", disabled"
        problem = f"  ! {row['error']}" if "error" in row else ""
        click.echo(f"- {row['name']}: {row['launch']} (timeouts {row['connectionTimeoutMs']} ms / "
                   f"{row['requestTimeoutMs']} ms{state}){problem}")


@mcp.command(help="Connect to each enabled server (or NAME), list its tools and print what it offers.")
@click.argument("name", required=False)
@json_option
def probe(name: str | None, as_json: bool) -> None:
    import asyncio
    import time

    from openclaw.errors import OpenClawError
    from openclaw.mcp.config import servers
    from openclaw.mcp.report import probe as run_probe
    from openclaw.profiles.paths import resolve_paths

    path, config = _view()
    chosen = [s for s in servers(config) if name is None or s.name == name]
    if name is not None and not chosen:
        raise OpenClawError(f"no MCP server named {name!r} (see `openclaw mcp list`)")
    if name is not None and not chosen[0].enabled:
        raise OpenClawError(f"{name} is disabled; enable it with `openclaw config set mcp.servers.{name}.enabled true`")
    paths = resolve_paths(os.environ)
    found, tools, diagnostics = {}, [], []
    for server in (s for s in chosen if s.usable):
        result = asyncio.run(run_probe(server, paths, config, os.environ))
        found[server.name] = {"launch": f"{server.transport} {server.describe()}", "tools": len(result.tools),
                              "connectMs": round(result.connect_ms), "ok": result.ok}
        tools += result.tools
        if not result.ok:
            diagnostics.append(f"{server.name}: {result.error}")
    if as_json:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        print_json({"generatedAt": stamp, "servers": found, "tools": sorted(tools), "diagnostics": diagnostics})
    elif not found:
        click.echo(f"No enabled MCP servers to probe in {short_path(path)}.")
    else:
        for server_name, entry in found.items():
            click.echo(f"- {server_name}: " + (f"{entry['tools']} tools in {entry['connectMs']} ms" if entry["ok"]
                                               else "did not connect"))
        for line in diagnostics:
            click.echo(f"! {line}")
    if diagnostics:
        raise SystemExit(1)


def _view(validate: bool = True) -> tuple[Any, Any]:
    """The config path and view; validated (exit 78 when invalid) unless only read for display."""
    from openclaw.config.store import load_valid_config, read_view
    from openclaw.profiles.paths import resolve_paths

    path = resolve_paths(os.environ).config_path
    return path, load_valid_config(path, os.environ).view() if validate else read_view(path, os.environ)


@mcp.command(help="Check each entry (command found, folder present, literal secrets); --probe also connects, "
                  "lists the tools and times both. Exits 1 when an enabled server has an error.")
@click.argument("name", required=False)
@click.option("--probe", is_flag=True, help="Connect to each enabled server and list its tools.")
@json_option
def doctor(name: str | None, probe: bool, as_json: bool) -> None:
    import asyncio

    from openclaw.agents.workspace import agent_workspace
    from openclaw.config.store import load_valid_config
    from openclaw.errors import OpenClawError
    from openclaw.mcp.config import servers
    from openclaw.mcp.report import check
    from openclaw.profiles.paths import resolve_paths

    paths = resolve_paths(os.environ)
    snap = load_valid_config(paths.config_path, os.environ)
    config = snap.view()
    entries = servers(config)
    if name is not None:
        entries = [s for s in entries if s.name == name]
        if not entries:
            raise OpenClawError(f"no MCP server named {name!r} (see `openclaw mcp list`)")
    workspace = agent_workspace(config, paths, dict(os.environ), config.default_agent_id)
    written = (snap.data.get("mcp") or {}).get("servers") or {}  # as written: ${VAR} references unresolved
    reports = []
    for server in entries:
        issues = check(server, written.get(server.name) or {}, os.environ, workspace)
        report: dict[str, Any] = {"name": server.name, "issues": [i.as_dict() for i in issues]}
        if probe and server.usable and not any(i.level == "error" for i in issues):
            from openclaw.mcp.report import probe as run_probe

            result = asyncio.run(run_probe(server, paths, config, os.environ))
            report["probe"] = result.as_dict()
            if not result.ok:
                report["issues"].append({"level": "error", "message": f"probe failed: {result.error}"})
        report["ok"] = not (server.enabled and any(i["level"] == "error" for i in report["issues"]))
        reports.append(report)
    ok = all(r["ok"] for r in reports)
    if as_json:
        print_json({"path": str(paths.config_path), "ok": ok, "servers": reports})
    else:
        _print_doctor(paths.config_path, reports, ok)
    if not ok:
        raise SystemExit(1)


def _print_doctor(path: Any, reports: list[dict[str, Any]], ok: bool) -> None:
    click.echo(f"MCP doctor ({short_path(path)}):")
    if not reports:
        click.echo("No MCP servers configured.")
    for report in reports:
        click.echo(f"- {report['name']}: {'ok' if report['ok'] else 'issues'}")
        for issue in report["issues"]:
            mark = "!" if issue["level"] == "error" else "-"
            click.echo(f"  {mark} {issue['level']}: {issue['message']}")
        found = report.get("probe")
        if found and found["ok"]:
            names = ", ".join(found["tools"]) or "none"
            timing = f"connect {found['connectMs']:.0f} ms, tools/list {found['listMs']:.0f} ms"
            click.echo(f"  - probe: {len(found['tools'])} of {found['listed']} tools ({timing}): {names}")
    click.echo("MCP doctor found no errors." if ok else "MCP doctor found errors.")


@mcp.command(help="Add a server from flags; it is probed (connected, tools listed) before it is saved.")
@click.argument("name")
@click.option("--command", help="The program of a stdio server.")
@click.option("--arg", "args", multiple=True, help="An argument of the command (repeatable).")
@click.option("--env", "env", multiple=True, help="KEY=VALUE for the stdio server (repeatable).")
@click.option("--cwd", help="The stdio server's folder (relative: the agent's workspace).")
@click.option("--url", help="An HTTP server's URL.")
@click.option("--transport", type=click.Choice(["streamable-http", "sse"]), help="HTTP transport (default: sse).")
@click.option("--header", "headers", multiple=True, help="KEY=VALUE sent to the HTTP server (repeatable).")
@click.option("--connect-timeout", type=float, help="Seconds to connect (default 30).")
@click.option("--timeout", type=float, help="Seconds per request (default 60).")
@click.option("--include", help="Comma-separated tool names or * globs to offer.")
@click.option("--exclude", help="Comma-separated tool names or * globs to hide.")
@click.option("--disabled", is_flag=True, help="Save it switched off.")
@click.option("--no-probe", is_flag=True, help="Save without connecting first.")
@json_option
def add(name: str, command: str | None, args: tuple[str, ...], env: tuple[str, ...], cwd: str | None,
        url: str | None, transport: str | None, headers: tuple[str, ...], connect_timeout: float | None,
        timeout: float | None, include: str | None, exclude: str | None, disabled: bool, no_probe: bool,
        as_json: bool) -> None:
    import asyncio

    from openclaw.config.store import read_view
    from openclaw.errors import OpenClawError, UsageError
    from openclaw.mcp.config import read_server
    from openclaw.mcp.entry import EntryError, build_entry
    from openclaw.profiles.paths import resolve_paths

    try:
        entry = build_entry(command, args, env, cwd, url, transport, headers, connect_timeout, timeout, include,
                            exclude, disabled)
    except EntryError as exc:
        raise UsageError(str(exc)) from None
    _, servers = _raw_servers()
    if name in servers:
        raise OpenClawError(f"an MCP server named {name!r} exists; replace it with `openclaw mcp set {name} JSON` "
                            f"or remove it with `openclaw mcp unset {name}`")
    server = read_server(name, entry)
    if server.problem:
        raise UsageError(server.problem)
    _refuse_start_up_env(name, entry)
    if not (no_probe or disabled):
        from openclaw.mcp.report import probe

        paths = resolve_paths(os.environ)
        result = asyncio.run(probe(server, paths, read_view(paths.config_path, os.environ), os.environ))
        if not result.ok:
            raise OpenClawError(f"{name} did not answer: {result.error} (nothing saved; --no-probe saves anyway)")
        if not as_json:
            click.echo(f"{name}: {len(result.tools)} tools ({', '.join(result.tools) or 'none'})")

    def mutate(data: dict[str, Any]) -> None:
        data.setdefault("mcp", {}).setdefault("servers", {})[name] = entry

    _write(mutate, f"MCP server {name} added", as_json)


def _refuse_start_up_env(name: str, entry: dict[str, Any]) -> None:
    """Never write an entry whose `env` a start would drop (a running gateway drops them, as upstream)."""
    from openclaw.errors import ConfigError
    from openclaw.mcp.config import read_server

    dropped = read_server(name, entry).dropped_env
    if dropped:
        raise ConfigError(f"env {', '.join(dropped)} would make the server's program load code it was not given; "
                          "remove it (interpreter, loader and shell start-up keys are refused)")


@mcp.command("set", help="Add or replace a server: NAME and its entry as JSON, e.g. "
                         '\'{"command": "uvx", "args": ["mcp-server-fetch"]}\'.')
@click.argument("name")
@click.argument("entry")
@json_option
def set_cmd(name: str, entry: str, as_json: bool) -> None:
    from openclaw.errors import UsageError

    try:
        value = json.loads(entry)
    except ValueError as exc:
        raise UsageError(f"the entry is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("the entry must be a JSON object such as {\"command\": \"...\"} or {\"url\": \"...\"}")

    _refuse_start_up_env(name, value)

    def mutate(data: dict[str, Any]) -> None:
        section = data.setdefault("mcp", {})
        section.setdefault("servers", {})[name] = value

    _write(mutate, f"MCP server {name} saved", as_json)


@mcp.command("unset", help="Remove a server from the config (an unknown name is an error).")
@click.argument("name")
@json_option
def unset_cmd(name: str, as_json: bool) -> None:
    from openclaw.errors import OpenClawError

    def mutate(data: dict[str, Any]) -> None:
        servers = (data.get("mcp") or {}).get("servers") if isinstance(data.get("mcp"), dict) else None
        if not isinstance(servers, dict) or name not in servers:
            raise OpenClawError(f"no MCP server named {name!r} (see `openclaw mcp list`)")
        del servers[name]

    _write(mutate, f"MCP server {name} removed", as_json)


def _write(mutate: Any, done: str, as_json: bool) -> None:
    from openclaw.config.store import update_config
    from openclaw.ports.instances import isolation_check
    from openclaw.profiles.paths import resolve_paths

    paths = resolve_paths(os.environ)
    update = update_config(paths.config_path, mutate, os.environ, check=isolation_check(paths, os.environ))
    if as_json:
        print_json({"ok": True, "path": str(paths.config_path), "changed": update.changed})
        return
    click.echo(f"{done} in {short_path(paths.config_path)}." if update.changed else "No change.")
    click.echo("A running gateway applies it without restarting.")
