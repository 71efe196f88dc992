"""The RPC methods, one module per family; each registers itself in `registry` when imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openclaw.gateway.methods.registry import Method


def load_methods() -> dict[str, Method]:
    """Import the method modules (each registers itself) and return the registry."""
    from openclaw.gateway.methods import (  # noqa: F401
        agent_admin,
        agents,
        approvals,
        browser,
        catalogs,
        channel_send,
        channels,
        chat,
        chat_startup,
        config_lookup,
        config_methods,
        cron,
        devices,
        diagnostics,
        health,
        host,
        instances,
        logs,
        memory,
        nodes,
        operator_views,
        pairing,
        plugins,
        session_lifecycle,
        session_views,
        sessions,
        skills,
        status,
        system,
        talk,
        tool_calls,
        tooling,
        usage,
        workspace_files,
    )
    from openclaw.gateway.methods.registry import REGISTRY

    return REGISTRY
