"""Which config changes a running gateway can apply live and which need a restart."""

from __future__ import annotations

RESTART_PREFIXES = ("gateway", "browser", "canvasHost", "discovery", "plugins.load", "plugins.installs")
HOT_PREFIXES = (
    "gateway.reload", "gateway.remote",
    # the browser service reads these on every request, and profiles change at runtime
    "browser.profiles", "browser.defaultProfile", "browser.headless", "browser.executablePath", "browser.cdpUrl",
    "canvasHost.root", "canvasHost.liveReload",
)


def under(path: str, prefix: str) -> bool:
    """`path` is `prefix` or lies inside it (`gateway.port` is under `gateway`)."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def needs_restart(path: str) -> bool:
    if any(under(path, p) for p in HOT_PREFIXES):
        return False
    return any(under(path, p) for p in RESTART_PREFIXES)


def restart_paths(changed: list[str]) -> list[str]:
    return [p for p in changed if needs_restart(p)]
