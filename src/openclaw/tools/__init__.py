"""The agent's tools and which of them an instance offers.

Everyone the agent answers may get `read`, `web_fetch` and the rescue status
tools; `write`, `edit`, `exec`, `browser`, the MCP servers' tools and the rescue
tools that change an instance only go to owners and allow-listed senders
(`agents.tools.select`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the package is imported for its light submodules too (approval events at gateway start)
    from openclaw.agents.tools import Tool
    from openclaw.config.view import Config
    from openclaw.mcp.manager import McpManager
    from openclaw.profiles.paths import InstancePaths


def toolset(paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str],
            browser: Callable[[], Any] | None = None, mcp: Callable[[], McpManager] | None = None) -> list[Tool]:
    from openclaw.rescue.operations import has_rescue_role
    from openclaw.sandbox.confine import ToolSandbox
    from openclaw.tools.files import file_tools
    from openclaw.tools.rescue import rescue_tools
    from openclaw.tools.shell import exec_tool
    from openclaw.tools.web import web_fetch_tool

    sandbox = ToolSandbox(paths, config, env)
    tools = [*file_tools(sandbox), exec_tool(sandbox), web_fetch_tool(config)]
    if browser is not None and config().browser_enabled:
        from openclaw.tools.browser import browser_tool

        tools.append(browser_tool(browser))
    if has_rescue_role(config(), paths):
        tools += rescue_tools(paths, config, env)
    from openclaw.tools.memory import memory_enabled, memory_tools

    if memory_enabled(config()):
        tools += memory_tools(paths, config, env)
    if mcp is not None and config().part("mcp", "servers"):  # the client loads once a server is configured
        from openclaw.tools.mcp import mcp_tools

        tools += mcp_tools(mcp())
    return tools
