"""`openclaw gateway status [--require-rpc] [--deep] [--json]`: runtime, service and connectivity."""

from __future__ import annotations

import os
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, kv, print_json, short_path
from openclaw.cli.rpc_common import call, connect_for_capability, target_from
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import InstancePaths, resolve_paths


def runtime_of(paths: InstancePaths) -> dict[str, Any]:
    """Whether this state dir's gateway runs: ours registers itself; upstream's is known by the
    owner record in the state-dir lock it holds."""
    from openclaw.ports.instances import lock_record
    from openclaw.ports.registry import record_for

    rec = record_for(paths.state_dir)
    if rec:
        return {"status": "running", "pid": rec["pid"], "port": rec["port"], "implementation": "python"}
    held = lock_record(paths)
    if held:
        ours = isinstance(held.get("startMarker"), str)
        return {"status": "running", "pid": held["pid"], "port": held["port"],
                "implementation": "python" if ours else "upstream"}
    return {"status": "stopped", "pid": None, "port": None}


def probe(target: Any, timeout: int, require_rpc: bool) -> dict[str, Any]:
    rpc: dict[str, Any] = {"ok": False, "url": target.url}
    try:
        # the CLI's own client and mode: a local shared-secret CLI keeps its scopes on upstream's
        # gateway too (a device-less `probe` client's scopes are cleared there)
        client, able = connect_for_capability(target, timeout, min_protocol=3, max_protocol=4)
    except OpenClawError as exc:
        rpc["error"] = str(exc)
        return rpc
    try:
        hello = client.hello or {}
        scopes = (hello.get("auth") or {}).get("scopes") or []
        rpc.update(ok=True, latencyMs=int(client.connect_ms), capability=able, scopes=scopes,
                   server=hello.get("server") or {})
        if require_rpc:
            payload = call(client, target, "status")
            rpc["status"] = {"ok": True, "runtimeVersion": payload.get("runtimeVersion")}
    except OpenClawError as exc:
        rpc.update(ok=False, error=str(exc))
    finally:
        client.close()
    return rpc


def service_lines(view: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    if not view.get("available"):
        return [("Service", f"none ({view.get('reason')})")]
    if not view.get("installed"):
        return [("Service", f"{view['label']}, not installed (install: {prefix} gateway install)")]
    state = f"{view['loadedText'] if view['loaded'] else view['notLoadedText']}, {view['state']}"
    if view.get("pid"):
        state += f", pid {view['pid']}"
    port = f"{view['installedPort']} (config {view['configPort']})"
    if view.get("drift"):
        port = (f"{view['installedPort']}, but config says {view['configPort']} (drift; fix: "
                f"{prefix} gateway install --force)")
    return [("Service", f"{view['label']} ({state})"), ("Service file", short_path(view["file"])),
            ("Service port", port)]


def _runtime_text(runtime: dict[str, Any]) -> str:
    if not runtime["pid"]:
        return "not running"
    who = ", upstream OpenClaw" if runtime.get("implementation") == "upstream" else ""
    return f"running (pid {runtime['pid']}{who})"


def deep_lines(services: list[dict[str, Any]]) -> list[str]:
    if not services:
        return ["Gateway-like services on this host: none"]
    out = ["Gateway-like services on this host:"]
    for svc in services:
        who = f"profile {svc['profile']}" if svc["profile"] else "default profile"
        out.append(f"  - {svc['name']} ({svc['scope']}, {short_path(svc['path'])}): port {svc['port'] or '?'}, {who}")
        out += [f"      ! {problem}" for problem in svc["problems"]]
    return out


@click.command("status", help="Runtime, managed service and connectivity of this profile's gateway (exit 1 when down).")
@click.option("--require-rpc", is_flag=True, help="Also require a read RPC (`status`) to succeed.")
@click.option("--deep", is_flag=True, help="Also scan for every gateway-like service on this host.")
@rpc_options
@json_option
def status(require_rpc: bool, deep: bool, url: str | None, token: str | None, password: str | None,
           timeout: int, as_json: bool) -> None:
    from openclaw.services.lifecycle import service_view

    paths = resolve_paths(os.environ)
    target = target_from(url, token, password)
    view = (service_view(paths, os.environ) if not target.explicit_url
            else {"available": False, "reason": "gateway.mode=remote" if target.port_source == "remote"
                  else "explicit --url"})
    rpc = probe(target, timeout, require_rpc)
    report: dict[str, Any] = {
        "ok": rpc["ok"], "profile": paths.name, "config": {"path": str(paths.config_path)},
        "gateway": {"probeUrl": target.url, "port": target.port, "portSource": target.port_source},
        "runtime": runtime_of(paths), "service": view, "rpc": rpc,
    }
    if deep:
        from openclaw.services.base import service_platform
        from openclaw.services.scan import scan_services

        report["services"] = [s.as_dict() for s in scan_services(paths.home, service_platform(os.environ), os.environ)]
    if as_json:
        print_json(report)
        raise SystemExit(0 if rpc["ok"] else 1)
    installed = bool(view.get("installed"))
    if not rpc["ok"] and not installed and not deep:
        raise OpenClawError(rpc["error"])  # down, nothing else to show: one line
    _print_human(report, rpc, paths, require_rpc)
    if not rpc["ok"]:
        raise OpenClawError(rpc["error"])


def _print_human(report: dict[str, Any], rpc: dict[str, Any], paths: InstancePaths, require_rpc: bool) -> None:
    prefix = paths.cli
    runtime = report["runtime"]
    lines = [
        ("Profile", paths.name),
        ("Config", short_path(paths.config_path)),
        ("Probe target", f"{report['gateway']['probeUrl']} ({report['gateway']['portSource']})"),
        *service_lines(report["service"], prefix),
        ("Runtime", _runtime_text(runtime)),
    ]
    if rpc["ok"]:
        lines += [("Connectivity probe", f"ok ({rpc['latencyMs']}ms)"), ("Capability", rpc["capability"]),
                  ("Gateway version", rpc["server"].get("version", "?"))]
        if require_rpc:
            lines.append(("RPC probe", "ok (status)"))
    else:
        lines.append(("Connectivity probe", "failed"))
    kv(lines)
    for line in deep_lines(report.get("services", [])) if "services" in report else []:
        click.echo(line)
