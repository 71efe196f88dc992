"""`browser.request`: the browser control API through the gateway socket (operator.write)."""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.protocol import INVALID_REQUEST, UNAVAILABLE, RpcError
from openclaw.gateway.scopes import WRITE


@method("browser.request", scope=WRITE, params="BrowserRequestParams")
async def browser_request(ctx: CallContext) -> Any:
    from openclaw.browser.routes import dispatch

    p = ctx.params
    verb = p["method"].upper()
    if verb not in ("GET", "POST", "DELETE"):
        raise RpcError(INVALID_REQUEST, "invalid browser.request params: method must be GET, POST or DELETE")
    if ctx.gateway.settings.snapshot.get("browser", "enabled") is False:
        raise RpcError(UNAVAILABLE, "browser control is disabled (browser.enabled=false)")
    query = {k: str(v) for k, v in (p.get("query") or {}).items()}
    try:
        status, body = await asyncio.wait_for(
            dispatch(ctx.gateway.browser, verb, p["path"], query, p.get("body") or {}),
            (p.get("timeoutMs") or 45_000) / 1000,
        )
    except TimeoutError:
        raise RpcError(UNAVAILABLE, f"browser.request {verb} {p['path']} timed out") from None
    if status >= 400:
        message = body.get("error", f"HTTP {status}") if isinstance(body, dict) else str(body)
        raise RpcError(UNAVAILABLE if status >= 500 else INVALID_REQUEST, message,
                       {**(body if isinstance(body, dict) else {}), "status": status})
    return body
