"""The Control UI in a real browser (Playwright driving Debian's Chromium): the dashboard URL opens a
healthy overview, chat streams the stand-in model's reply, an invalid config edit is refused inline
and writes nothing, a pending Telegram pairing is approved, the Instances view lists two gateways
and restarts the other, and a page from another origin cannot connect. Each view's screenshot is
kept under test-artifacts/control-ui/ (OPENCLAW_TEST_ARTIFACTS overrides)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import statedb
from fake_telegram import FakeTelegram, new_bot, replies, start_with_telegram
from helpers import Env, Gateway, http_get, make_env, tiny_site, wait_for
from model_standin import ModelStandin, Reply

from openclaw.ports.registry import record_for

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
ARTIFACTS = Path(os.environ.get("OPENCLAW_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "test-artifacts")
OWNER, STRANGER = 8101, 8102


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                                     "--host-resolver-rules=MAP evil.test 127.0.0.1"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def shoot(page: Any, name: str) -> None:
    out = ARTIFACTS / "control-ui"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"))


def dashboard_url(env: Env, profile: str | None = None) -> str:
    prefix = ["--profile", profile] if profile else []
    return env.cli_json(*prefix, "dashboard", "--no-open")["url"]


def open_view(page: Any, env: Env, view: str, profile: str | None = None) -> None:
    page.goto(dashboard_url(env, profile))
    page.wait_for_selector(".conn[data-state=open]")
    if view != "overview":
        page.click(f"nav a[data-view={view}]")


def test_the_dashboard_url_opens_a_healthy_overview(env: Env, base: int, gateways: list[Gateway],
                                                   page: Any, model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    url = dashboard_url(env)
    assert url == f"http://127.0.0.1:{base}/#token={env.token()}"
    page.goto(url)
    page.wait_for_selector("[data-testid=health]:has-text('healthy')")
    assert "#token" not in page.url  # taken out of the address bar, kept for this origin
    text = page.inner_text("main")
    assert f"Gateway (WS + HTTP)\t{base}" in text and "stand/m1" in text and "Profile\tdefault" in text
    shoot(page, "overview")
    page.reload()  # the token was remembered
    page.wait_for_selector("[data-testid=health]:has-text('healthy')")
    for view in ("logs", "browser", "instances"):
        page.click(f"nav a[data-view={view}]")
        page.wait_for_load_state()
        page.wait_for_selector(f"nav a.active[data-view={view}]")
        page.wait_for_selector("main .card")
        if view == "logs":
            page.wait_for_selector("[data-testid=log-lines] div[data-level=info]")
        shoot(page, view)
    assert page.url.endswith("/instances")


def test_text_and_layout_at_800_px(env: Env, base: int, gateways: list[Gateway], browser: Any,
                                   model: ModelStandin) -> None:
    """The words read right and nothing scrolls sideways on a small screen: the login hint, the
    sidebar's `connected · <profile>` on a first connection too, a keyless model's key, the
    no-model error once, every view within 800 px."""
    env.setup(None, base)
    keyless = {"baseUrl": model.openai_url, "timeoutSeconds": 10}  # a custom provider and no key: none needed
    env.cli("config", "set", "models.providers.local", json.dumps(keyless), check=True)
    env.cli("config", "set", "agents.defaults.model", "local/m1", check=True)
    env.setup("rescue", base + 200)  # no model
    main, rescue = env.gateway().start(), env.gateway("rescue").start()
    gateways += [main, rescue]
    main.wait_healthy(base)
    rescue.wait_healthy(base + 200)
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"http://127.0.0.1:{base}/")
        hint = page.wait_for_selector("form.login p.muted").inner_text()
        assert "openclaw dashboard prints a link" in hint and "password. openclaw" in hint
        page.goto(dashboard_url(env, "rescue"))  # its first connection: no health cached yet
        page.wait_for_selector(".conn [data-testid=profile]")
        assert page.inner_text(".conn").strip() == "connected · rescue"
        page.click("nav a[data-view=chat]")
        page.wait_for_selector("main [role=alert]:has-text('no model is configured')")
        page.fill("textarea[name=message]", "anyone there?")
        page.click("form.composer button[type=submit]")
        page.wait_for_function("() => !document.querySelector('[data-streaming]')")
        assert page.inner_text("main").count("no model is configured") == 1
        page.goto(dashboard_url(env))
        page.wait_for_selector("[data-testid=health]:has-text('healthy')")
        assert page.inner_text(".conn").strip() == "connected · default"
        key = page.wait_for_selector("[data-card=model] tr:has-text('API key') td").inner_text()
        assert key.strip() == "not needed"
        for view in ("overview", "chat", "channels", "config", "logs", "browser", "instances"):
            if view != "overview":
                page.click(f"nav a[data-view={view}]")
            page.wait_for_selector(f"nav a.active[data-view={view}]")
            page.wait_for_selector("main .card")
            if view == "instances":
                page.wait_for_selector("tr[data-instance=rescue]")
            width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], (view, width)
        shoot(page, "instances-800px")
    finally:
        context.close()


def test_chat_streams_the_models_reply(env: Env, base: int, gateways: list[Gateway], page: Any,
                                       model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    model.replies.append(Reply(text="Streaming back to you, one small piece at a time.", chunk=4, delay_s=0.15))
    open_view(page, env, "chat")
    page.fill("textarea[name=message]", "hello from the page")
    page.click("form.composer button[type=submit]")
    streaming = page.wait_for_selector(".msg[data-streaming=true]:has-text('Streaming')")
    partial = streaming.inner_text()
    assert partial and partial != "Streaming back to you, one small piece at a time."  # seen mid-stream
    page.wait_for_selector(".msg.assistant:not([data-streaming]):has-text('one small piece at a time.')")
    assert page.locator(".msg.user", has_text="hello from the page").count() == 1
    shoot(page, "chat")
    asked = len(model.requests())
    page.fill("textarea[name=message]", "/new")  # a chat command: answered by the gateway, not the model
    page.click("form.composer button[type=submit]")
    page.wait_for_selector(".msg[data-role=notice]:has-text('New session started.')")
    page.wait_for_function("() => !document.querySelector('.msg.user')")  # the new session is empty
    assert len(model.requests()) == asked


def test_an_invalid_config_edit_is_refused_inline_and_writes_nothing(started: tuple[Env, int, Gateway],
                                                                     page: Any) -> None:
    env, _, _ = started
    before = env.config_path().read_bytes()
    open_view(page, env, "config")
    page.wait_for_function("() => document.querySelector('textarea[name=config]')?.value.includes('gateway')")
    text = page.input_value("textarea[name=config]")
    edited = json.loads(text)
    edited["gateway"]["port"] = "not a port"
    page.fill("textarea[name=config]", json.dumps(edited, indent=2))
    page.click("button[data-action=save]")
    problems = page.wait_for_selector("[data-testid=config-problems]")
    assert "gateway.port" in problems.inner_text()
    shoot(page, "config")
    assert env.config_path().read_bytes() == before

    env.cli("config", "set", "logging.level", "debug", check=True)  # someone else edits the file meanwhile
    edited["gateway"]["port"] = json.loads(text)["gateway"]["port"]
    page.fill("textarea[name=config]", json.dumps(edited, indent=2))
    page.click("button[data-action=save]")
    page.wait_for_selector("[role=alert]:has-text('changed since you loaded it')")
    assert json.loads(env.config_path().read_text())["logging"]["level"] == "debug"  # their edit stands


def test_without_a_token_the_page_asks_for_one(started: tuple[Env, int, Gateway], page: Any) -> None:
    env, port, _ = started
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("form.login [role=alert]")  # refused: the gateway wants its token
    page.fill("form.login input[name=token]", "not-the-token")
    page.click("form.login button[type=submit]")
    page.wait_for_selector("form.login [role=alert]:has-text('token')")
    page.fill("form.login input[name=token]", env.token())
    page.click("form.login button[type=submit]")
    page.wait_for_selector("[data-testid=health]:has-text('healthy')")


def test_a_pending_telegram_pairing_is_approved_from_the_page(env: Env, base: int, gateways: list[Gateway],
                                                              tg: FakeTelegram, page: Any) -> None:
    token = new_bot(tg, "ui_pairing_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    tg.send_user_message(token, STRANGER, "hi", username="newcomer")
    assert "pairing code" in replies(tg, token, STRANGER, 1)[-1]
    open_view(page, env, "channels")
    row = page.wait_for_selector(f"tr[data-sender='{STRANGER}']")
    assert "newcomer" in row.inner_text()
    shoot(page, "channels")
    row.query_selector("button[data-action=approve]").click()
    page.wait_for_selector(f"tr[data-sender='{STRANGER}']", state="detached")
    assert str(STRANGER) in statedb.allow_entries(env.state_dir())
    assert "approved" in replies(tg, token, STRANGER, 2)[-1]  # told, as notify asks


def test_instances_lists_both_gateways_and_restarts_the_other(env: Env, base: int, gateways: list[Gateway],
                                                              page: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Another HOME sharing the runtime dir (one registry) shows only as a port neighbour."""
    theirs = make_env(tmp_path / "theirs")
    monkeypatch.setenv("OPENCLAW_RUNTIME_DIR", str(tmp_path / "runtime"))  # record_for, in this process
    for each in (env, theirs):
        each.vars["OPENCLAW_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env.provision(None, base)
    env.provision("rescue", base + 200)
    theirs.provision(None, base + 400)
    main, rescue, neighbour = env.gateway().start(), env.gateway("rescue").start(), theirs.gateway().start()
    gateways += [main, rescue, neighbour]
    main.wait_healthy(base)
    rescue.wait_healthy(base + 200)
    neighbour.wait_healthy(base + 400)
    started_at = record_for(env.state_dir())["startedAt"]
    open_view(page, env, "instances", "rescue")
    page.wait_for_selector("tr[data-instance=default] td[data-health=healthy]")
    page.wait_for_selector("tr[data-instance=rescue]")
    assert page.locator("tr[data-instance=rescue] button").count() == 0  # never itself
    actions = page.locator("tr[data-instance=default] button").evaluate_all("bs => bs.map(b => b.dataset.action)")
    assert actions == ["stop", "restart", "doctor"]  # no "start" for one that runs
    assert page.inner_text("tr[data-instance=default] td[data-port=base]") == f"{base}*"  # listening
    assert page.locator("tbody tr[data-instance]").count() == 2
    row = page.wait_for_selector(f"[data-card=neighbours] tr[data-neighbour='{neighbour.pid}']")
    assert str(theirs.home) in row.inner_text() and f"{base + 400}*" in row.inner_text()
    assert page.locator("[data-card=neighbours] button").count() == 0  # not ours to operate
    shoot(page, "instances")
    page.click("tr[data-instance=default] button[data-action=restart]")
    result = page.wait_for_selector("[data-card=instance-result] pre[data-ok=true]", timeout=60_000)
    assert "default restarted" in result.inner_text() and "healthy" in result.inner_text()
    assert record_for(env.state_dir())["startedAt"] > started_at and main.pid == record_for(env.state_dir())["pid"]
    audit = (env.state_dir("rescue") / "logs" / "rescue-audit.log").read_text()
    assert '"channel": "control-ui"' in audit and '"command": "/restart"' in audit


def _evil_page(gateway_port: int) -> bytes:
    """A page on another origin that tries to talk to the gateway and writes down what happened."""
    return f"""<!doctype html><p id=out>waiting</p><script>
      const ws = new WebSocket("ws://127.0.0.1:{gateway_port}/");
      ws.onmessage = (m) => {{ const f = JSON.parse(m.data);
        if (f.event === "connect.challenge") ws.send(JSON.stringify({{type: "req", id: "1", method: "connect",
          params: {{minProtocol: 4, maxProtocol: 4, role: "operator", client: {{id: "openclaw-control-ui",
          version: "1", platform: "web", mode: "webchat"}}}}}}));
        else if (f.type === "res")
          document.getElementById("out").dataset.error = f.error ? f.error.message : "none"; }};
      ws.onclose = (e) => {{ document.getElementById("out").textContent = "closed " + e.code; }};
    </script>""".encode()


def test_a_page_from_another_origin_is_refused(started: tuple[Env, int, Gateway], page: Any) -> None:
    _, port, _ = started
    with tiny_site(_evil_page(port)) as evil:
        page.goto(f"http://evil.test:{evil}/")
        out = page.wait_for_selector("#out:has-text('closed')")
        assert out.inner_text() == "closed 1008"
        assert "origin not allowed" in (out.get_attribute("data-error") or "")
    _, headers, _ = http_get(port, "/")
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_discord_accounts_and_pairing_on_the_channels_page(env: Env, base: int, gateways: list[Gateway],
                                                           dc: Any, page: Any) -> None:
    from fake_discord import new_bot as new_discord_bot
    from fake_discord import replies as discord_replies
    from fake_discord import start_with_discord

    token = new_discord_bot(dc, "ui_discord_bot")
    start_with_discord(env, base, gateways, {"apiRoot": dc.api_root, "accounts": {
        "main": {"token": token}, "broken": {"token": "MTAx.bad.not-a-known-bot-token"}}})
    open_view(page, env, "channels")
    page.wait_for_selector("tr[data-channel=discord] [data-account=broken] .error:has-text('token was rejected')")
    page.wait_for_selector("tr[data-channel=discord] [data-account=main]:has-text('@ui_discord_bot')")
    wait_for(lambda: dc.connected(token), what="the Discord session")
    dc.user_message(token, str(STRANGER), "hi", username="newcomer")
    dm = dc.dm_channel(str(STRANGER))
    assert "pairing code" in discord_replies(dc, token, dm, 1)[-1]
    request = page.wait_for_selector(f"tr[data-sender='{STRANGER}']")
    assert "Discord" in request.inner_text() and "newcomer" in request.inner_text()
    request.query_selector("button[data-action=approve]").click()
    page.wait_for_selector(f"tr[data-sender='{STRANGER}']", state="detached")
    assert "approved" in discord_replies(dc, token, dm, 2)[-1].lower()


def test_slack_accounts_and_pairing_on_the_channels_page(env: Env, base: int, gateways: list[Gateway],
                                                         slack: Any, page: Any) -> None:
    from fake_slack import replies as slack_replies
    from fake_slack import start_with_slack

    app = slack.add_app("ui_slack_bot")
    start_with_slack(env, base, gateways, {"apiRoot": slack.api_root, "accounts": {
        "main": {"botToken": app.bot_token, "appToken": app.app_token},
        "broken": {"botToken": "xoxb-not-a-known-token", "appToken": "xapp-not-a-known-token"}}})
    open_view(page, env, "channels")
    page.wait_for_selector("tr[data-channel=slack] [data-account=broken][data-connected=no]"
                           " .error:has-text('bot token was rejected')")
    page.wait_for_selector("tr[data-channel=slack] [data-account=main][data-connected=yes]:has-text('@ui_slack_bot')")
    assert "Slack" in page.inner_text("tr[data-channel=slack]")
    slack.say(app, f"U{STRANGER}", "hi")
    dm = f"DU{STRANGER}"
    assert "pairing code" in slack_replies(slack, app, dm, 1)[-1]
    request = page.wait_for_selector(f"tr[data-sender='U{STRANGER}']")
    assert "Slack" in request.inner_text()
    request.query_selector("button[data-action=approve]").click()
    page.wait_for_selector(f"tr[data-sender='U{STRANGER}']", state="detached")
    # the approval is posted to the user id, which Slack delivers to the app's DM with that user
    assert "approved" in slack_replies(slack, app, f"U{STRANGER}", 1)[-1].lower()
