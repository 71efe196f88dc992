"""`openclaw browser ...`: the browser control API through the gateway's `browser.request`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from openclaw.cli.flags import rpc_options
from openclaw.cli.output import print_json, short_path
from openclaw.cli.rpc_common import connect, down_error, target_from
from openclaw.client.rpc import GatewayCallError, GatewayUnreachable
from openclaw.errors import OpenClawError


class Browser:
    """Holds the group's flags; `request` is one browser.request call."""

    def __init__(self, profile: str | None, as_json: bool, url: str | None, token: str | None,
                 password: str | None, timeout: int) -> None:
        self.profile, self.as_json = profile, as_json
        self.target = target_from(url, token, password)
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (query or {}).items() if v is not None}
        if self.profile:
            query["profile"] = self.profile
        params: dict[str, Any] = {"method": method, "path": path, "query": query, "timeoutMs": self.timeout}
        if body is not None:
            params["body"] = body
        client = connect(self.target, self.timeout + 5000)
        try:
            return client.call("browser.request", params, timeout=self.timeout / 1000 + 5)
        except GatewayCallError as exc:
            raise OpenClawError(f"browser: {exc}") from None
        except GatewayUnreachable as exc:
            raise down_error(self.target, exc) from None
        finally:
            client.close()

    def act(self, kind: str, target_id: str | None, **fields: Any) -> Any:
        """POST /act: one interaction with the current (or given) tab."""
        return self.request("POST", "/act", {"kind": kind, **fields, "targetId": target_id})

    def emit(self, payload: Any, text: str | list[str]) -> None:
        if self.as_json:
            print_json(payload)
        else:
            click.echo(text if isinstance(text, str) else "\n".join(text))


pass_browser = click.make_pass_decorator(Browser)


