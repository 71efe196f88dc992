"""The browser control service: profiles, their Chromiums, tabs and page operations.

One instance lives in the gateway process. Its operations back the HTTP API
on the control port and the gateway's `browser.request` method alike.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from openclaw import logfile
from openclaw.browser import actions, cdp, snapshot
from openclaw.browser.chromium import ManagedBrowser, needs_headless
from openclaw.browser.errors import BrowserError, bad_request, not_running
from openclaw.browser.executable import find_browser
from openclaw.browser.profiles import BrowserConfig, BrowserProfile, check_name, first_free_port
from openclaw.config.store import read_config, update_config
from openclaw.profiles.paths import InstancePaths

NAVIGATE_TIMEOUT_S = 15.0


class BrowserService:
    def __init__(self, paths: InstancePaths, settings: Callable[[], Any], env: Mapping[str, str]) -> None:
        self.paths = paths
        self.env = env
        self._settings = settings  # the gateway's current GatewaySettings
        self.browsers: dict[str, ManagedBrowser] = {}
        self.last_target: dict[str, str] = {}
        self.known_refs: dict[str, set[str]] = {}  # targetId -> refs of its latest snapshot
        self.last_shots: dict[str, dict[str, Any]] = {}  # profile -> its latest screenshot (no image data)
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    # -- config -------------------------------------------------------------------------------
    def config(self) -> BrowserConfig:
        """Read fresh from disk (profiles change at runtime); the running snapshot if the file is broken."""
        settings = self._settings()
        snap = read_config(self.paths.config_path, self.env, validate=False)
        config = settings.config if snap.issues or not snap.exists else snap.view()
        return BrowserConfig.from_config(config, settings.footprint, self.paths.state_dir)

    def profile(self, name: str | None) -> BrowserProfile:
        cfg = self.config()
        return cfg.resolve(name or cfg.default_profile)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _persist(self, mutate: Callable[[dict[str, Any]], None]) -> None:
        await asyncio.to_thread(update_config, self.paths.config_path, mutate, self.env)

    async def _ensure_port(self, prof: BrowserProfile) -> BrowserProfile:
        """Give a managed profile its CDP port on first use and write it to the config."""
        if prof.remote or prof.cdp_port:
            return prof
        port = await self._free_port(self.config())

        def mutate(data: dict[str, Any]) -> None:
            entry = data.setdefault("browser", {}).setdefault("profiles", {}).setdefault(prof.name, {})
            entry.setdefault("cdpPort", port)

        await self._persist(mutate)
        logfile.info(f'browser profile "{prof.name}" gets CDP port {port}', subsystem="browser")
        return self.profile(prof.name)

    async def _free_port(self, cfg: BrowserConfig) -> int:
        """The first CDP port of this instance's range that no listener and no other instance holds."""
        return first_free_port(cfg, await asyncio.to_thread(_taken_ports, self.paths, self.env))

    # -- lifecycle ----------------------------------------------------------------------------
    def adopt_leftovers(self) -> None:
        """Take over browsers our profiles launched before the gateway was killed."""
        cfg = self.config()
        for name in cfg.names():
            prof = cfg.resolve(name)
            if prof.remote or not prof.cdp_port or name in self.browsers:
                continue
            probe = ManagedBrowser(prof, "", "unknown", False, False, self.env)
            pid = probe.leftover_pid()
            if pid:
                probe.pid, probe.adopted = pid, True
                self.browsers[name] = probe
                logfile.info(f'adopted the running browser of profile "{name}" (pid {pid})', subsystem="browser")

    async def start(self, name: str | None) -> dict[str, Any]:
        async with self._lock:
            prof = await self._ensure_port(self.profile(name))
            if prof.remote:
                if not await self._answering(prof):
                    raise BrowserError(409, "REMOTE_UNREACHABLE",
                                       f'Remote CDP for profile "{prof.name}" is not reachable at {prof.cdp_url}')
                return {"ok": True, "profile": prof.name}
            current = self.browsers.get(prof.name)
            if current and current.alive() and await self._answering(prof):
                return {"ok": True, "profile": prof.name}
            cfg = self.config()
            executable, kind = find_browser(cfg.executable_path, self.env)
            browser = ManagedBrowser(prof, executable, kind, needs_headless(cfg.headless, self.env), cfg.no_sandbox,
                                     self.env)
            started = time.monotonic()
            await browser.start(self.session)
            self.browsers[prof.name] = browser
            logfile.info(f'browser started ({kind}) profile "{prof.name}" on 127.0.0.1:{prof.cdp_port} '
                         f"(pid {browser.pid}{', adopted' if browser.adopted else ''}) in "
                         f"{(time.monotonic() - started) * 1000:.0f}ms", subsystem="browser")
            return {"ok": True, "profile": prof.name}

    async def stop(self, name: str | None) -> dict[str, Any]:
        prof = self.profile(name)
        browser = self.browsers.pop(prof.name, None)
        stopped = bool(browser and await browser.stop())
        self.last_target.pop(prof.name, None)
        return {"ok": True, "stopped": stopped, "profile": prof.name}

    async def shutdown(self) -> None:
        """Stop every browser we launched or adopted (gateway stop)."""
        await asyncio.gather(*(b.stop() for b in self.browsers.values()), return_exceptions=True)
        self.browsers.clear()
        if self._session is not None:
            await self._session.close()

    # -- status and profiles ------------------------------------------------------------------
    async def status(self, name: str | None) -> dict[str, Any]:
        cfg = self.config()
        prof = cfg.resolve(name or cfg.default_profile)
        running = await self._answering(prof, timeout=0.3)
        browser = self.browsers.get(prof.name)
        try:
            detected, kind, error = (*find_browser(cfg.executable_path, self.env), None)
        except BrowserError as exc:
            detected, kind, error = None, None, exc.message
        return {
            "enabled": cfg.enabled, "profile": prof.name, "driver": "openclaw", "transport": "cdp",
            "running": running, "cdpReady": running, "pid": browser.pid if browser else None,
            "cdpPort": prof.cdp_port, "cdpUrl": prof.cdp_url or None,
            "chosenBrowser": browser.kind if browser and running else None, "detectedBrowser": kind,
            "detectedExecutablePath": detected, "detectError": error,
            "userDataDir": str(prof.user_data_dir) if prof.user_data_dir else None, "color": prof.color,
            "headless": needs_headless(cfg.headless, self.env), "attachOnly": prof.remote,
            "controlPort": cfg.control_port,
        }

    async def profiles(self) -> dict[str, Any]:
        cfg = self.config()
        out = []
        for name in cfg.names():
            prof = cfg.resolve(name)
            running = await self._answering(prof, timeout=0.3)
            tabs = len(await self._pages(prof)) if running else 0
            out.append({**prof.as_dict(), "running": running, "tabCount": tabs,
                        "isDefault": name == cfg.default_profile})
        return {"profiles": out}

    async def create_profile(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("name") or "")
        check_name(name)
        cfg = self.config()
        if name in cfg.profiles:
            raise BrowserError(409, "PROFILE_EXISTS", f'browser profile "{name}" already exists')
        entry: dict[str, Any] = {"color": body["color"]} if body.get("color") else {}
        if body.get("cdpUrl"):
            url = str(body["cdpUrl"])
            if not url.startswith(("http://", "https://", "ws://", "wss://")):
                raise bad_request("cdpUrl must be an http(s):// or ws(s):// URL")
            entry["cdpUrl"] = url
        else:
            entry["cdpPort"] = body.get("cdpPort") or await self._free_port(cfg)

        def add(data: dict[str, Any]) -> None:
            data.setdefault("browser", {}).setdefault("profiles", {})[name] = entry

        await self._persist(add)
        prof = self.profile(name)
        return {"ok": True, "profile": name, **{k: v for k, v in prof.as_dict().items() if k != "name"}}

    async def delete_profile(self, name: str) -> dict[str, Any]:
        cfg = self.config()
        if name == cfg.default_profile:
            raise bad_request(f'cannot delete the default profile "{name}"', "DEFAULT_PROFILE")
        if name not in cfg.profiles:
            raise BrowserError(404, "PROFILE_NOT_FOUND", f'browser profile "{name}" not found')
        await self.stop(name)
        data_dir = cfg.user_data_dir(name).parent
        moved = None
        if data_dir.exists():
            trash = self.paths.state_dir / "trash"
            trash.mkdir(parents=True, exist_ok=True)
            moved = trash / f"browser-{name}-{int(time.time())}"
            await asyncio.to_thread(os.replace, data_dir, moved)
        await self._persist(lambda data: data.get("browser", {}).get("profiles", {}).pop(name, None))
        return {"ok": True, "profile": name, "deleted": True, "movedTo": str(moved) if moved else None}

    # -- tabs ------------------------------------------------------------------------------------
    async def _answering(self, prof: BrowserProfile, timeout: float = 1.0) -> bool:
        """Does the profile's CDP endpoint answer `/json/version`?"""
        return bool(prof.cdp_url) and await cdp.version(self.session, prof.cdp_url, timeout) is not None

    async def _running(self, name: str | None) -> BrowserProfile:
        prof = self.profile(name)
        if not await self._answering(prof):
            raise not_running(prof.name)
        return prof

    async def _pages(self, prof: BrowserProfile) -> list[dict[str, Any]]:
        return [t for t in await cdp.targets(self.session, prof.cdp_url) if t.get("type") == "page"]

    async def tabs(self, name: str | None) -> dict[str, Any]:
        prof = self.profile(name)
        if not await self._answering(prof):
            return {"running": False, "tabs": []}
        return {"running": True, "tabs": [_tab(t) for t in await self._pages(prof)]}

    async def open_tab(self, name: str | None, url: str) -> dict[str, Any]:
        if not url:
            raise bad_request("url is required")
        prof = self.profile(name)
        if not prof.remote:
            await self.start(prof.name)
        prof = await self._running(prof.name)
        tab = await cdp.new_tab(self.session, prof.cdp_url, url)
        self.last_target[prof.name] = tab["id"]
        if tab.get("webSocketDebuggerUrl"):
            await self._settle(tab["webSocketDebuggerUrl"], url)
        return _tab(tab)

    async def _settle(self, ws_url: str, url: str) -> None:
        """Wait (bounded) until a new tab has left about:blank and finished loading, so the snapshot
        that usually follows an open sees the page rather than an empty document."""
        conn = await cdp.CdpConnection.open(self.session, ws_url)
        deadline = time.monotonic() + NAVIGATE_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                try:
                    result = await conn.send("Runtime.evaluate", {"expression": "[document.readyState, location.href]",
                                                                  "returnByValue": True})
                except BrowserError as exc:
                    if exc.code != "CDP_ERROR":  # a context torn down mid-navigation: ask again
                        raise
                    result = {}
                state, href = (result.get("result") or {}).get("value") or ("", "")
                if state == "complete" and (href != "about:blank" or url == "about:blank"):
                    return
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    async def focus_tab(self, name: str | None, target_id: str) -> dict[str, Any]:
        prof = await self._running(name)
        target = await self._target(prof, target_id)
        await cdp.activate(self.session, prof.cdp_url, target["id"])
        self.last_target[prof.name] = target["id"]
        return {"ok": True, "targetId": target["id"]}

    async def close_tab(self, name: str | None, target_id: str) -> dict[str, Any]:
        prof = await self._running(name)
        target = await self._target(prof, target_id)
        await cdp.close_tab(self.session, prof.cdp_url, target["id"])
        if self.last_target.get(prof.name) == target["id"]:
            self.last_target.pop(prof.name)
        return {"ok": True, "targetId": target["id"]}

    async def _target(self, prof: BrowserProfile, target_id: str | None) -> dict[str, Any]:
        pages = await self._pages(prof)
        if target_id:
            matches = [p for p in pages if p["id"] == target_id] or [p for p in pages if p["id"].startswith(target_id)]
            if len(matches) > 1:
                raise BrowserError(409, "AMBIGUOUS_TARGET", "ambiguous target id prefix")
            if not matches:
                raise BrowserError(404, "TAB_NOT_FOUND", "tab not found")
            return matches[0]
        last = self.last_target.get(prof.name)
        chosen = next((p for p in pages if p["id"] == last), None) or (pages[0] if pages else None)
        if chosen is None:
            chosen = await cdp.new_tab(self.session, prof.cdp_url, "about:blank")
        self.last_target[prof.name] = chosen["id"]
        return chosen

    async def _page(
        self, name: str | None, target_id: str | None
    ) -> tuple[BrowserProfile, dict[str, Any], cdp.CdpConnection]:
        prof = await self._running(name)
        target = await self._target(prof, target_id)
        return prof, target, await cdp.CdpConnection.open(self.session, target["webSocketDebuggerUrl"])

    # -- page operations ---------------------------------------------------------------------
    async def navigate(self, name: str | None, url: str, target_id: str | None) -> dict[str, Any]:
        if not url:
            raise bad_request("url is required")
        _, target, conn = await self._page(name, target_id)
        try:
            await conn.send("Page.enable")
            loaded = conn.expect("Page.loadEventFired")
            result = await conn.send("Page.navigate", {"url": url})
            if result.get("errorText"):
                raise BrowserError(400, "NAVIGATION_FAILED", f"navigation to {url} failed: {result['errorText']}")
            with contextlib.suppress(TimeoutError):  # slow page: report where we are anyway
                await asyncio.wait_for(loaded, NAVIGATE_TIMEOUT_S)
            return {"ok": True, "targetId": target["id"], "url": await _location(conn)}
        finally:
            await conn.close()

    async def screenshot(
        self, name: str | None, target_id: str | None, full_page: bool, inline: bool
    ) -> dict[str, Any]:
        prof, target, conn = await self._page(name, target_id)
        try:
            params: dict[str, Any] = {"format": "png"}
            if full_page:
                size = (await conn.send("Page.getLayoutMetrics")).get("cssContentSize") or {}
                params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "scale": 1,
                              "width": size.get("width", 800), "height": size.get("height", 600)})
            data = base64.b64decode((await conn.send("Page.captureScreenshot", params))["data"])
            url = await _location(conn)
        finally:
            await conn.close()
        media = media_dir(self.paths.state_dir)
        media.mkdir(parents=True, exist_ok=True)
        path = media / f"{prof.name}-{time.strftime('%Y%m%d-%H%M%S')}-{target['id'][:8]}.png"
        await asyncio.to_thread(path.write_bytes, data)
        out = {"ok": True, "path": str(path), "targetId": target["id"], "url": url, "bytes": len(data),
               "type": "png"}
        self.last_shots[prof.name] = {**out, "profile": prof.name, "takenAt": int(time.time() * 1000)}
        if inline:
            out["data"] = base64.b64encode(data).decode()
        return out

    async def last_screenshot(self, name: str | None) -> dict[str, Any]:
        """The latest screenshot this service took of the profile (by anyone: CLI, agent, UI), inline."""
        prof = self.profile(name)
        shot = self.last_shots.get(prof.name)
        if shot is None:
            raise BrowserError(404, "NO_SCREENSHOT", f"no screenshot of profile {prof.name} since the gateway started")
        try:
            data = await asyncio.to_thread(Path(shot["path"]).read_bytes)
        except OSError:
            raise BrowserError(404, "NO_SCREENSHOT", f"the last screenshot ({shot['path']}) is gone") from None
        return {**shot, "data": base64.b64encode(data).decode()}

    async def snapshot(self, name: str | None, target_id: str | None, interactive: bool) -> dict[str, Any]:
        _, target, conn = await self._page(name, target_id)
        try:
            await conn.send("DOM.enable")
            tree = await conn.send("Accessibility.getFullAXTree")
            url = await _location(conn)
        finally:
            await conn.close()
        rows = snapshot.build(tree.get("nodes") or [], interactive_only=interactive)
        self.known_refs[target["id"]] = {r["ref"] for r in rows if r["ref"]}
        return {"ok": True, "format": "aria", "targetId": target["id"], "url": url, "nodes": rows,
                "snapshot": snapshot.render(rows)}

    async def act(self, name: str | None, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("kind")
        if not kind:
            raise BrowserError(400, "ACT_KIND_REQUIRED", "act needs a kind: click, type or press")
        if kind not in ("click", "type", "press"):
            raise BrowserError(400, "ACT_INVALID_REQUEST", f"unsupported act kind {kind!r} (click, type, press)")
        ref = str(body.get("ref") or "")
        _, target, conn = await self._page(name, body.get("targetId"))
        try:
            if kind != "press" and ref not in self.known_refs.get(target["id"], set()):
                raise BrowserError(404, "REF_NOT_FOUND",
                                   f"ref {ref or '(none)'} is not in this tab's latest snapshot; take a snapshot first")
            if kind == "click":
                await actions.click(conn, ref)
            elif kind == "type":
                if not isinstance(body.get("text"), str):
                    raise BrowserError(400, "ACT_INVALID_REQUEST", "type needs text")
                await actions.type_text(conn, ref, body["text"], bool(body.get("submit")))
            else:
                await actions.press(conn, str(body.get("key") or ""))
            return {"ok": True, "targetId": target["id"], "url": await _location(conn)}
        finally:
            await conn.close()


async def _location(conn: cdp.CdpConnection) -> str:
    result = await conn.send("Runtime.evaluate", {"expression": "location.href", "returnByValue": True})
    return str((result.get("result") or {}).get("value") or "")


def _tab(target: dict[str, Any]) -> dict[str, Any]:
    return {"targetId": target.get("id"), "title": target.get("title", ""), "url": target.get("url", ""),
            "type": target.get("type", "page"), "wsUrl": target.get("webSocketDebuggerUrl")}


def _taken_ports(paths: InstancePaths, env: Mapping[str, str]) -> set[int]:
    """Ports a new profile must not take: anything listening, and other instances' pinned CDP ports."""
    from openclaw.ports.instances import discover_instances
    from openclaw.ports.sockets import listening_ports

    taken = set(listening_ports() or {})
    mine = os.path.abspath(paths.state_dir)
    for inst in discover_instances(paths.home, env, neighbours=True):
        if os.path.abspath(inst.state_dir) != mine:
            taken |= set(inst.footprint.extra_cdp)
    return taken


def media_dir(state_dir: Path) -> Path:
    return state_dir / "media" / "browser"
