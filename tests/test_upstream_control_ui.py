"""Upstream's own Control UI (its installed `dist/control-ui`) served by our gateway through
`gateway.controlUi.root`, driven in a real browser (Playwright, Debian's Chromium): it connects with
the token, chats end to end (send, a streamed reply, stop a long reply, history after a reload, a
fresh session), and its Sessions, Agents, Automations, Devices, Usage, Channels, Config and Logs
pages load. Every page is held to 0 console errors and 0 failed RPCs (each frame the page sends is
matched with our answer). Screenshots go to test-artifacts/upstream-control-ui/."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, free_base, handshake, http_get, make_env, running
from model_standin import ModelStandin, Reply

playwright_api = pytest.importorskip("playwright.sync_api")
UI_ROOT = Path(os.environ.get("OPENCLAW_UPSTREAM_CONTROL_UI")
               or "/opt/upstream/node_modules/openclaw/dist/control-ui")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.upstream,
              pytest.mark.skipif(not (UI_ROOT / "index.html").is_file(),
                                 reason="upstream's Control UI is not installed"),
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
ARTIFACTS = Path(os.environ.get("OPENCLAW_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "test-artifacts")
# each page, and an RPC it makes once it has loaded its data
# each page, and an RPC it makes each time it opens (None: what it shows is loaded once per tab)
PAGES = {"/settings/sessions": "sessions.list", "/agents": None, "/automations": "cron.list",
         "/settings/devices": "node.list", "/usage": "sessions.usage", "/channels": "channels.status",
         "/config": "config.schema", "/logs": "logs.tail"}
QUIET_S = 0.5  # no frame for this long: the page has asked all it asks
LONG = "word " * 400


@dataclass
class Watch:
    """What a page did: console errors, RPCs sent, and each answer that was not ok."""

    errors: list[str] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)  # request id -> method, until answered
    answered: list[tuple[str, bool]] = field(default_factory=list)  # (method, ok)
    failed: list[str] = field(default_factory=list)
    last: float = 0.0  # when the last frame went or came

    def frame_out(self, raw: str | bytes) -> None:
        self.last = time.monotonic()
        frame = json.loads(raw)
        if frame.get("type") == "req":
            self.sent[frame["id"]] = frame["method"]

    def frame_in(self, raw: str | bytes) -> None:
        self.last = time.monotonic()
        frame = json.loads(raw)
        if frame.get("type") == "res" and frame.get("id") in self.sent:
            name = self.sent.pop(frame["id"])
            self.answered.append((name, bool(frame.get("ok"))))
            if not frame.get("ok"):
                self.failed.append(f"{name}: {frame.get('error')}")

    def pending(self) -> int:
        return len(self.sent)

    def ok(self, name: str) -> bool:
        return (name, True) in self.answered

    def reset(self) -> None:
        self.errors.clear()
        self.failed.clear()
        self.answered.clear()


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, model: ModelStandin) -> Iterator[tuple[Env, int]]:
    """Our gateway with the stand-in model, serving upstream's UI build instead of ours."""
    env = make_env(tmp_path_factory.mktemp("upstream-ui"))
    port = free_base()
    env.provision(None, port)
    env.use_model(model.openai_url, models=[{"id": "m1", "name": "Model One"}])
    env.set_config(("gateway.controlUi.root", json.dumps(str(UI_ROOT))))
    with running(env.gateway(), port):
        yield env, port


@pytest.fixture(scope="module")
def page(ui: tuple[Env, int]) -> Iterator[tuple[Any, Watch]]:
    """One browser tab on the UI, signed in with the token, watched from its first frame."""
    env, port = ui
    watch = Watch()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        tab.set_default_timeout(30_000)
        tab.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        tab.on("websocket", lambda ws: (ws.on("framesent", watch.frame_out), ws.on("framereceived", watch.frame_in)))
        tab.goto(f"http://127.0.0.1:{port}/#token={env.token()}")
        tab.get_by_label("Chat composer").wait_for()
        settle(tab, watch)
        yield tab, watch
        browser.close()


def settle(tab: Any, watch: Watch, name: str | None = None, timeout_s: float = 30) -> None:
    """Until `name` (if given) was answered, nothing asked is still open and the socket has been
    quiet a moment. Polled through Playwright, whose events are only delivered while it runs."""
    deadline = time.monotonic() + timeout_s
    while not ((name is None or watch.ok(name)) and watch.pending() == 0
               and time.monotonic() - watch.last > QUIET_S):
        assert time.monotonic() < deadline, f"the page's RPCs were not answered ({name or 'all'}): {watch.failed}"
        tab.wait_for_timeout(50)


