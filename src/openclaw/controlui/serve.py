"""Serving the Control UI's files: a fixed set of packaged assets, strict headers, no directory
walking. `index.html` gets a `<base href>` for the configured base path, so the same files work
at `/` and under `gateway.controlUi.basePath`."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from pathlib import Path

from aiohttp import web

ASSETS = Path(__file__).parent / "assets"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html",
         ".txt": "text/plain"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


@functools.cache
def asset_names() -> frozenset[str]:
    """Every servable file, as a path relative to the assets directory (computed once)."""
    return frozenset(p.relative_to(ASSETS).as_posix() for p in ASSETS.rglob("*")
                     if p.is_file() and p.suffix in TYPES and not p.name.startswith("."))


@functools.cache
def _index(base_path: str) -> bytes:
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    return html.replace('<base href="/">', f'<base href="{base_path}/">', 1).encode()


async def page(base_path: str) -> web.Response:
    body = await asyncio.to_thread(_index, base_path)  # read once, then cached
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers=HEADERS)


@functools.cache
def _load(name: str) -> tuple[bytes, str]:
    """A file's bytes and ETag, read once (the whole UI is a few dozen KB)."""
    body = (ASSETS / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


async def asset(name: str, if_none_match: str | None) -> web.Response:
    """A packaged file by its exact relative name (or 404), revalidated by ETag."""
    if name not in await asyncio.to_thread(asset_names):
        return web.Response(status=404, text="Not Found\n", headers=HEADERS)
    body, etag = await asyncio.to_thread(_load, name)
    headers = {**HEADERS, "ETag": etag}
    if if_none_match and etag in if_none_match:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": TYPES[Path(name).suffix] + "; charset=utf-8"})


def disabled() -> web.Response:
    return web.Response(status=404, text="The Control UI is turned off on this gateway "
                                         "(gateway.controlUi.enabled=false).\n", headers=HEADERS)
