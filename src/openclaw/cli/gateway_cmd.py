"""`openclaw gateway` (run in the foreground) and `gateway run|status|probe|call`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import click

from openclaw.cli.app import LazyGroup
from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, print_json
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import resolve_paths

BIND_CHOICES = click.Choice(["loopback", "lan", "tailnet", "auto", "custom"])


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option("--port", type=click.IntRange(1, 65535), help="Base port (overrides env and config)."),
            click.option("--bind", type=BIND_CHOICES, help="Bind mode (default: gateway.bind or loopback)."),
            click.option("--token", help="Shared token for this run."),
            click.option("--password", help="Shared password for this run."),
            click.option("--allow-unconfigured", is_flag=True, help="Start without gateway.mode=local."),
            click.option("--force", is_flag=True, help="Start even if the footprint overlaps another instance."),
            click.option("--verbose", is_flag=True, help="Debug output on the console."),
        ]
    ):
        func = opt(func)
    return func


def _run(**kw: Any) -> None:
    from openclaw.gateway.process.runner import run_gateway
    from openclaw.gateway.settings import RunOptions

    code = run_gateway(resolve_paths(os.environ), RunOptions(**kw), os.environ)
    raise SystemExit(code)


SERVICE_COMMANDS = {name: f"openclaw.cli.service_cmd:{name}" for name in
                    ("install", "uninstall", "start", "stop", "restart")}
SERVICE_COMMANDS["status"] = "openclaw.cli.gateway_status_cmd:status"


@click.group(cls=LazyGroup, lazy=SERVICE_COMMANDS, invoke_without_command=True,
             help="Run the gateway in the foreground, or manage/inspect it.")
@run_options
@click.pass_context
def gateway(ctx: click.Context, /, **kw: Any) -> None:
    if ctx.invoked_subcommand is None:
        _run(**kw)


@gateway.command("run", help="Run the gateway in the foreground (same as `openclaw gateway`).")
@run_options
def run_cmd(**kw: Any) -> None:
    _run(**kw)


# -- probe ------------------------------------------------------------------------------------
READ_PROBES: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("health", None), ("status", None), ("system-presence", None), ("config.get", {}))


def probe_target(url: str, token: str | None, password: str | None, timeout_ms: int,
                 identity: Any = None) -> dict[str, Any]:
    """Connect as a probe client (with this profile's device key, as upstream's CLI does: its
    gateway grants a probe's scopes by device) and run upstream's four read RPCs."""
    from openclaw.cli.rpc_common import capability
    from openclaw.client.rpc import GatewayCallError, GatewayClient, GatewayUnreachable

    result: dict[str, Any] = {"url": url, "connect": {"ok": False, "rpcOk": False, "scopeLimited": False}}
    client = GatewayClient(url, token, password, mode="probe", min_protocol=3, max_protocol=4,
                           scopes=["operator.read"], timeout=timeout_ms / 1000, identity=identity)
    try:
        hello = client.connect()
    except GatewayUnreachable as exc:
        result["connect"]["error"] = exc.reason
        return result
    except GatewayCallError as exc:
        result.update(reachable=True)
        result["connect"]["error"] = str(exc)
        return result
    result["reachable"] = True
    result["connect"].update(ok=True, latencyMs=int(client.connect_ms))
    scopes = (hello.get("auth") or {}).get("scopes") or []
    result["auth"] = {"role": (hello.get("auth") or {}).get("role"), "scopes": scopes,
                      "capability": capability(scopes)}
    result["server"] = hello.get("server")
    missing: str | None = None
    failed: str | None = None
    try:
        for method, params in READ_PROBES:
            try:
                payload = client.call(method, params)
                if method == "system-presence":
                    result["self"] = next((p for p in payload if p.get("reason") == "self"), None)
            except GatewayCallError as exc:
                details = exc.details or {}
                if details.get("code") == "MISSING_SCOPE":
                    missing = details.get("missingScope")
                else:
                    failed = f"{method}: {exc}"
    except GatewayUnreachable as exc:
        failed = exc.reason
    finally:
        client.close()
    result["connect"].update(rpcOk=not missing and not failed, scopeLimited=bool(missing))
    if missing:
        result["readProbe"] = f"limited - missing scope: {missing}"
    elif failed:
        result["readProbe"] = f"failed ({failed})"
    else:
        result["readProbe"] = "ok"
    return result


@gateway.command("probe", help="Connect and run the read probe (health, status, presence, config.get).")
@rpc_options
@json_option
def probe_cmd(url: str | None, token: str | None, password: str | None, timeout: int, as_json: bool) -> None:
    from openclaw.cli.rpc_common import target_from

    target = target_from(url, token, password)
    kind = "explicit" if target.explicit_url else "localLoopback"
    from openclaw.client.identity import load_or_create

    identity = load_or_create(target.paths.state_dir)
    result = {"id": kind, "kind": kind, **probe_target(target.url, target.token, target.password, timeout, identity)}
    reachable = bool(result.get("reachable"))
    if as_json:
        auth = result.get("auth") or {}
        rpc_ok = result["connect"]["rpcOk"]
        print_json({"ok": reachable and rpc_ok, "degraded": reachable and not rpc_ok,
                    "capability": auth.get("capability"), "primaryTargetId": kind, "warnings": [],
                    "targets": [result]})
        if not reachable:
            raise SystemExit(1)
        return
    if not reachable:
        hint = "is it running?" if target.explicit_url else f"start it with: {target.start_hint}"
        raise OpenClawError(f"gateway not reachable at {target.url} ({result['connect'].get('error')}); {hint}")
    click.echo(f"{'URL (explicit)' if target.explicit_url else 'Local loopback'} {target.url}")
    lines = [("Reachable", "yes")]
    if result["connect"]["ok"]:
        lines += [("Connect", f"ok ({result['connect']['latencyMs']}ms)"),
                  ("Capability", result["auth"]["capability"]), ("Read probe", result["readProbe"])]
    else:
        lines += [("Connect", f"failed ({result['connect'].get('error')})")]
    for key, value in lines:
        click.echo(f"  {key}: {value}")


# -- call -------------------------------------------------------------------------------------
@gateway.command("call", help="Call any gateway method and print its JSON result.")
@click.argument("method")
@click.option("--params", "params_json", default=None, help="Method params as a JSON object.")
@rpc_options
@json_option
def call_cmd(method: str, params_json: str | None, url: str | None, token: str | None, password: str | None,
             timeout: int, as_json: bool) -> None:
    params = None
    if params_json:
        try:
            params = json.loads(params_json)
        except ValueError as exc:
            raise OpenClawError(f"--params is not valid JSON: {exc}") from None
    from openclaw.cli.rpc_common import connect, target_from
    from openclaw.client.rpc import GatewayCallError, GatewayUnreachable

    target = target_from(url, token, password)
    client = connect(target, timeout)
    try:
        payload = client.call(method, params)
    except GatewayCallError as exc:
        raise OpenClawError(f"{method} failed: {exc.code}: {exc}") from None
    except GatewayUnreachable as exc:
        raise OpenClawError(f"gateway at {target.url} dropped the connection ({exc.reason})") from None
    finally:
        client.close()
    print_json(payload)
