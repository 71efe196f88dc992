"""The browser control route table, shared by the control port and `browser.request`.

The table is aiohttp's router. The control port resolves its HTTP requests through it, and so
do the in-process callers (the gateway's `browser.request`, the agent's browser tool), which
have a method, a path, a query and a body but no HTTP request: the router reads only a
request's method and URL, so `dispatch` hands it just those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from yarl import URL

from openclaw.browser.errors import BrowserError
from openclaw.browser.service import BrowserService

Handler = Callable[[BrowserService, dict[str, str], dict[str, Any], dict[str, Any]], Awaitable[Any]]
ROUTER = web.UrlDispatcher()


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register `handler` for `method` on `path` (aiohttp's syntax: `/tabs/{targetId}`)."""

    def register(handler: Handler) -> Handler:
        ROUTER.add_route(method, path, cast(Any, handler))  # resolved by the router, called by dispatch()
        return handler

    return register


def _profile(query: dict[str, Any], body: dict[str, Any]) -> str | None:
    return query.get("profile") or body.get("profile") or None


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes")


@route("GET", "/")
async def status(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.status(_profile(q, b))


@route("POST", "/start")
async def start(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.start(_profile(q, b))


@route("POST", "/stop")
async def stop(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.stop(_profile(q, b))


@route("GET", "/profiles")
async def profiles(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.profiles()


@route("POST", "/profiles/create")
async def create_profile(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.create_profile(b)


@route("DELETE", "/profiles/{name}")
async def delete_profile(svc: BrowserService, p: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.delete_profile(p["name"])


@route("GET", "/tabs")
async def tabs(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.tabs(_profile(q, b))


@route("POST", "/tabs/open")
async def open_tab(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.open_tab(_profile(q, b), str(b.get("url") or ""))


@route("POST", "/tabs/focus")
async def focus_tab(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    if not b.get("targetId"):
        raise BrowserError(400, "BAD_REQUEST", "targetId is required")
    return await svc.focus_tab(_profile(q, b), str(b["targetId"]))


@route("DELETE", "/tabs/{targetId}")
async def close_tab(svc: BrowserService, p: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.close_tab(_profile(q, b), p["targetId"])


@route("POST", "/navigate")
async def navigate(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.navigate(_profile(q, b), str(b.get("url") or ""), b.get("targetId"))


@route("POST", "/screenshot")
async def screenshot(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.screenshot(_profile(q, b), b.get("targetId"), _flag(b.get("fullPage")), _flag(b.get("inline")))


@route("GET", "/screenshot/last")
async def last_screenshot(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.last_screenshot(_profile(q, b))


@route("GET", "/snapshot")
async def take_snapshot(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.snapshot(_profile(q, b), q.get("targetId"), _flag(q.get("interactive")))


@route("POST", "/act")
async def act(svc: BrowserService, _: dict[str, str], q: dict[str, Any], b: dict[str, Any]) -> Any:
    return await svc.act(_profile(q, b), b)


@dataclass(frozen=True)
class _Target:
    """All the router reads of a request it resolves."""

    method: str
    rel_url: URL


async def dispatch(svc: BrowserService, method: str, path: str, query: dict[str, Any] | None = None,
                   body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """(status, body) for one request; errors become `{error, code}` bodies."""
    query, body = query or {}, body or {}
    clean = "/" + path.strip("/") if path.strip("/") else "/"
    verb = method.upper()
    match = await ROUTER.resolve(cast(web.Request, _Target(verb, URL.build(path=clean))))
    if isinstance(match.http_exception, web.HTTPMethodNotAllowed):
        return 405, {"error": f"{verb} is not allowed on {clean}", "code": "METHOD_NOT_ALLOWED"}
    if match.http_exception is not None:
        return 404, {"error": "Not Found", "code": "NOT_FOUND"}
    handler = cast(Handler, match.handler)
    try:
        return 200, await handler(svc, dict(match), query, body)
    except BrowserError as exc:
        return exc.status, exc.body()
    except Exception as exc:  # noqa: BLE001 - a bug in one operation must not kill the service
        return 500, {"error": str(exc) or type(exc).__name__, "code": "INTERNAL"}
