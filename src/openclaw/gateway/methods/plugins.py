"""`plugins.list`: the plugins installed in this gateway. It has no plugin system (its channels,
tools and providers are built in), so the list is empty and nothing may be installed through it.
The other `plugins.*` reads answer likewise, and `plugins.refresh|reload` have nothing to reload."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import ADMIN, READ

NO_CATALOG = "this gateway has no plugin catalog: it does not load plugins"


@method("plugins.list", scope=READ, params="NoParams")
async def plugins_list(ctx: CallContext) -> dict[str, Any]:
    return {"plugins": [], "diagnostics": [], "mutationAllowed": False, "generation": 0}


@method("plugins.catalog.browse", scope=READ, params="FeatureParams")
async def plugins_catalog_browse(ctx: CallContext) -> dict[str, Any]:
    return {"items": [], "remoteError": NO_CATALOG}


@method("plugins.uiDescriptors", scope=READ, params="FeatureParams")
async def plugins_ui_descriptors(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "generation": 0, "methods": [], "descriptors": [], "controlUiTabs": [],
            "controlUiWidgetKinds": [], "controlUiLinkReaders": [], "pluginSurfaceUrls": {}}


@method("plugins.controlUi.list", scope=READ, params="FeatureParams")
async def plugins_control_ui_list(ctx: CallContext) -> dict[str, Any]:
    return {"plugins": [], "diagnostics": [], "revision": "0"}


@method("plugins.controlUi.status", scope=READ, params="FeatureParams")
async def plugins_control_ui_status(ctx: CallContext) -> dict[str, Any]:
    return {"clients": []}


@method("plugins.refresh", scope=ADMIN, params="FeatureParams")
async def plugins_refresh(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "generation": 0, "plugins": []}


@method("plugins.reload", scope=ADMIN, params="FeatureParams")
async def plugins_reload(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "generation": 0, "plugins": []}


@method("plugins.search", scope=READ, params="FeatureParams")
async def plugins_search(ctx: CallContext) -> dict[str, Any]:
    return {"results": [], "remoteError": NO_CATALOG}


@method("plugins.catalog.categories", scope=READ, params="FeatureParams")
async def plugins_catalog_categories(ctx: CallContext) -> dict[str, Any]:
    return {"categories": [], "remoteError": NO_CATALOG}


@method("plugins.controlUi.reload", scope=ADMIN, params="FeatureParams")
async def plugins_control_ui_reload(ctx: CallContext) -> dict[str, Any]:
    return {"ok": True, "revision": "0", "plugins": []}