@click.group(help="Drive this profile's browsers (through the gateway).")
@click.option("--browser-profile", help="Browser profile (default: browser.defaultProfile or openclaw).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@rpc_options
@click.pass_context
def browser(ctx: click.Context, browser_profile: str | None, as_json: bool, url: str | None, token: str | None,
            password: str | None, timeout: int) -> None:
    ctx.obj = Browser(browser_profile, as_json, url, token, password, max(timeout, 30_000))


def json_flag(func: Any) -> Any:
    """`--json` after the subcommand too (`openclaw browser status --json`)."""

    def set_json(ctx: click.Context, _: Any, value: bool) -> None:
        if value:
            browser = ctx.find_object(Browser)
            if browser is not None:
                browser.as_json = True

    return click.option("--json", "as_json_local", is_flag=True, expose_value=False, callback=set_json,
                        help="Print JSON.")(func)


@browser.command("status", help="Profile, running, CDP port and URL, executable, headless.")
@json_flag
@pass_browser
def status(b: Browser) -> None:
    s = b.request("GET", "/")
    lines = [f"profile: {s['profile']}", f"enabled: {str(s['enabled']).lower()}",
             f"running: {str(s['running']).lower()}", f"transport: {s['transport']}",
             f"cdpPort: {s['cdpPort'] or '(assigned at first start)'}", f"cdpUrl: {s['cdpUrl'] or '-'}",
             f"browser: {s['chosenBrowser'] or 'unknown'}", f"detectedBrowser: {s['detectedBrowser'] or 'unknown'}",
             f"detectedPath: {short_path(s['detectedExecutablePath']) if s['detectedExecutablePath'] else 'auto'}",
             f"headless: {str(s['headless']).lower()}", f"profileColor: {s['color']}"]
    if s.get("detectError"):
        lines.append(f"detectError: {s['detectError']}")
    b.emit(s, lines)


def _running_line(b: Browser) -> tuple[dict[str, Any], str]:
    s = b.request("GET", "/")
    return s, f"browser [{s['profile']}] running: {str(s['running']).lower()}"


def _lifecycle(action: str, help_text: str) -> click.Command:
    @browser.command(action, help=help_text)
    @json_flag
    @pass_browser
    def command(b: Browser) -> None:
        b.request("POST", f"/{action}", {})
        b.emit(*_running_line(b))

    return command


start = _lifecycle("start", "Start the profile's browser (launches Chromium for managed profiles).")
stop = _lifecycle("stop", "Stop the profile's browser.")


@browser.command("profiles", help="List browser profiles with their CDP ports.")
@json_flag
@pass_browser
def profiles(b: Browser) -> None:
    data = b.request("GET", "/profiles")
    lines = []
    for p in data["profiles"]:
        tags = "".join([f" ({p['tabCount']} tabs)" if p["running"] else "", " [default]" if p["isDefault"] else "",
                        " [remote]" if p["isRemote"] else ""])
        where = f"cdpUrl: {p['cdpUrl']}" if p["isRemote"] else f"port: {p['cdpPort'] or '(assigned at first start)'}"
        lines += [f"{p['name']}: {'running' if p['running'] else 'stopped'}{tags}", f"  {where}, color: {p['color']}"]
    b.emit(data, lines)


@browser.command("create-profile", help="Create a profile: a CDP port from this instance's range, or --cdp-url.")
@click.option("--name", required=True)
@click.option("--color", help="#RRGGBB")
@click.option("--cdp-url", help="Attach to a Chrome someone else runs (never launched).")
@json_flag
@pass_browser
def create_profile(b: Browser, name: str, color: str | None, cdp_url: str | None) -> None:
    body = {k: v for k, v in {"name": name, "color": color, "cdpUrl": cdp_url}.items() if v}
    data = b.request("POST", "/profiles/create", body)
    where = f"cdpUrl: {data['cdpUrl']}" if data["isRemote"] else f"port: {data['cdpPort']}"
    b.emit(data, [f'Created profile "{name}"', f"  {where}", f"  color: {data['color']}"])


@browser.command("delete-profile", help="Delete a profile (its user data moves to <state>/trash).")
@click.option("--name", required=True)
@json_flag
@pass_browser
def delete_profile(b: Browser, name: str) -> None:
    data = b.request("DELETE", f"/profiles/{name}")
    moved = f"user data moved to {data['movedTo']}" if data.get("movedTo") else "no user data found"
    b.emit(data, f'Deleted profile "{name}" ({moved})')


@browser.command("tabs", help="List open tabs.")
@json_flag
@pass_browser
def tabs(b: Browser) -> None:
    data = b.request("GET", "/tabs")
    if not data["tabs"]:
        b.emit(data, "No tabs (browser closed or no targets).")
        return
    lines = []
    for i, tab in enumerate(data["tabs"], 1):
        lines += [f"{i}. {tab['title'] or '(untitled)'}", f"   {tab['url']}", f"   id: {tab['targetId']}"]
    b.emit(data, lines)


@browser.command("open", help="Open a URL in a new tab (starts the browser if needed).")
@click.argument("url")
@json_flag
@pass_browser
def open_tab(b: Browser, url: str) -> None:
    tab = b.request("POST", "/tabs/open", {"url": url})
    b.emit(tab, [f"opened: {tab['url'] or url}", f"id: {tab['targetId']}"])


@browser.command("focus", help="Bring a tab to the front.")
@click.argument("target_id")
@json_flag
@pass_browser
def focus(b: Browser, target_id: str) -> None:
    data = b.request("POST", "/tabs/focus", {"targetId": target_id})
    b.emit(data, f"focused {data['targetId']}")


@browser.command("close", help="Close a tab.")
@click.argument("target_id")
@json_flag
@pass_browser
def close(b: Browser, target_id: str) -> None:
    data = b.request("DELETE", f"/tabs/{target_id}")
    b.emit(data, f"closed {data['targetId']}")


target_option = click.option("--target-id", help="Tab id or unique prefix (default: the last used tab).")


@browser.command("navigate", help="Load a URL in the current (or given) tab.")
@click.argument("url")
@target_option
@json_flag
@pass_browser
def navigate(b: Browser, url: str, target_id: str | None) -> None:
    data = b.request("POST", "/navigate", {"url": url, "targetId": target_id})
    b.emit(data, f"navigated to {data['url']}")


@browser.command("screenshot", help="Take a PNG screenshot; prints MEDIA:<path>.")
@click.option("--full-page", is_flag=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Also write the PNG here.")
@target_option
@json_flag
@pass_browser
def screenshot(b: Browser, full_page: bool, out: str | None, target_id: str | None) -> None:
    data = b.request("POST", "/screenshot", {"fullPage": full_page, "targetId": target_id, "inline": bool(out)})
    if out:
        Path(out).write_bytes(base64.b64decode(data.pop("data")))
    b.emit(data, f"MEDIA:{out or data['path']}")


@browser.command("snapshot", help="The page's accessibility tree with refs (e12) for click/type.")
@click.option("--interactive", is_flag=True, help="Only interactive elements.")
@target_option
@json_flag
@pass_browser
def snapshot(b: Browser, interactive: bool, target_id: str | None) -> None:
    query = {"targetId": target_id, "interactive": "true" if interactive else None}
    data = b.request("GET", "/snapshot", query=query)
    b.emit(data, data["snapshot"] or "(empty page)")


@browser.command("click", help="Click the element with this ref.")
@click.argument("ref")
@target_option
@json_flag
@pass_browser
def click_cmd(b: Browser, ref: str, target_id: str | None) -> None:
    b.emit(b.act("click", target_id, ref=ref), f"clicked {ref}")


@browser.command("type", help="Type text into the element with this ref.")
@click.argument("ref")
@click.argument("text")
@click.option("--submit", is_flag=True, help="Press Enter afterwards.")
@target_option
@json_flag
@pass_browser
def type_cmd(b: Browser, ref: str, text: str, submit: bool, target_id: str | None) -> None:
    b.emit(b.act("type", target_id, ref=ref, text=text, submit=submit), f"typed into {ref}")


@browser.command("press", help="Press a key (Enter, Tab, Escape, ArrowDown, a, ...).")
@click.argument("key")
@target_option
@json_flag
@pass_browser
def press(b: Browser, key: str, target_id: str | None) -> None:
    b.emit(b.act("press", target_id, key=key), f"pressed {key}")
