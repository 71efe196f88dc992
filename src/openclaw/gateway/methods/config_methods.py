"""`config.get` and `config.schema` (read); `config.set`, `config.patch`, `config.apply`, `config.rollback`
(admin), guarded by the base hash.

File work (the cross-process write lock, fsync) runs in a thread, one write at
a time per gateway, so a lock held elsewhere never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable
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
from openclaw.errors import OpenClawError
from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, MAX_JSON_DEPTH, UNAVAILABLE, RpcError, json_problem
from openclaw.gateway.scopes import ADMIN, READ
from openclaw.ports.instances import isolation_check

MAX_ISSUES_IN_MESSAGE = 3
MAX_ISSUES_IN_DETAILS = 50
LOCK_TIMEOUT_S = 30.0


def summarize(issues: list[Issue]) -> str:
    shown = "; ".join(str(i) for i in issues[:MAX_ISSUES_IN_MESSAGE])
    more = len(issues) - MAX_ISSUES_IN_MESSAGE
    return f"invalid config: {shown}" + (f" (+{more} more)" if more > 0 else "")


def invalid(issues: list[Issue], suffix: str = "") -> RpcError:
    return RpcError(INVALID_REQUEST, summarize(issues) + suffix,
                    {"issues": [i.as_dict() for i in issues[:MAX_ISSUES_IN_DETAILS]], "issueCount": len(issues)})


@method("config.get", scope=READ, params="NoParams")
async def config_get(ctx: CallContext) -> dict[str, Any]:
    snap = await asyncio.to_thread(read_config, ctx.gateway.settings.paths.config_path, ctx.gateway.env)
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
        "appliedConfigHash": ctx.gateway.applied_config_hash,
        "issues": [i.as_dict() for i in snap.issues[:MAX_ISSUES_IN_DETAILS]],
        "warnings": [],
        "legacyIssues": [],
    }


def _parse_object(raw: str, what: str) -> dict[str, Any]:
    try:
        parsed = parse_json5(raw)
    except RecursionError:
        raise RpcError(INVALID_REQUEST, f"{what} raw is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None
    if not isinstance(parsed, dict):
        raise RpcError(INVALID_REQUEST, f"{what} raw must be an object")
    problem = json_problem(parsed)
    if problem:
        raise RpcError(INVALID_REQUEST, f"{what} raw: {problem}")
    return parsed


def _require_hash(snap: ConfigSnapshot, base_hash: str | None) -> None:
    if not snap.exists:
        return
    if not base_hash:
        raise RpcError(INVALID_REQUEST, "config base hash required; re-run config.get and retry")
    if base_hash != snap.hash:
        raise RpcError(INVALID_REQUEST, "config changed since last load; re-run config.get and retry")


Build = Callable[[ConfigSnapshot], dict[str, Any]]


def _write(ctx: CallContext, build: Build, mode: str,
           cancel: threading.Event) -> tuple[ConfigSnapshot, dict[str, Any], list[str]]:
    """Under the cross-process write lock: check the hash, build, validate, write (blocking; a
    request cancelled while this waits for the lock gives up instead of writing later)."""
    gateway = ctx.gateway
    paths = gateway.settings.paths
    with config_write_lock(paths.config_path, timeout=LOCK_TIMEOUT_S, cancel=cancel):
        snap = read_config(paths.config_path, gateway.env, validate=False)
        _require_hash(snap, ctx.params.get("baseHash"))
        new_data = build(snap)
        changed = changed_paths(snap.data, new_data)
        if mode == "config.patch" and not changed:
            return snap, new_data, changed
        check = ConfigSnapshot(path=paths.config_path, exists=True, data=new_data)
        resolve_and_validate(check, gateway.env)
        issues = check.issues or isolation_check(paths, gateway.env)(check.view())
        if issues:
            raise invalid(issues)
        write_config(paths.config_path, new_data)
    return snap, new_data, changed


async def _commit(ctx: CallContext, build: Build, mode: str) -> dict[str, Any]:
    cancel = threading.Event()
    try:
        async with ctx.gateway.config_writes:
            snap, new_data, changed = await asyncio.to_thread(_write, ctx, build, mode, cancel)
    except asyncio.CancelledError:  # the client went away: its thread must not write after all
        cancel.set()
        raise
    except OpenClawError as exc:  # the lock stayed taken, the file went away, ...
        raise RpcError(UNAVAILABLE, str(exc), retryable=True, retry_after_ms=1000) from None
    path = ctx.gateway.settings.paths.config_path
    if mode == "config.patch" and not changed:
        return {"ok": True, "noop": True, "changedPaths": [], "path": str(path), "config": redact(snap.data)}
    restart = ctx.gateway.classify_change(changed)
    ctx.gateway.config_written(f"{mode} by {ctx.conn.label}")
    payload: dict[str, Any] = {
        "ok": True,
        "path": str(path),
        "hash": config_hash(dump_config(new_data)),
        "config": redact(new_data),
        "restart": restart,
    }
    if mode == "config.patch":
        payload["changedPaths"] = changed
    return payload


@method("config.set", scope=ADMIN, params="ConfigSetParams")
async def config_set(ctx: CallContext) -> dict[str, Any]:
    submitted = _parse_object(ctx.params["raw"], "config.set")

    def build(snap: ConfigSnapshot) -> dict[str, Any]:
        restored: dict[str, Any] = restore_redacted(submitted, snap.data)
        return restored

    return await _commit(ctx, build, "config.set")


@method("config.patch", scope=ADMIN, params="ConfigPatchParams")
async def config_patch(ctx: CallContext) -> dict[str, Any]:
    patch = _parse_object(ctx.params["raw"], "config.patch")
    current = await asyncio.to_thread(read_config, ctx.gateway.settings.paths.config_path, ctx.gateway.env)
    if current.issues:
        raise invalid(current.issues, "; fix (openclaw doctor) before patching")

    def build(snap: ConfigSnapshot) -> dict[str, Any]:
        merged = merge_patch(copy.deepcopy(snap.data), patch)
        restored: dict[str, Any] = restore_redacted(merged, snap.data)
        return restored

    return await _commit(ctx, build, "config.patch")


def _rollback(ctx: CallContext, cancel: threading.Event) -> tuple[ConfigSnapshot, ConfigSnapshot, Any]:
    from openclaw.config.history import load_last_good
    from openclaw.config.store import restore_file

    paths = ctx.gateway.settings.paths
    with config_write_lock(paths.config_path, timeout=LOCK_TIMEOUT_S, cancel=cancel):
        before = read_config(paths.config_path, ctx.gateway.env, validate=False)
        if ctx.params.get("baseHash"):
            _require_hash(before, ctx.params["baseHash"])
        good = load_last_good(paths.history_dir)
        if good is None:
            raise RpcError(INVALID_REQUEST, "there is no last-known-good config yet (one is recorded at every "
                                            "good start)")
        restore_file(paths.config_path, good.raw_text)
        return before, read_config(paths.config_path, ctx.gateway.env, validate=False), good


@method("config.rollback", scope=ADMIN, params="ConfigRollbackParams")
async def config_rollback(ctx: CallContext) -> dict[str, Any]:
    """Put back the config this gateway last started with successfully (its exact text)."""
    cancel = threading.Event()
    try:
        async with ctx.gateway.config_writes:
            before, after, good = await asyncio.to_thread(_rollback, ctx, cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise
    except OpenClawError as exc:
        raise RpcError(UNAVAILABLE, str(exc), retryable=True, retry_after_ms=1000) from None
    changed = changed_paths(before.data, after.data)
    ctx.gateway.config_written(f"config.rollback by {ctx.conn.label}")
    return {"ok": True, "path": str(after.path), "hash": after.hash, "config": redact(after.data),
            "changedPaths": changed, "restart": ctx.gateway.classify_change(changed),
            "recordedAt": int(good.recorded_at * 1000)}


RESTART_DELAY_MS = 1000


@method("config.apply", scope=ADMIN, params="ConfigApplyParams")
async def config_apply(ctx: CallContext) -> dict[str, Any]:
    """The whole file, validated and hash-guarded like `config.set`, then an in-process restart so
    every key takes effect at once."""
    submitted = _parse_object(ctx.params["raw"], "config.apply")

    def build(snap: ConfigSnapshot) -> dict[str, Any]:
        restored: dict[str, Any] = restore_redacted(submitted, snap.data)
        return restored

    payload = await _commit(ctx, build, "config.apply")
    delay = ctx.params.get("restartDelayMs", RESTART_DELAY_MS)
    scheduled = ctx.gateway.restart_soon(delay)
    payload["restart"] = {**payload["restart"], "required": True, "scheduled": scheduled, "delayMs": delay,
                          "mode": "in-process"}
    return payload


_SCHEMA: dict[str, Any] = {}


@method("config.schema", scope=READ, params="NoParams")
async def config_schema(ctx: CallContext) -> dict[str, Any]:
    """Our schema for the keys this gateway uses (others upstream knows are kept as they are)."""
    import time

    from openclaw import __version__

    if not _SCHEMA:
        from openclaw.config.schema import OpenClawConfig

        _SCHEMA.update(await asyncio.to_thread(OpenClawConfig.model_json_schema, by_alias=True))
    return {"schema": _SCHEMA, "uiHints": {}, "version": __version__,
            "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
