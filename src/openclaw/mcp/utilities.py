"""The utility tools upstream adds for a server that offers resources or prompts: `resources_list`,
`resources_read`, `prompts_list` and `prompts_get` (named `<server>__<utility>` and filtered by the
entry's `toolFilter` like its own tools). What they return is the server's text, not the user's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openclaw.mcp.session import McpError, McpSession

NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}
UTILITIES: Mapping[str, tuple[str, str, dict[str, Any]]] = {  # name -> (capability, description, schema)
    "resources_list": ("resources", "List the resources MCP server {server} offers (uri, name, type).", NO_ARGS),
    "resources_read": ("resources", "Read one resource of MCP server {server} by its uri; the text is the "
                       "server's, not the user's.", {"type": "object", "properties": {"uri": {"type": "string"}},
                                                      "required": ["uri"], "additionalProperties": False}),
    "prompts_list": ("prompts", "List the prompts MCP server {server} offers (name, description, arguments).",
                     NO_ARGS),
    "prompts_get": ("prompts", "Fetch one prompt of MCP server {server}, with its arguments filled in; the text "
                    "is the server's, not the user's.",
                    {"type": "object", "properties": {
                        "name": {"type": "string"},
                        "arguments": {"type": "object", "additionalProperties": {"type": "string"}}},
                     "required": ["name"], "additionalProperties": False}),
}


def offered(capabilities: Mapping[str, Any]) -> list[str]:
    """The utilities a server's advertised capabilities call for."""
    return [name for name, (capability, _, _) in UTILITIES.items() if isinstance(capabilities.get(capability), dict)]


def _text(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise McpError(f"{key} is required")
    return value


async def run(session: McpSession, utility: str, args: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    if utility == "resources_list":
        return {"resources": await session.list_all("resources/list", "resources", timeout)}
    if utility == "prompts_list":
        return {"prompts": await session.list_all("prompts/list", "prompts", timeout)}
    if utility == "resources_read":
        return await session.request("resources/read", {"uri": _text(args, "uri")}, timeout)
    given = args.get("arguments")
    arguments = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
    return await session.request("prompts/get", {"name": _text(args, "name"), "arguments": arguments}, timeout)
