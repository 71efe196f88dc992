"""The warm stack: what the supervisor imports once so that every member shares it.

Everything a member would import on its own is a private copy in each of a hundred processes;
imported here before the fork it is one set of pages, shared until written.
"""

from __future__ import annotations

import gc
import importlib

# What a member imports on its way to serving, once serving (channels, cron, hardening) and for its
# first agent turn, as measured: imported once, here, so every member shares it instead of holding a
# private copy. A module missing here still loads in the member; it only costs that member memory.
PRELOAD = (
    "openclaw.gateway.process.runner",
    "openclaw.gateway.transport.server",
    "openclaw.gateway.process.services",
    "openclaw.gateway.methods.registry",
    "openclaw.gateway.httpapi.state",
    "openclaw.gateway.transport.uiconfig",
    "openclaw.gateway.state.agentresult",
    "openclaw.gateway.state.chatcommands",
    "openclaw.config.validate",
    "openclaw.config.keys",
    "openclaw.config.redact",
    "openclaw.config.secret_env",
    "openclaw.controlui.paths",
    "openclaw.logtail",
    "openclaw.browser.http",
    "openclaw.canvas.host",
    # once serving
    "ctypes",
    "openclaw.channels.manager",
    "openclaw.chat.builtin",
    "openclaw.chat.dispatch",
    "openclaw.cron.store",
    "openclaw.stores.cron_runs",
    "openclaw.heartbeat.settings",
    "openclaw.rescue.chatcommands",
    "openclaw.rescue.operations",
    "resource",
    # the first agent turn
    "openclaw.gateway.httpapi.completions",
    "openclaw.gateway.httpapi.turns",
    "openclaw.agents.runtime",
    "openclaw.agents.turn",
    "openclaw.agents.run",
    "openclaw.agents.tools",
    "openclaw.agents.compaction",
    "openclaw.agents.maintenance",
    "openclaw.agents.legacysessions",
    "openclaw.models.openai",
    "openclaw.models.anthropic",
    "openclaw.memory.recall",
    "openclaw.memory.registry",
    "openclaw.memory.store",
    "openclaw.memory.index",
    "openclaw.memory.daily",
    "openclaw.memory.sessionnote",
    "openclaw.skills.snapshot",
    "openclaw.sandbox.confine",
    "openclaw.sandbox.view",
    "openclaw.tools.shell",
    "openclaw.tools.files",
    "openclaw.tools.web",
    "openclaw.tools.browser",
    "openclaw.tools.memory",
    "openclaw.tools.rescue",
    "openclaw.tools.approvals",
    "openclaw.config.binds",
)


def preload() -> None:
    """Import the stack every member needs, once, with the collector off (faster, and nothing to
    collect in module bodies)."""
    from openclaw.gateway.methods import load_methods

    gc.disable()
    for name in PRELOAD:
        importlib.import_module(name)
    load_methods()  # every RPC family registers itself on import: once, here
    gc.enable()