def clean(watch: Watch, where: str) -> None:
    assert not watch.errors, f"console errors on {where}: {watch.errors}"
    assert not watch.failed, f"failed RPCs on {where}: {watch.failed}"


def shoot(tab: Any, name: str) -> None:
    out = ARTIFACTS / "upstream-control-ui"
    out.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(out / f"{name}.png"))


def shown(tab: Any, text: str) -> None:
    """Until `text` is on screen (the transcript also repeats it for screen readers, unseen)."""
    tab.get_by_text(text).and_(tab.locator(":not(.sr-only)")).first.wait_for()


def navigate(tab: Any, path: str) -> None:
    """An in-app navigation (the app's router), as a click on its sidebar does."""
    tab.evaluate("path => { history.pushState({}, '', path); dispatchEvent(new PopStateEvent('popstate')); }", path)


def test_bootstrap_config_and_the_build_are_served(ui: tuple[Env, int]) -> None:
    env, port = ui
    status, _, _ = http_get(port, "/control-ui-config.json")
    assert status == 401  # as upstream's: the gateway's secret is needed
    status, headers, body = http_get(port, "/control-ui-config.json",
                                     headers={"Authorization": f"Bearer {env.token()}"})
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    config = json.loads(body)
    assert config["basePath"] == "" and config["assistantAgentId"] == "main" and config["pluginFrameGrants"] == []
    assert "serverBuildId" not in config  # a build from gateway.controlUi.root: not ours to name
    status, headers, body = http_get(port, "/settings/devices", headers={"Accept": "text/html"})
    assert status == 200 and b'data-openclaw-control-ui-base-path=""' in body
    assert "'sha256-" in headers["Content-Security-Policy"]  # its inline scripts, by hash
    assert http_get(port, "/favicon.svg")[0] == 200
    assert http_get(port, "/assets/no-such-file.js")[0] == 404
    assert http_get(port, "/assets/..%2f..%2findex.html")[0] == 404


def test_chat_end_to_end(page: tuple[Any, Watch], model: ModelStandin) -> None:
    tab, watch = page
    navigate(tab, "/chat/main")
    composer = tab.get_by_label("Chat composer")
    composer.fill("hello there")
    composer.press("Enter")
    shown(tab, "echo: hello there")
    shoot(tab, "chat-reply")

    model.script(Reply(text=LONG, chunk=5, delay_s=0.05))
    composer.fill("a long one")
    composer.press("Enter")
    shown(tab, "word word word")  # streamed: part of it is shown
    stop = tab.get_by_label("Stop generating")
    stop.click()
    stop.wait_for(state="detached")
    assert watch.ok("chat.abort")
    assert LONG.strip() not in tab.inner_text("body")
    shoot(tab, "chat-stopped")

    tab.reload()  # history: both turns come back from chat.startup
    shown(tab, "echo: hello there")
    shown(tab, "a long one")
    settle(tab, watch, "chat.startup")
    clean(watch, "chat")


def test_new_session(page: tuple[Any, Watch], ui: tuple[Env, int]) -> None:
    env, port = ui
    tab, watch = page
    watch.reset()
    before = _session_entries(*ui)
    navigate(tab, "/new?agent=main")
    composer = tab.locator("textarea.new-session-page__message")
    composer.fill("fresh start")
    composer.press("Enter")
    shown(tab, "echo: fresh start")
    settle(tab, watch, "sessions.create")
    shoot(tab, "chat-new-session")
    assert "/chat/main/" in tab.url  # the new session's own page
    keys = _session_entries(env, port)
    fresh = [k for k in keys if k not in before]
    assert len(fresh) == 1 and fresh[0].startswith("agent:main:dashboard:") and keys[fresh[0]] == 2  # its own
    assert {k: keys[k] for k in before} == before  # the sessions there before are all kept, untouched
    clean(watch, "a new session")


def _session_entries(env: Env, port: int) -> dict[str, int]:
    """Session key -> entries, read over the gateway's own socket."""
    ws, _ = handshake(port, env.token())
    try:
        return {s["key"]: s["entries"] for s in ws.request("sessions.list", {})["payload"]["sessions"]}
    finally:
        ws.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_errors(page: tuple[Any, Watch], path: str) -> None:
    tab, watch = page
    watch.reset()
    if path == "/config":  # the config form is reached by loading it (the router sends a pushed /config elsewhere)
        tab.goto(tab.url.split("/", 3)[0] + "//" + tab.url.split("/", 3)[2] + path)
    else:
        navigate(tab, path)
    settle(tab, watch, PAGES[path])
    shoot(tab, path.strip("/").replace("/", "-"))
    clean(watch, path)
