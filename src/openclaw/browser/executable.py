"""Finding a Chromium-family browser: `browser.executablePath`, else the usual install locations."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from openclaw.browser.errors import BrowserError

LINUX = ("google-chrome", "google-chrome-stable", "chrome", "brave-browser", "brave-browser-stable", "brave",
         "microsoft-edge", "microsoft-edge-stable", "chromium", "chromium-browser", "/snap/bin/chromium",
         "/usr/lib/chromium/chromium", "/opt/google/chrome/chrome")
MAC = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
       "/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
       "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
       "/Applications/Chromium.app/Contents/MacOS/Chromium")
WINDOWS = (r"Google\Chrome\Application\chrome.exe", r"BraveSoftware\Brave-Browser\Application\brave.exe",
           r"Microsoft\Edge\Application\msedge.exe", r"Chromium\Application\chrome.exe")


def kind_of(path: str) -> str:
    name = Path(path).name.lower()
    return next((kind for kind in ("brave", "edge", "chromium", "chrome") if kind in name), "custom")


def _candidates(env: Mapping[str, str]) -> list[str]:
    if sys.platform == "darwin":
        home = os.path.expanduser("~")
        return [p for base in MAC for p in (base, home + base)]
    if sys.platform == "win32":
        roots = [env.get(k, "") for k in ("LOCALAPPDATA", "PROGRAMFILES", "PROGRAMFILES(X86)")]
        return [os.path.join(r, c) for r in roots if r for c in WINDOWS]
    return list(LINUX)


def find_browser(configured: str | None, env: Mapping[str, str]) -> tuple[str, str]:
    """(path, kind). A configured path must exist; otherwise the first installed browser wins."""
    if configured:
        path = os.path.expanduser(configured)
        if not os.path.isfile(path):
            raise BrowserError(400, "BROWSER_NOT_FOUND", f"browser.executablePath not found: {configured}")
        return path, kind_of(path)
    import shutil  # imported here: shutil pulls in bz2/lzma, which an idle gateway does not need

    for candidate in _candidates(env):
        found = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return found, kind_of(found)
    raise BrowserError(
        503, "BROWSER_NOT_FOUND",
        "No supported browser found (Chrome/Brave/Edge/Chromium); install one or set browser.executablePath",
    )
