"""Where the Control UI lives on a gateway port (shared by the gateway and `openclaw dashboard`)."""

from __future__ import annotations


def normalize_base_path(raw: object) -> str:
    """`/`, `/openclaw`, `openclaw/` -> "" or "/openclaw" (no trailing slash)."""
    text = str(raw or "").strip().strip("/")
    return f"/{text}" if text else ""


def dashboard_url(host: str, port: int, base_path: object, token: str | None = None) -> str:
    """The page's URL; a token goes in the fragment, which browsers never send to a server."""
    from urllib.parse import quote

    url = f"http://{host}:{port}{normalize_base_path(base_path)}/"
    return f"{url}#token={quote(token, safe='')}" if token else url
