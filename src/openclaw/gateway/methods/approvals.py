"""Exec approvals: the policy document (`exec.approvals.get|set`) and the requests `exec` calls wait
on (`exec.approval.list|get|resolve|waitDecision`), in upstream's shapes; the other approval kinds
(plugin, openclaw, standing grants) have none here and list empty."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import ADMIN, APPROVALS

if TYPE_CHECKING:
    from openclaw.tools.approvals import ExecApprovals, Pending

MAX_WAIT_MS = 600_000


def _approvals(ctx: CallContext) -> ExecApprovals:
    from openclaw.tools.approvals import approvals_for

    return approvals_for(ctx.gateway.settings.paths.state_dir)


def _payload(snapshot: dict[str, Any]) -> dict[str, Any]:
    defaults = snapshot["file"].get("defaults") or {}
    resolved = {"security": defaults.get("security", "deny"), "ask": defaults.get("ask", "off"),
                "askFallback": defaults.get("askFallback", "deny"),
                "autoAllowSkills": bool(defaults.get("autoAllowSkills", False))}
    return {**snapshot, "resolvedDefaults": resolved}


@method("exec.approvals.get", scope=ADMIN, params="NoParams")
async def approvals_get(ctx: CallContext) -> dict[str, Any]:
    return _payload(await _approvals(ctx).snapshot())


@method("exec.approvals.set", scope=ADMIN, params="ExecApprovalsSetParams")
async def approvals_set(ctx: CallContext) -> dict[str, Any]:
    from openclaw.tools.approvals import ApprovalsChanged

    approvals = _approvals(ctx)
    current = await approvals.snapshot()
    base = ctx.params.get("baseHash")
    if current["exists"] and not base:
        raise RpcError(INVALID_REQUEST, "exec approvals base hash required; re-run exec.approvals.get and retry")
    try:
        return _payload(await approvals.replace(ctx.params["file"], base or current["hash"]))
    except ApprovalsChanged as exc:
        raise RpcError(INVALID_REQUEST, str(exc)) from None


@method("exec.approval.list", scope=APPROVALS, params="NoParams")
async def approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    approvals = _approvals(ctx)
    approvals.find("")  # drops the expired
    return [{**p.record(), "approvalKind": "exec"} for p in approvals.pending.values()]


def _pending(ctx: CallContext) -> Pending:
    found = _approvals(ctx).find(ctx.params["id"].strip())
    if found is None:
        raise RpcError(INVALID_REQUEST, "unknown or expired approval id")
    return found


@method("exec.approval.get", scope=APPROVALS, params="ApprovalIdParams")
async def approval_get(ctx: CallContext) -> dict[str, Any]:
    pending = _pending(ctx)
    request = pending.request
    return {"id": pending.id, "commandText": request["command"], "commandPreview": None,
            "allowedDecisions": request["allowedDecisions"], "host": request.get("host"),
            "nodeId": request.get("nodeId"), "agentId": request.get("agentId"), "expiresAtMs": pending.expires_at_ms}


@method("exec.approval.resolve", scope=APPROVALS, params="ApprovalResolveParams")
async def approval_resolve(ctx: CallContext) -> dict[str, Any]:
    from openclaw.tools.approvals import DECISIONS

    decision = ctx.params["decision"]
    if decision not in DECISIONS:
        raise RpcError(INVALID_REQUEST, "invalid decision")
    pending = _pending(ctx)
    client = ctx.conn.client or {}
    _approvals(ctx).resolve(pending, decision, client.get("displayName") or client.get("id"))
    return {"ok": True}


@method("exec.approval.waitDecision", scope=APPROVALS, params="ApprovalWaitParams")
async def approval_wait(ctx: CallContext) -> dict[str, Any]:
    pending = _pending(ctx)
    wait_ms = min(ctx.params.get("timeoutMs", MAX_WAIT_MS), MAX_WAIT_MS, max(0, pending.expires_at_ms - _now_ms()))
    try:
        decision: str | None = await asyncio.wait_for(asyncio.shield(pending.decided), wait_ms / 1000)
    except TimeoutError:
        decision = None
    return {"id": pending.id, "decision": decision, "createdAtMs": pending.created_at_ms,
            "expiresAtMs": pending.expires_at_ms}


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


@method("exec.approval.grants.list", scope=ADMIN, params="LimitParams")
async def grants_list(ctx: CallContext) -> dict[str, Any]:
    return {"grants": []}  # standing grants come from cron-run approvals, which this gateway does not issue


@method("plugin.approval.list", scope=APPROVALS, params="NoParams")
async def plugin_approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    return []  # no plugins, so no plugin approvals


@method("openclaw.approval.list", scope=APPROVALS, params="NoParams")
async def openclaw_approval_list(ctx: CallContext) -> list[dict[str, Any]]:
    return []


@method("exec.approval.request", scope=ADMIN, params="ApprovalRequestParams")
async def approval_request(ctx: CallContext) -> dict[str, Any]:
    """Ask the operators about a command another client would run; answers with their decision
    (None when nobody decided within `timeoutMs`)."""
    p = ctx.params
    request = {"command": p["command"], "cwd": p.get("cwd"), "host": p.get("host") or "gateway",
               "security": p.get("security"), "ask": p.get("ask"), "agentId": p.get("agentId"),
               "sessionKey": p.get("sessionKey"), "nodeId": p.get("nodeId"), "resolvedPath": p.get("resolvedPath")}
    approvals = _approvals(ctx)
    pending = approvals.open_request(request, min(p.get("timeoutMs", MAX_WAIT_MS), MAX_WAIT_MS) / 1000)
    if pending is None:
        raise RpcError(UNAVAILABLE, "too many approvals are pending; resolve some and retry", retryable=True)
    decision = await approvals.wait(pending)
    return {"id": pending.id, "decision": decision, "createdAtMs": pending.created_at_ms,
            "expiresAtMs": pending.expires_at_ms}


@method("approval.get", scope=APPROVALS, params="ApprovalIdParams")
async def any_approval_get(ctx: CallContext) -> dict[str, Any]:
    """A pending approval of any kind: exec approvals are the only kind raised here."""
    pending = _pending(ctx)
    return {**pending.record(), "approvalKind": "exec", "allowedDecisions": pending.request["allowedDecisions"]}


@method("approval.resolve", scope=APPROVALS, params="ApprovalResolveParams")
async def any_approval_resolve(ctx: CallContext) -> dict[str, Any]:
    answer: dict[str, Any] = await approval_resolve(ctx)
    return answer
