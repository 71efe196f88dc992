"""`openclaw dashboard [--no-open]`: the Control UI's URL, with the token in the fragment (browsers
never send a fragment to a server), checked against the running gateway first."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

import click

from openclaw.cli.output import json_option, print_json
from openclaw.client.target import resolve_target
from openclaw.config.store import read_config
from openclaw.controlui.paths import dashboard_url, normalize_base_path
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import resolve_paths

PROBE_TIMEOUT_S = 2.0


def check_page(url: str) -> None:
    """The page answers 200 text/html, or one line saying what is wrong."""
    request = urllib.request.Request(url, method="HEAD", headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:  # loopback only
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind != "text/html":
                raise OpenClawError(f"Control UI dashboard is unavailable (got {kind or 'no content type'}).")
    except urllib.error.HTTPError as exc:
        raise OpenClawError(f"Control UI dashboard is unavailable (HTTP {exc.code}).") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OpenClawError(f"The gateway does not answer at {url} ({reason}); start it with "
                            f"`{resolve_paths(os.environ).cli} gateway`.") from None


def has_desktop() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@click.command(help="Print the Control UI's URL (token included) and open it where a desktop exists.")
@click.option("--no-open", is_flag=True, help="Only print the URL.")
@json_option
def dashboard(no_open: bool, as_json: bool) -> None:
    paths = resolve_paths(os.environ)
    target = resolve_target(paths, os.environ)
    snap = read_config(paths.config_path, os.environ, validate=False)
    if snap.get("gateway", "controlUi", "enabled") is False:
        raise OpenClawError("The Control UI is turned off on this gateway; turn it on with: "
                            f"{paths.cli} config set gateway.controlUi.enabled true")
    base = snap.get("gateway", "controlUi", "basePath")
    page = dashboard_url("127.0.0.1", target.port or 0, base)
    check_page(page)
    url = dashboard_url("127.0.0.1", target.port or 0, base, target.token)
    opened = False
    if not no_open and has_desktop():
        import webbrowser

        opened = webbrowser.open(url)
    if as_json:
        print_json({"ok": True, "url": url, "httpUrl": page, "port": target.port,
                    "wsUrl": f"ws://127.0.0.1:{target.port}{normalize_base_path(base)}",
                    "tokenIncluded": bool(target.token), "opened": opened})
        return
    click.echo(f"Dashboard URL: {url}")
    if not target.token and target.password:
        click.echo("This gateway uses a password: the page asks for it.")
    click.echo("Opened in your browser." if opened else "Open it in a browser on this host (the token is in the "
               "part after #, which is never sent over the network).")
