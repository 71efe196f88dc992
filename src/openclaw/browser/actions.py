"""Acting on a page by ref: click, type, press (real input events through CDP)."""

from __future__ import annotations

from typing import Any

from openclaw.browser.cdp import CdpConnection
from openclaw.browser.errors import BrowserError
from openclaw.browser.snapshot import backend_id

KEYS: dict[str, tuple[str, int, str]] = {  # key -> (code, keyCode, text)
    "Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, ""), "Escape": ("Escape", 27, ""),
    "Backspace": ("Backspace", 8, ""), "Delete": ("Delete", 46, ""), " ": ("Space", 32, " "),
    "Space": ("Space", 32, " "), "ArrowUp": ("ArrowUp", 38, ""), "ArrowDown": ("ArrowDown", 40, ""),
    "ArrowLeft": ("ArrowLeft", 37, ""), "ArrowRight": ("ArrowRight", 39, ""), "Home": ("Home", 36, ""),
    "End": ("End", 35, ""), "PageUp": ("PageUp", 33, ""), "PageDown": ("PageDown", 34, ""),
}


async def _node(conn: CdpConnection, ref: str) -> int:
    backend = backend_id(ref or "")
    if backend is None:
        raise BrowserError(400, "ACT_INVALID_REQUEST", f"invalid ref {ref!r}; refs look like e12 (from a snapshot)")
    try:
        await conn.send("DOM.describeNode", {"backendNodeId": backend})
    except BrowserError:
        raise BrowserError(404, "REF_NOT_FOUND",
                           f"ref {ref} is not on the page any more; take a new snapshot") from None
    return backend


async def click(conn: CdpConnection, ref: str) -> None:
    backend = await _node(conn, ref)
    await conn.send("DOM.scrollIntoViewIfNeeded", {"backendNodeId": backend})
    try:
        quads = (await conn.send("DOM.getContentQuads", {"backendNodeId": backend})).get("quads") or []
    except BrowserError:
        quads = []
    if not quads:
        raise BrowserError(409, "ACT_NOT_VISIBLE", f"ref {ref} has no visible box to click")
    quad = quads[0]
    x = sum(quad[0::2]) / 4
    y = sum(quad[1::2]) / 4
    await conn.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    for kind in ("mousePressed", "mouseReleased"):
        await conn.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})


async def type_text(conn: CdpConnection, ref: str, text: str, submit: bool = False) -> None:
    backend = await _node(conn, ref)
    await conn.send("DOM.focus", {"backendNodeId": backend})
    await conn.send("Input.insertText", {"text": text})
    if submit:
        await press(conn, "Enter")


async def press(conn: CdpConnection, key: str) -> None:
    if not key:
        raise BrowserError(400, "ACT_INVALID_REQUEST", "press needs a key (e.g. Enter, Tab, a)")
    code, key_code, text = KEYS.get(key) or _char_key(key)
    base: dict[str, Any] = {"key": key, "code": code, "windowsVirtualKeyCode": key_code,
                            "nativeVirtualKeyCode": key_code}
    await conn.send("Input.dispatchKeyEvent", {"type": "keyDown", **base, **({"text": text} if text else {})})
    await conn.send("Input.dispatchKeyEvent", {"type": "keyUp", **base})


def _char_key(key: str) -> tuple[str, int, str]:
    if len(key) != 1:
        raise BrowserError(400, "ACT_INVALID_REQUEST", f"unknown key {key!r}; use one character or a name like Enter")
    upper = key.upper()
    code = f"Key{upper}" if upper.isalpha() else (f"Digit{key}" if key.isdigit() else "")
    return code, ord(upper), key
