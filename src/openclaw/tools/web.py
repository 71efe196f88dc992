"""`web_fetch`: a page's text, never from this host or its private network unless allowed.

Names are resolved once, by a resolver that refuses loopback, private,
link-local and other non-public addresses (`tools.webFetch.allowPrivateNetwork:
true` lifts that), and the connection goes to exactly what was checked; each
redirect is checked the same way. Answers are capped in size and time: a page
is read to its end or to `MAX_BYTES`, however it arrives, and a cut one says so.
"""

from __future__ import annotations

import codecs
import html.parser
import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from openclaw.agents.tools import Tool, ToolContext, ToolError
from openclaw.config.view import Config
from openclaw.httpbody import read_prefix
from openclaw.models.types import ToolSpec

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_S = 20.0
MAX_TEXT = 40_000
CUT_NOTE = f"\n[... the page is longer than {MAX_BYTES} bytes; only its beginning was read]"


def public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _literal(host: str) -> bool:
    """An IP address written in the URL (aiohttp connects to those without asking the resolver)."""
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


class CheckedResolver(AbstractResolver):
    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            blocked = [r["host"] for r in found if not public(r["host"])]
            if blocked:  # not an OSError: aiohttp would hide the reason behind "cannot connect"
                raise ToolError(f"{host} resolves to {blocked[0]}, a loopback or private address; "
                                "web_fetch does not reach this host or its network")
        return found

    async def close(self) -> None:
        await self._inner.close()


class _Text(html.parser.HTMLParser):
    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "noscript", "template", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def page_text(raw: str) -> str:
    parser = _Text()
    parser.feed(raw)
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", "".join(parser.parts))).strip()


async def fetch(url: str, allow_private: bool) -> tuple[int, str, str]:
    """(status, content type, text) of `url` after redirects."""
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(allow_private), limit=4)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ToolError(f"only http and https URLs can be fetched (got {url[:80]})")
            if not allow_private and _literal(parts.hostname) and not public(parts.hostname):
                raise ToolError(f"{parts.hostname} is a loopback or private address; "
                                "web_fetch does not reach this host or its network")
            try:
                headers = {"User-Agent": "openclaw-web-fetch"}
                async with session.get(url, allow_redirects=False, headers=headers) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    body, whole = await read_prefix(resp.content, MAX_BYTES)
                    kind = resp.headers.get("Content-Type", "")
                    text = body.decode(_encoding(resp), errors="replace")
                    return resp.status, kind, text if whole else text + CUT_NOTE
            except (aiohttp.ClientError, OSError) as exc:
                raise ToolError(f"fetching {url} failed: {exc}") from None
            except TimeoutError:
                raise ToolError(f"fetching {url} took longer than {TIMEOUT_S:g}s") from None
        raise ToolError(f"more than {MAX_REDIRECTS} redirects")


def _encoding(resp: aiohttp.ClientResponse) -> str:
    """The charset the server named (if Python knows it), else UTF-8."""
    try:
        return codecs.lookup(resp.charset).name if resp.charset else "utf-8"
    except LookupError:
        return "utf-8"


def web_fetch_tool(config: Callable[[], Config]) -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        url = args.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ToolError("url is required")
        status, kind, text = await fetch(url.strip(), config().web_fetch_private)
        if "html" in kind:
            text = page_text(text)
        text = text[:MAX_TEXT] + (f"\n[... cut at {MAX_TEXT} characters]" if len(text) > MAX_TEXT else "")
        return f"HTTP {status} {kind}\n\n{text}"

    return Tool(ToolSpec("web_fetch", "Fetch a public web page and return its text.",
                         {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}), run)
