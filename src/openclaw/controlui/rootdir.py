"""Serving a Control UI build from a directory (`gateway.controlUi.root`), as upstream's gateway
serves its own `dist/control-ui`: files by relative path inside the root (no escaping it by `..` or
symlinks), `index.html` for every other page path (the app routes in the browser), and the page
told its base path through upstream's `<html>` attributes, with a CSP that admits exactly its own
inline scripts (by hash)."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import html
import mimetypes
import re
from pathlib import Path

from aiohttp import web

MAX_FILE_BYTES = 32 * 1024 * 1024  # the largest bundle of a UI build is a few MB
ROOT_FILES = ("apple-touch-icon.png", "favicon-32.png", "favicon.ico", "favicon.svg", "manifest.webmanifest",
              "sw.js")
STATIC = frozenset((".js", ".mjs", ".css", ".map", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico",
                    ".json", ".webmanifest", ".woff", ".woff2", ".ttf", ".wasm", ".txt"))
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".webmanifest": "application/manifest+json",
         ".wasm": "application/wasm", ".woff2": "font/woff2", ".map": "application/json"}
BASE_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Permissions-Policy": "camera=(self), microphone=*, geolocation=*, clipboard-write=*"}
INLINE_SCRIPT = re.compile(r"<script(\s[^>]*)?>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def csp(script_hashes: tuple[str, ...] = ()) -> str:
    """The same policy upstream's gateway sends with its UI (its scripts' hashes added for the page)."""
    scripts = " ".join(["'self'", *(f"'{h}'" for h in script_hashes)])
    return "; ".join(["default-src 'self'", "base-uri 'none'", "object-src 'none'", "frame-ancestors 'none'",
                      "frame-src 'self' http: https:", f"script-src {scripts}",
                      "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob: https:",
                      "media-src 'self' data: blob:", "font-src 'self'", "worker-src 'self'",
                      "connect-src 'self' ws: wss: data:"])


def headers(script_hashes: tuple[str, ...] = ()) -> dict[str, str]:
    return {**BASE_HEADERS, "Content-Security-Policy": csp(script_hashes)}


def _script_hashes(page: str) -> tuple[str, ...]:
    out = []
    for match in INLINE_SCRIPT.finditer(page):
        attrs, body = match.group(1) or "", match.group(2)
        if re.search(r"(^|\s)src\s*=", attrs, re.IGNORECASE) or not body:
            continue
        out.append("sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _index(root: str, base: str, mtime_ns: int) -> tuple[bytes, tuple[str, ...]]:
    """index.html with its asset links anchored at the base path and the base path in `<html>`."""
    page = (Path(root) / "index.html").read_text(encoding="utf-8")
    page = page.replace('src="./assets/', f'src="{base}/assets/').replace('href="./assets/', f'href="{base}/assets/')
    for name in ROOT_FILES:
        anchored = f'href="{base}/{name}"'
        page = page.replace(f'href="./{name}"', anchored).replace(f'href="/{name}"', anchored)
    attrs = f' data-openclaw-control-ui-base-path="{html.escape(base)}" data-openclaw-terminal-enabled="false"'
    page = re.sub(r"<html\b", lambda _: "<html" + attrs, page, count=1, flags=re.IGNORECASE)
    return page.encode(), _script_hashes(page)


def _resolve(root: str, rel: str) -> Path | None:
    """The regular file `rel` names inside `root`, or None (outside it, missing, or too large)."""
    if not rel or "\0" in rel or rel.startswith("/") or ".." in rel.split("/"):
        return None
    base = Path(root).resolve()
    try:
        path = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(base) or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    return path


def _read(root: str, rel: str) -> tuple[bytes, str] | None:
    path = _resolve(root, rel)
    if path is None:
        return None
    kind = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.read_bytes(), kind


def missing(root: str) -> web.Response:
    return web.Response(status=503, text=f"Control UI assets not found at {root}; point "
                                         "gateway.controlUi.root at a built Control UI (a folder with index.html).\n",
                        headers=headers())


async def page(root: str, base: str) -> web.Response:
    try:
        mtime = (await asyncio.to_thread((Path(root) / "index.html").stat)).st_mtime_ns
        body, hashes = await asyncio.to_thread(_index, root, base, mtime)
    except OSError:
        return missing(root)
    return web.Response(body=body, content_type="text/html", charset="utf-8",
                        headers={**headers(hashes), "Cache-Control": "no-cache"})


async def serve(root: str, base: str, rel: str, accept: str) -> web.Response:
    """A file of the build by its path below the base path; else the app's page for page paths."""
    if rel.startswith("__openclaw__/") and rel[len("__openclaw__/"):] in ROOT_FILES:
        rel = rel[len("__openclaw__/"):]
    at = f"/{rel}".find("/assets/")
    if at >= 0:  # `/chat/assets/x.js` is `assets/x.js`, as upstream resolves it
        rel = f"/{rel}"[at + 1:]
    if rel in ("", "index.html"):
        return await page(root, base)
    found = await asyncio.to_thread(_read, root, rel)
    if found is not None:
        body, kind = found
        immutable = rel.startswith("assets/")
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return web.Response(body=body, headers={**headers(), "Content-Type": kind, "Cache-Control": cache})
    if Path(rel).suffix.lower() in STATIC or ("text/html" not in accept and "*/*" not in accept):
        return web.Response(status=404, text="Not Found\n", headers=headers())
    return await page(root, base)
