"""What the agent can use, as upstream's clients ask for it: `tools.catalog` (this gateway's tools,
grouped as upstream groups them), `commands.list` (the chat commands), `webSearch.status` and
`hooks.status` (neither exists here: honest empty answers), `themes.list|get` (the Control UI's
built-in theme)."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import ADMIN, READ

PROFILES = [{"id": "minimal", "label": "Minimal"}, {"id": "coding", "label": "Coding"},
            {"id": "messaging", "label": "Messaging"}, {"id": "full", "label": "Full"}]
# tool kind -> (group id, label, the profiles that include it by default)
GROUPS = {"read": ("fs", "Files", ["coding"]), "write": ("fs", "Files", ["coding"]),
          "exec": ("runtime", "Runtime", ["coding"]), "act": ("web", "Web", ["coding", "messaging"]),
          "control": ("gateway", "Gateway", ["full"])}
THEME = {"id": "claw", "name": "Claw", "description": "The Control UI's built-in theme", "source": "builtin",
         "modes": ["light", "dark", "system"]}


def _tools(ctx: CallContext) -> list[Any]:
    from openclaw.tools import toolset

    gateway = ctx.gateway
    servers = gateway.services.mcp_started  # the tools of MCP servers connected now
    return toolset(gateway.settings.paths, lambda: gateway.settings.config, gateway.env,
                   (lambda: gateway.browser) if gateway.settings.config.browser_enabled else None,
                   (lambda: servers) if servers is not None else None)


@method("tools.catalog", scope=READ, params="FeatureParams")
async def tools_catalog(ctx: CallContext) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for tool in _tools(ctx):
        group_id, label, profiles = GROUPS.get(tool.kind, ("other", "Other", ["full"]))
        if tool.name.startswith("web_"):
            group_id, label = "web", "Web"
        source, plugin = ("plugin", {"pluginId": tool.group}) if tool.group else ("core", {})
        if tool.group:  # MCP servers' tools: one plugin group, as upstream lists plugin tools
            group_id, label, profiles = f"plugin:{tool.group}", tool.group, []
        group = groups.setdefault(group_id, {"id": group_id, "label": label, "source": source, **plugin,
                                             "tools": []})
        group["tools"].append({"id": tool.name, "label": tool.name, "description": tool.spec.description,
                               "source": source, **plugin, "defaultProfiles": profiles})
    agent_id = ctx.params.get("agentId") or ctx.gateway.settings.config.default_agent_id
    return {"agentId": agent_id, "profiles": PROFILES, "groups": list(groups.values())}


@method("commands.list", scope=READ, params="FeatureParams")
async def commands_list(ctx: CallContext) -> dict[str, Any]:
    registry = ctx.gateway.services.commands()
    seen: set[str] = set()
    commands = []
    for entry in registry.entries("webchat") + registry.entries("channel"):
        if entry.name in seen:
            continue
        seen.add(entry.name)
        description = entry.help.split(" - ", 1)[-1]
        commands.append({"name": entry.name, "nativeName": entry.name,
                         "textAliases": [f"/{n}" for n in (entry.name, *entry.aliases)], "description": description,
                         "category": "operations" if entry.operation else "status", "source": "native",
                         "scope": "both", "acceptsArgs": "<" in entry.help or "[" in entry.help})
    return {"commands": commands}


@method("webSearch.status", scope=READ, params="FeatureParams")
async def web_search_status(ctx: CallContext) -> dict[str, Any]:
    from openclaw.models.listing import default_model

    model = default_model(ctx.gateway.settings.config, ctx.gateway.env)
    ref = str(model.get("model") or "")
    provider, _, model_id = ref.partition("/")
    return {"enabled": False, "provider": None, "agentId": ctx.gateway.settings.config.default_agent_id,
            "model": {"provider": provider, "id": model_id, "runtime": "unknown", "runtimeLabel": "Not resolved"},
            "providers": [], "route": {"kind": "unavailable", "label": "Web search is not available",
                                       "testable": False, "reason": "this gateway has no web search tool; "
                                                                   "the agent's web_fetch reads a given URL"}}


@method("hooks.status", scope=READ, params="FeatureParams")
async def hooks_status(ctx: CallContext) -> dict[str, Any]:
    from openclaw.agents.workspace import workspace_dir

    settings = ctx.gateway.settings
    shown = ctx.is_admin
    workspace = str(workspace_dir(settings.config, settings.paths, ctx.gateway.env)) if shown else "[redacted]"
    return {"workspaceDir": workspace, "managedHooksDir": str(settings.paths.state_dir / "hooks") if shown
            else "[redacted]", "hooks": []}


def _current() -> dict[str, Any]:
    return {"id": THEME["id"], "mode": "system", "scope": "gateway", "overrides": {}}


@method("themes.list", scope=READ, params="FeatureParams")
async def themes_list(ctx: CallContext) -> dict[str, Any]:
    return {"current": _current(), "theme": dict(THEME), "themes": [dict(THEME)]}


@method("themes.get", scope=READ, params="FeatureParams")
async def themes_get(ctx: CallContext) -> dict[str, Any]:
    return {"current": _current(), "theme": dict(THEME)}


@method("openclaw.setup.detect", scope=ADMIN, params="FeatureParams")
async def setup_detect(ctx: CallContext) -> dict[str, Any]:
    """What first-run setup would offer: this gateway is set up by `openclaw setup` and the config
    (providers by API key), so there are no login flows or installs to offer; `setupComplete` says
    whether a model is configured."""
    from openclaw.agents.workspace import workspace_dir
    from openclaw.models.listing import default_model

    settings = ctx.gateway.settings
    return {"manualProviders": [], "authOptions": [], "prepareOptions": [], "nativeSessionCatalogs": [],
            "nativeSessionCatalogPreferenceRequired": False,
            "workspace": str(workspace_dir(settings.config, settings.paths, ctx.gateway.env)),
            "setupComplete": bool(default_model(settings.config, ctx.gateway.env)["configured"]), "candidates": [],
            "unavailableCandidates": [], "recommendedInstalls": []}
