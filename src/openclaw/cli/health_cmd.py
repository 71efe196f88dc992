"""`openclaw health`: the gateway's health summary."""

from __future__ import annotations

from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import json_option, kv, print_json
from openclaw.cli.rpc_common import call_once, target_from


def model_line(runtime: dict[str, Any] | None, payload: dict[str, Any] | None = None) -> str:
    """The default model and whether its key is there, from `modelRuntime` (never the key). An
    upstream gateway says less: its model, as a string or `{primary, fallbacks}`, is read too."""
    if not runtime or "configured" not in runtime:
        upstream = _upstream_model(runtime, payload or {})
        if upstream:
            return upstream
    if not runtime or not runtime.get("configured"):
        return "none (chats get 'no model configured'; openclaw models set provider/model)"
    if runtime.get("error"):
        return f"{runtime.get('model')} · {runtime['error']}"
    key = runtime.get("keySource") if runtime.get("keyPresent") else f"key {runtime.get('keySource') or 'missing'}"
    return f"{runtime.get('model')} · {key}"


def _upstream_model(runtime: dict[str, Any] | None, payload: dict[str, Any]) -> str | None:
    """The model an upstream gateway reports: in `modelRuntime`, else its sessions' defaults."""
    from openclaw.config.view import ModelChoice

    candidates = [(runtime or {}).get("model"), (runtime or {}).get("defaultModel"), runtime,
                  ((payload.get("sessions") or {}).get("defaults") or {}).get("model")]
    for value in candidates:
        choice = ModelChoice.read(value)
        if choice is not None and choice.primary:
            extra = f" (fallbacks: {', '.join(choice.fallbacks)})" if choice.fallbacks else ""
            return choice.primary + extra
    return None


def render_health(payload: dict[str, Any], url: str, profile: str = "?") -> None:
    gateway = payload.get("gateway") or {}
    agents = payload.get("agents") or []
    agent_text = ", ".join(f"{a['agentId']}{' (default)' if a.get('isDefault') else ''}" for a in agents) or "none"
    sessions = (payload.get("sessions") or {}).get("count", 0)
    channels = payload.get("channels") or {}
    kv([
        ("Gateway", f"{'ok' if payload.get('ok') else 'degraded'} · {gateway.get('profile', profile)} · {url} · "
                    f"{payload.get('durationMs', 0)}ms"),
        ("Agents", agent_text),
        ("Model", model_line(payload.get("modelRuntime"), payload)),
        ("Sessions", sessions),
        ("Channels", ", ".join(channels) if channels else "none configured"),
        ("Config reload", (payload.get("configReload") or {}).get("hotReloadStatus", "?")),
    ])


@click.command(help="Ask the gateway for its health summary.")
@click.option("--verbose", is_flag=True, help="Run live probes instead of the cached snapshot.")
@rpc_options
@json_option
def health(verbose: bool, url: str | None, token: str | None, password: str | None, timeout: int,
           as_json: bool) -> None:
    target = target_from(url, token, password)
    payload = call_once(target, timeout, "health", {"probe": True} if verbose else None, scopes=["operator.read"])
    if as_json:
        print_json(payload)
    else:
        render_health(payload, target.url, target.paths.name)
