"""`browser`: this instance's own browser service: open a page, read it, act on it, look at it.

Only web pages: the browser runs outside the tools' fence, so `file:` and the browser's own
schemes (which show local files and settings) are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.models.types import ToolSpec

ACTIONS = ("open", "navigate", "snapshot", "click", "type", "press", "screenshot", "tabs")
WEB_SCHEMES = ("http://", "https://")


def web_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ToolError("url is required")
    text = url.strip()
    if text.lower() == "about:blank" or text.lower().startswith(WEB_SCHEMES):
        return text
    if "://" not in text and ":" not in text.split("/", 1)[0]:
        return "https://" + text  # a bare host name, as a person would type it
    raise ToolError("the browser tool opens http(s) pages only (file: and browser-internal pages would show "
                    "this host's files and settings)")


def browser_tool(service: Callable[[], Any]) -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        from openclaw.browser.routes import dispatch

        action = args.get("action")
        if action not in ACTIONS:
            raise ToolError(f"action must be one of {', '.join(ACTIONS)}")
        profile = {"profile": args["profile"]} if args.get("profile") else {}
        if action in ("open", "navigate"):
            url = web_url(args.get("url"))
            path = "/tabs/open" if action == "open" else "/navigate"
            status, body = await dispatch(service(), "POST", path, {}, {**profile, "url": url})
        elif action == "snapshot":
            only = {"interactive": "true"} if args.get("interactive") else {}  # just what can be acted on
            status, body = await dispatch(service(), "GET", "/snapshot", {**profile, **only}, {})
        elif action == "screenshot":
            status, body = await dispatch(service(), "POST", "/screenshot", {}, profile)
        elif action == "tabs":
            status, body = await dispatch(service(), "GET", "/tabs", profile, {})
        else:
            act = {"kind": action, "ref": args.get("ref"), **profile}
            if action == "type":
                act["text"] = args.get("text", "")
            if action == "press":
                act["key"] = args.get("key", "")
            status, body = await dispatch(service(), "POST", "/act", {}, act)
        if status >= 400:
            raise ToolError(body.get("error", f"HTTP {status}") if isinstance(body, dict) else str(body))
        snapshot = body.get("snapshot") if isinstance(body, dict) else None
        if isinstance(snapshot, str):
            return snapshot
        return json.dumps(body, ensure_ascii=False)[:20_000]

    return Tool(ToolSpec("browser", "Drive this gateway's browser: open/navigate a URL, snapshot the page "
                                    "(its text, with refs like e12 on what can be acted on; interactive=true "
                                    "for those only), click/type/press by ref, screenshot, list tabs.",
                         {"type": "object", "properties": {
                             "action": {"type": "string", "enum": list(ACTIONS)}, "url": {"type": "string"},
                             "ref": {"type": "string"}, "text": {"type": "string"}, "key": {"type": "string"},
                             "profile": {"type": "string"}, "interactive": {"type": "boolean"}},
                          "required": ["action"]}), run, kind="act")
