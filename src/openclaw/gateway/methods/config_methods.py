"""`config.get` (read) and `config.set` / `config.patch` (admin), guarded by the base hash."""

from __future__ import annotations

import copy
from typing import Any

from openclaw.config.keypath import changed_paths, merge_patch
from openclaw.config.model import ConfigSnapshot, Issue
from openclaw.config.redact import redact, restore_redacted
from openclaw.config.store import (
    config_hash,
    config_write_lock,
    dump_config,
    parse_json5,
    read_config,
    resolve_and_validate,
    write_config,
)
from openclaw.gateway.methods import CallContext, Param, method
from openclaw.gateway.protocol import INVALID_REQUEST, RpcError
from openclaw.gateway.scopes import ADMIN, READ

MAX_ISSUES_IN_MESSAGE = 3


def summarize(issues: list[Issue]) -> str:
    shown = "; ".join(str(i) for i in issues[:MAX_ISSUES_IN_MESSAGE])
    more = len(issues) - MAX_ISSUES_IN_MESSAGE
    return f"invalid config: {shown}" + (f" (+{more} more)" if more > 0 else "")


@method("config.get", scope=READ, params={})
async def config_get(ctx: CallContext) -> dict[str, Any]:
    snap = read_config(ctx.server.settings.paths.config_path)
    return {
        "path": str(snap.path),
        "exists": snap.exists,
        "valid": snap.valid,
        "raw": dump_config(redact(snap.data)) if snap.exists else None,
        "parsed": redact(snap.data),
        "config": redact(snap.resolved),
        "resolved": redact(snap.resolved),
        "hash": snap.hash,
        "configRevisionHash": snap.hash,
        "appliedConfigHash": ctx.server.applied_config_hash,
        "issues": [i.as_dict() for i in snap.issues],
        "warnings": [],
        "legacyIssues": [],
    }


def _parse_object(raw: str, what: str) -> dict[str, Any]:
    try:
        parsed = parse_json5(raw)
    except ValueError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    if not isinstance(parsed, dict):
        raise RpcError(INVALID_REQUEST, f"{what} raw must be an object")
    return parsed


def _require_hash(snap: ConfigSnapshot, base_hash: str | None) -> None:
    if not snap.exists:
        return
    if not base_hash:
        raise RpcError(INVALID_REQUEST, "config base hash required; re-run config.get and retry")
    if base_hash != snap.hash:
        raise RpcError(INVALID_REQUEST, "config changed since last load; re-run config.get and retry")


def _commit(ctx: CallContext, build: Any, mode: str) -> dict[str, Any]:
    """Under the write lock: check the hash, build the new data, validate, write, respond."""
    path = ctx.server.settings.paths.config_path
    with config_write_lock(path):
        snap = read_config(path, validate=False)
        _require_hash(snap, ctx.params.get("baseHash"))
        new_data = build(snap)
        changed = changed_paths(snap.data, new_data)
        if mode == "config.patch" and not changed:
            return {"ok": True, "noop": True, "changedPaths": [], "path": str(path), "config": redact(snap.data)}
        check = ConfigSnapshot(path=path, exists=True, data=new_data)
        resolve_and_validate(check, ctx.server.env)
        if check.issues:
            raise RpcError(INVALID_REQUEST, summarize(check.issues),
                           {"issues": [i.as_dict() for i in check.issues]})
        write_config(path, new_data)
    text = dump_config(new_data)
    restart = ctx.server.classify_change(changed)
    ctx.server.config_written(f"{mode} by {ctx.conn.label}")
    payload: dict[str, Any] = {
        "ok": True,
        "path": str(path),
        "hash": config_hash(text),
        "config": redact(new_data),
        "restart": restart,
    }
    if mode == "config.patch":
        payload["changedPaths"] = changed
    return payload


SET_PARAMS = {"raw": Param(str, required=True, minimum=1), "baseHash": Param(str, minimum=1)}
PATCH_PARAMS = {
    **SET_PARAMS,
    "sessionKey": Param(str),
    "deliveryContext": Param(dict),
    "note": Param(str),
    "restartDelayMs": Param(int, minimum=0),
    "replacePaths": Param(list, items=str),
}


@method("config.set", scope=ADMIN, params=SET_PARAMS)
async def config_set(ctx: CallContext) -> dict[str, Any]:
    submitted = _parse_object(ctx.params["raw"], "config.set")

    def build(snap: ConfigSnapshot) -> dict[str, Any]:
        return restore_redacted(submitted, snap.data)

    return _commit(ctx, build, "config.set")


@method("config.patch", scope=ADMIN, params=PATCH_PARAMS)
async def config_patch(ctx: CallContext) -> dict[str, Any]:
    patch = _parse_object(ctx.params["raw"], "config.patch")
    current = read_config(ctx.server.settings.paths.config_path, ctx.server.env)
    if current.issues:
        raise RpcError(INVALID_REQUEST, f"{summarize(current.issues)}; fix (openclaw doctor) before patching",
                       {"issues": [i.as_dict() for i in current.issues]})

    def build(snap: ConfigSnapshot) -> dict[str, Any]:
        merged = merge_patch(copy.deepcopy(snap.data), patch)
        return restore_redacted(merged, snap.data)

    return _commit(ctx, build, "config.patch")
