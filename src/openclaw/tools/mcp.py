"""MCP servers' tools as agent tools.

Each tool of a connected server is offered under its upstream name (`server__tool`) with the
server's own description and input schema. A call goes to the server within the entry's
`requestTimeoutMs`; text content comes back as it is, other content is summarised in a line (an
image's type and size, a resource's URI), cut at the tool-output limit, and a result the server
flags `isError` is a tool error.
A server that offers resources or prompts also gets upstream's utility tools
(`resources_list`, `resources_read`, `prompts_list`, `prompts_get`). MCP tools act outside the
gateway on the owner's behalf, so they are `act` tools (owners and
allow-listed senders only) in the `bundle-mcp` group that `tools.deny` / `tools.allow` can name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from openclaw.agents.tools import Tool, ToolContext, ToolError, clip
from openclaw.models.types import ToolSpec

if TYPE_CHECKING:
    from openclaw.mcp.manager import CatalogTool, McpManager

GROUP = "bundle-mcp"


def _summary(item: dict[str, Any]) -> str:
    kind = str(item.get("type") or "unknown")
    if kind == "text":
        return str(item.get("text") or "")
    if kind in ("image", "audio"):
        size = len(str(item.get("data") or "")) * 3 // 4
        return f"[{kind}: {item.get('mimeType') or 'unknown type'}, {size} bytes]"
    if kind == "resource":
        resource = item.get("resource") if isinstance(item.get("resource"), dict) else {}
        assert isinstance(resource, dict)
        if isinstance(resource.get("text"), str):
            return str(resource["text"])
        return f"[resource {resource.get('uri') or ''}: {resource.get('mimeType') or 'binary'}]"
    if kind == "resource_link":
        return f"[resource link: {item.get('name') or ''} {item.get('uri') or ''}]".replace("  ", " ")
    return f"[{kind} content]"


def render_utility(utility: str, result: dict[str, Any]) -> str:
    """What resources_read and prompts_get return, as text; the lists as compact JSON."""
    if utility == "resources_read":
        contents = result.get("contents")
        items = contents if isinstance(contents, list) else []
        return "\n".join(_summary({"type": "resource", "resource": c}) for c in items if isinstance(c, dict)) \
            or "(the resource is empty)"
    if utility == "prompts_get":
        messages = result.get("messages")
        lines = [f"{m.get('role', '?')}: {_summary(m['content'])}" for m in messages or []
                 if isinstance(m, dict) and isinstance(m.get("content"), dict)] if isinstance(messages, list) else []
        return "\n".join(lines) or "(the prompt has no messages)"
    return json.dumps(result, ensure_ascii=False)


def render(result: dict[str, Any]) -> str:
    """A `tools/call` result as the text the model reads."""
    content = result.get("content")
    parts = [_summary(item) for item in content if isinstance(item, dict)] if isinstance(content, list) else []
    if not any(parts) and "structuredContent" in result:
        parts = [json.dumps(result["structuredContent"], ensure_ascii=False)]
    return "\n".join(p for p in parts if p) or "(the tool returned no content)"


def _tool(manager: McpManager, entry: CatalogTool) -> Tool:
    from openclaw.mcp.session import McpError

    async def run(args: dict[str, Any], _ctx: ToolContext) -> str:
        try:
            result = await manager.call(entry.server, entry.tool, args, entry.utility)
        except McpError as exc:
            raise ToolError(f"{entry.name}: {exc}") from None
        shown = render_utility(entry.tool, result) if entry.utility else render(result)
        text = clip(shown)  # every surface gets it bounded, not only the agent's turn
        if result.get("isError") is True:
            raise ToolError(text)
        return text

    return Tool(ToolSpec(entry.name, entry.description, entry.schema), run, kind="act", group=GROUP)


def mcp_tools(manager: McpManager) -> list[Tool]:
    """The tools of the servers connected now (a turn's `ready()` connects the others first)."""
    return [_tool(manager, entry) for entry in manager.catalog()]
