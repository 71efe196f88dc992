"""`config.schema.lookup`: one config path's part of the schema (its type, bounds, description, its
direct children) and whether changing it needs a restart, as upstream's config form asks for it."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.config_methods import config_schema
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import READ

KEPT = ("type", "title", "description", "minimum", "maximum", "enum", "default", "format", "pattern", "const")
MAX_CHILDREN = 200


def _resolve(node: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref` and a nullable `anyOf` to the node that says what the value is."""
    for _ in range(16):
        if not isinstance(node, dict):
            return {}
        if "$ref" in node:
            node = {**defs.get(node["$ref"].rsplit("/", 1)[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        options = [o for o in node.get("anyOf", []) if isinstance(o, dict) and o.get("type") != "null"]
        if len(options) == 1:
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
            continue
        return node
    return node if isinstance(node, dict) else {}


def _child(node: dict[str, Any], key: str, defs: dict[str, Any]) -> dict[str, Any] | None:
    props = node.get("properties") or {}
    if key in props:
        return _resolve(props[key], defs)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return _resolve(extra, defs)
    if node.get("type") == "array" and key.isdigit():
        return _resolve(node.get("items"), defs)
    return None


@method("config.schema.lookup", scope=READ, params="ConfigSchemaLookupParams")
async def config_schema_lookup(ctx: CallContext) -> dict[str, Any]:
    from openclaw.config.changes import restart_paths

    path = ctx.params["path"].strip().strip(".")
    root: dict[str, Any] = (await config_schema(ctx))["schema"]
    defs = root.get("$defs") or {}
    node: dict[str, Any] | None = _resolve(root, defs)
    for part in [p for p in path.split(".") if p]:
        node = _child(node, part, defs) if node is not None else None
        if node is None:
            raise RpcError(INVALID_REQUEST, f"config path not found in the schema: {path}")
    assert node is not None
    children = [{"key": key, "path": f"{path}.{key}" if path else key,
                 "type": _resolve(value, defs).get("type"), "title": _resolve(value, defs).get("title")}
                for key, value in list((node.get("properties") or {}).items())[:MAX_CHILDREN]]
    label = path.rsplit(".", 1)[-1] if path else "config"
    return {"path": path, "hintPath": path, "schema": {k: node[k] for k in KEPT if k in node},
            "children": children, "hint": {"label": node.get("title") or label, "help": node.get("description", ""),
                                           "advanced": False},
            "reloadKind": "restart" if path and restart_paths([path]) else "hot"}
