"""`openclaw status`: one overview of this profile's gateway."""

from __future__ import annotations

from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.health_cmd import model_line
from openclaw.cli.output import json_option, print_json, short_path, table
from openclaw.cli.rpc_common import call, connect_for_capability, target_from


def _duration(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _local_footprint(target: Any) -> dict[str, Any]:
    """The footprint this host plans for the target's port (what an upstream gateway there holds)."""
    if not target.port:
        return {}
    from openclaw.ports.footprint import footprint_for

    return footprint_for(target.port).as_dict()


def _uptime(status: dict[str, Any], hello: dict[str, Any]) -> str:
    ms = status.get("uptimeMs") or (hello.get("snapshot") or {}).get("uptimeMs")
    return _duration(int(ms)) if ms else "?"


def overview_rows(target: Any, latency: int, able: str, hello: dict[str, Any], me: dict[str, Any],
                  status: dict[str, Any]) -> list[tuple[str, str]]:
    gw = status.get("gateway") or {}
    ports = gw.get("ports") or _local_footprint(target)  # upstream's gateway does not report ports
    auth = hello.get("auth") or {}
    agents = (status.get("cliProjection") or {}).get("agents", {}).get("rows") or []
    cdp = ports.get("cdpRange") or ["?", "?"]
    return [
        ("Gateway", f"{'remote' if target.port_source == 'remote' else 'local'} · {target.url} "
                    f"({target.port_source}) · reachable {latency}ms · auth {auth.get('method', '?')} · {able}"),
        ("Gateway self", f"{me.get('host', '?')} ({me.get('ip', '?')}) · app {me.get('version', '?')} · "
                         f"pid {status.get('pid', '?')} · up {_uptime(status, hello)}"),
        ("Profile", str(gw.get("profile", target.paths.name))),
        ("Config", short_path(gw.get("configPath") or target.paths.config_path)),
        ("State dir", short_path(gw.get("stateDir") or target.paths.state_dir)),
        ("Ports", f"gateway {gw.get('port', target.port or '?')} · browser control {ports.get('control', '?')} · "
                  f"canvas {ports.get('canvas', '?')} · CDP {cdp[0]}-{cdp[1]}"),
        *_sidecar_rows(gw),
        ("Agents", ", ".join(a["id"] for a in agents) or "main"),
        ("Model", model_line(status.get("modelRuntime"), status)),
        ("Sessions", f"{(status.get('sessions') or {}).get('count', 0)} active"),
        ("Channels", ", ".join(c.get("id", "?") for c in status.get("channelSummary") or []) or "none configured"),
    ]


def _sidecar_rows(gw: dict[str, Any]) -> list[tuple[str, str]]:
    browser, canvas = gw.get("browser"), gw.get("canvas")
    rows = []
    if browser:
        state = ("listening" if browser.get("listening")
                 else "disabled" if not browser.get("enabled") else "not listening")
        rows.append(("Browser control", f"http://127.0.0.1:{browser['controlPort']}/ · {state}"))
        profiles = [f"{p['name']} ("
                    f"{'cdp ' + str(p['cdpPort']) if p['cdpPort'] else p['cdpUrl'] or 'port at first start'}"
                    f"{', running' if p['running'] else ''})" for p in browser.get("profiles", [])]
        rows.append(("Browser profiles", ", ".join(profiles) or "none"))
    if canvas:
        rows.append(("Canvas", f"{canvas['url']} · {'listening' if canvas['listening'] else 'not listening'} · "
                               f"{short_path(canvas['root'])}"))
    return rows


@click.command(help="Overview of this profile's gateway (reachability, identity, ports, agents).")
@rpc_options
@json_option
def status(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    target = target_from(url, token, password)
    client, able = connect_for_capability(target, timeout)
    latency = int(client.connect_ms)
    try:
        presence = call(client, target, "system-presence")
        payload = call(client, target, "status", {"includeChannelSummary": False, "includeCliProjection": True})
    finally:
        client.close()
    hello = client.hello or {}
    me: dict[str, Any] = next((p for p in presence if p.get("mode") == "gateway" and p.get("reason") == "self"),
                              {})
    if as_json:
        print_json({"ok": True, "profile": target.paths.name,
                    "gateway": {"url": target.url, "reachable": True, "latencyMs": latency, "capability": able,
                                "auth": hello.get("auth"), "server": hello.get("server")},
                    "self": me, "status": payload})
        return
    click.echo(f"OpenClaw status (profile {target.paths.name})")
    table(["Item", "Value"], overview_rows(target, latency, able, hello, me, payload))
