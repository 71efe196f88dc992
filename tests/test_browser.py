"""Browser control on real Chromium: two gateways, refs, screenshots, remote cdpUrl, orphans, auth."""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Env, Gateway, free_base, http_get, port_free, wait_for
from model_standin import ModelStandin, Reply

from openclaw.browser import snapshot
from openclaw.browser.profiles import BrowserConfig, first_free_port
from openclaw.config.view import Config
from openclaw.ports.footprint import footprint_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="no Chromium installed")

PAGE = b"""<!doctype html><html><head><title>Test page</title></head><body>
<h1>Hello</h1>
<button onclick="document.getElementById('out').textContent='clicked!'">Click me</button>
<input placeholder="Your name"><p id="out">waiting</p></body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A local page with a button, served by the test."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def log_messages(env: Env) -> list[str]:
    lines = (env.state_dir() / "logs/gateway.log").read_text().splitlines()
    return [json.loads(line)["message"] for line in lines]


def chromium_pids(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out if int(p) != os.getpid()]


def browser(env: Env, profile: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return env.cli("--profile", profile, "browser", *args, check=check)


def chromium_leader(marker: str) -> int:
    """The browser's first process: the one whose parent is not one of its own (the lowest pid is
    not it once pids wrap around)."""
    import psutil

    pids = set(chromium_pids(marker))
    return next(p for p in sorted(pids) if psutil.Process(p).ppid() not in pids)


def ref_of(text: str, role: str, name: str) -> str:
    line = next(line for line in text.splitlines() if f'{role} "{name}"' in line)
    return line.split("[ref=")[1].rstrip("]")


# -- pure parts --------------------------------------------------------------------------------
def test_snapshot_rows_and_stable_refs() -> None:
    nodes = [
        {"nodeId": "1", "role": {"value": "RootWebArea"}, "name": {"value": "T"}, "childIds": ["2"],
         "backendDOMNodeId": 1},
        {"nodeId": "2", "parentId": "1", "role": {"value": "generic"}, "name": {"value": ""}, "childIds": ["3", "4"],
         "backendDOMNodeId": 5},
        {"nodeId": "3", "parentId": "2", "role": {"value": "button"}, "name": {"value": "Go"}, "childIds": ["5"],
         "backendDOMNodeId": 9},
        {"nodeId": "5", "parentId": "3", "role": {"value": "StaticText"}, "name": {"value": "Go"},
         "backendDOMNodeId": 10},
        {"nodeId": "4", "parentId": "2", "role": {"value": "textbox"}, "name": {"value": "Name"},
         "value": {"value": "Ada"}, "backendDOMNodeId": 12},
    ]
    rows = snapshot.build(nodes)
    assert [(r["role"], r["ref"], r["depth"]) for r in rows] == [("RootWebArea", "e1", 0), ("button", "e9", 1),
                                                                 ("textbox", "e12", 1)]
    assert snapshot.render(rows).splitlines()[2] == "  - textbox \"Name\" value='Ada' [ref=e12]"
    assert [r["ref"] for r in snapshot.build(nodes, interactive_only=True)] == ["e9", "e12"]
    assert snapshot.backend_id("e12") == 12 and snapshot.backend_id("x") is None


def test_the_route_table_resolves_paths_methods_and_failures() -> None:
    """What every caller (control port, `browser.request`, the agent's tool) gets from `dispatch`."""
    import asyncio

    from openclaw.browser.errors import BrowserError
    from openclaw.browser.routes import dispatch

    class Service:
        def __getattr__(self, operation: str) -> Any:
            async def call(*args: Any) -> Any:
                if args and args[0] == "gone":
                    raise BrowserError(404, "PROFILE_NOT_FOUND", 'browser profile "gone" not found')
                if args and args[0] == "bug":
                    raise KeyError("bug")
                return [operation, *args]
            return call

    def go(method: str, path: str, query: dict[str, Any] | None = None,
           body: dict[str, Any] | None = None) -> Any:
        return asyncio.run(dispatch(Service(), method, path, query, body))  # type: ignore[arg-type]

    assert go("get", "") == (200, ["status", None])
    assert go("GET", "tabs/", {"profile": "work"}) == (200, ["tabs", "work"])
    assert go("POST", "/tabs/open", body={"url": "https://a.example/#t"}) == (200, ["open_tab", None,
                                                                                    "https://a.example/#t"])
    assert go("DELETE", "/tabs/open") == (200, ["close_tab", None, "open"])  # a target named like a route
    assert go("DELETE", "/profiles/a%20b") == (200, ["delete_profile", "a%20b"])  # as given, not decoded
    assert go("GET", "/tabs/open") == (405, {"error": "GET is not allowed on /tabs/open",
                                             "code": "METHOD_NOT_ALLOWED"})
    assert go("HEAD", "/") == (405, {"error": "HEAD is not allowed on /", "code": "METHOD_NOT_ALLOWED"})
    for missing in ("/nope", "/profiles/a/b", "/TABS", "/tabs/../tabs"):
        assert go("GET", missing) == (404, {"error": "Not Found", "code": "NOT_FOUND"}), missing
    assert go("DELETE", "/profiles/gone") == (404, {"error": 'browser profile "gone" not found',
                                                    "code": "PROFILE_NOT_FOUND"})
    assert go("DELETE", "/profiles/bug") == (500, {"error": "'bug'", "code": "INTERNAL"})


def test_cdp_ports_come_from_the_instance_range(tmp_path: Path) -> None:
    cfg = BrowserConfig.from_config(Config({"browser": {"profiles": {"a": {"cdpPort": 18800},
                                                                  "r": {"cdpUrl": "http://h:18801"}}}}),
                                    footprint_for(18789), tmp_path)
    assert (cfg.cdp_start, cfg.cdp_end) == (18800, 18899)
    assert first_free_port(cfg, {18802}) == 18803  # own profiles and listening/foreign ports skipped
    other = BrowserConfig.from_config(Config({}), footprint_for(18900), tmp_path)
    assert first_free_port(other, set()) == 18911  # another instance: a disjoint range


# -- real Chromium -----------------------------------------------------------------------------
@pytest.fixture
def pair(env: Env, gateways: list[Gateway]) -> tuple[Env, dict[str, int]]:
    ports = {"main": free_base(), "rescue": 0}
    ports["rescue"] = ports["main"] + 200
    for profile, port in ports.items():
        env.provision(profile, port)
        gw = env.gateway(profile).start()
        gateways.append(gw)
        gw.wait_healthy(port)
    return env, ports


@needs_chromium
def test_two_gateways_each_drive_their_own_browser(pair: tuple[Env, dict[str, int]], site: str,
                                                   gateways: list[Gateway]) -> None:
    env, ports = pair
    for profile, base in ports.items():
        assert "running: true" in browser(env, profile, "start").stdout
        status = json.loads(browser(env, profile, "status", "--json").stdout)
        assert status["running"] and base + 11 <= status["cdpPort"] <= base + 110  # its own range
        assert env.config(profile)["browser"]["profiles"]["openclaw"]["cdpPort"] == status["cdpPort"]  # persisted
        assert status["userDataDir"] == str(env.state_dir(profile) / "browser/openclaw/user-data")
        opened = browser(env, profile, "open", site).stdout
        assert opened.startswith(f"opened: {site}")
        snap = browser(env, profile, "snapshot").stdout
        assert 'heading "Hello"' in snap and 'text "waiting"' in snap
        button = ref_of(snap, "button", "Click me")
        assert browser(env, profile, "click", button).stdout.strip() == f"clicked {button}"
        after = browser(env, profile, "snapshot").stdout
        assert 'text "clicked!"' in after and ref_of(after, "button", "Click me") == button  # stable ref
        box = ref_of(after, "textbox", "Your name")
        browser(env, profile, "type", box, "Ada")
        assert "value='Ada'" in browser(env, profile, "snapshot").stdout
        shot = env.root / f"{profile}.png"
        media = browser(env, profile, "screenshot", "--out", str(shot)).stdout.strip()
        assert media == f"MEDIA:{shot}" and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        saved = json.loads(browser(env, profile, "screenshot", "--json").stdout)
        assert Path(saved["path"]).read_bytes()[:4] == b"\x89PNG"
        assert str(env.state_dir(profile)) in saved["path"]
        last = json.loads(env.cli("--profile", profile, "gateway", "call", "browser.request", "--params", json.dumps(
            {"method": "GET", "path": "/screenshot/last"}), "--json", check=True).stdout)
        assert last["path"] == saved["path"] and base64.b64decode(last["data"])[:4] == b"\x89PNG"  # what the UI shows
    main_port = json.loads(browser(env, "main", "status", "--json").stdout)["cdpPort"]
    rescue_port = json.loads(browser(env, "rescue", "status", "--json").stdout)["cdpPort"]
    assert main_port != rescue_port
    for profile in ports:
        assert chromium_pids(f"user-data-dir={env.state_dir(profile)}/browser/openclaw/user-data")
    # status and gateways show the services and the profiles' CDP ports
    status_text = env.cli("--profile", "main", "status", check=True).stdout
    assert f"http://127.0.0.1:{ports['main'] + 2}/ · listening" in status_text
    assert f"openclaw (cdp {main_port}, running)" in status_text and "Canvas" in status_text
    listing = {i["profile"]: i for i in env.cli_json("gateways")["instances"]}
    assert listing["main"]["controlListening"] and listing["main"]["canvasListening"]
    assert listing["rescue"]["browserProfiles"] == [{"name": "openclaw", "cdpPort": rescue_port, "cdpUrl": None}]
    # stopping the gateways leaves no Chromium behind
    for gw in gateways:
        assert gw.stop() == 0
    wait_for(lambda: not chromium_pids(f"user-data-dir={env.home}"), timeout=10, what="no chromium left")


@needs_chromium
def test_profiles_create_delete_and_errors(started: tuple, site: str) -> None:
    env, port, gw = started
    created = json.loads(env.cli("browser", "create-profile", "--name", "work", "--json", check=True).stdout)
    assert port + 11 <= created["cdpPort"] <= port + 110 and created["color"] != "#FF4500"
    assert env.config()["browser"]["profiles"]["work"]["cdpPort"] == created["cdpPort"]
    launched = env.cli("browser", "--browser-profile", "work", "start", check=True)
    assert launched.stdout.strip() == "browser [work] running: true"
    names = [p["name"] for p in json.loads(env.cli("browser", "profiles", "--json", check=True).stdout)["profiles"]]
    assert names == ["openclaw", "work"]
    dup = env.cli("browser", "create-profile", "--name", "work")
    assert dup.returncode == 1 and 'browser profile "work" already exists' in dup.stderr
    bad = env.cli("browser", "create-profile", "--name", "Bad Name")
    assert bad.returncode == 1 and "lowercase" in bad.stderr
    unknown = env.cli("browser", "--browser-profile", "nope", "status")
    assert unknown.returncode == 1 and 'browser profile "nope" not found' in unknown.stderr
    stale = env.cli("browser", "--browser-profile", "work", "click", "e424242")
    assert stale.returncode == 1 and "not in this tab's latest snapshot" in stale.stderr
    deleted = env.cli("browser", "delete-profile", "--name", "work", check=True).stdout
    assert 'Deleted profile "work" (user data moved to' in deleted
    wait_for(lambda: not chromium_pids(f"user-data-dir={env.state_dir()}/browser/work"), what="work browser stopped")
    assert "work" not in env.config()["browser"]["profiles"]
    refused = env.cli("browser", "delete-profile", "--name", "openclaw")
    assert refused.returncode == 1 and "cannot delete the default profile" in refused.stderr
    # hot reload took the profile edits without restarting the gateway
    assert gw.proc.poll() is None and "restarting" not in (env.state_dir() / "logs/gateway.log").read_text()


@needs_chromium
def test_open_keeps_the_urls_fragment_and_escapes(started: tuple, site: str) -> None:
    env, _, _ = started
    url = f"{site}a%2Fb?x=1&y=%20z#token=abc/def?&g=%23h"  # a dashboard-style #token plus tricky escapes
    opened = env.cli_json("browser", "open", url)
    assert opened["url"] == url
    tabs = env.cli_json("browser", "tabs")["tabs"]
    assert url in [t["url"] for t in tabs]  # the page itself was loaded with its fragment
    assert 'heading "Hello"' in env.cli("browser", "snapshot", check=True).stdout


@needs_chromium
def test_remote_cdp_url_profile_attaches_and_never_launches(started: tuple, site: str, tmp_path: Path) -> None:
    env, _, gw = started
    cdp_port = free_base() + 50
    data_dir = tempfile.mkdtemp(prefix="remote-chrome-")
    proc = subprocess.Popen([CHROMIUM, f"--remote-debugging-port={cdp_port}", f"--user-data-dir={data_dir}",
                             "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "TMPDIR": "/tmp"})
    try:
        wait_for(lambda: http_ok(cdp_port), timeout=20, what="test chromium up")
        env.cli("browser", "create-profile", "--name", "remote", "--cdp-url", f"http://127.0.0.1:{cdp_port}",
                check=True)
        assert env.cli("browser", "--browser-profile", "remote", "start", check=True).stdout.endswith("running: true\n")
        env.cli("browser", "--browser-profile", "remote", "open", site, check=True)
        assert 'button "Click me"' in env.cli("browser", "--browser-profile", "remote", "snapshot", check=True).stdout
        status = json.loads(env.cli("browser", "--browser-profile", "remote", "status", "--json", check=True).stdout)
        assert status["attachOnly"] is True and status["pid"] is None and status["cdpPort"] == cdp_port
        env.cli("browser", "--browser-profile", "remote", "stop", check=True)
        assert gw.stop() == 0
        assert proc.poll() is None and http_ok(cdp_port)  # not ours: never stopped, never launched
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


def http_ok(port: int) -> bool:
    try:
        return http_get(port, "/json/version")[0] == 200
    except OSError:
        return False


@needs_chromium
def test_leftover_browser_after_kill_9_is_adopted(started: tuple, gateways: list[Gateway]) -> None:
    env, port, gw = started
    env.cli("browser", "start", check=True)
    marker = f"user-data-dir={env.state_dir()}/browser/openclaw/user-data"
    leader = chromium_leader(marker)
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    assert chromium_pids(marker)  # the orphan survived its gateway
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(port)
    status = json.loads(env.cli("browser", "status", "--json", check=True).stdout)
    assert status["running"] and status["pid"] == leader
    assert f'adopted the running browser of profile "openclaw" (pid {leader})' in log_messages(env)
    assert again.stop() == 0
    wait_for(lambda: not chromium_pids(marker), timeout=10, what="adopted browser stopped with the gateway")


@needs_chromium
def test_port_taken_by_a_foreign_process_is_reported(started: tuple) -> None:
    env, port, _ = started
    cdp_port = port + 11
    env.cli("config", "set", "browser.profiles.openclaw.cdpPort", str(cdp_port), check=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", cdp_port), _JsonVersion)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = env.cli("browser", "start")
        assert proc.returncode == 1 and f"Port {cdp_port} is in use" in proc.stderr and "not by openclaw" in proc.stderr
    finally:
        server.shutdown()


class _JsonVersion(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"Browser": "NotOurs/1.0"}'
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


# -- the control port: auth, cross-site, loopback only ---------------------------------------------
def test_control_port_auth_and_cross_site(started: tuple) -> None:
    env, port, _ = started
    control = port + 2
    status, _, body = http_get(control, "/")
    assert status == 401 and json.loads(body) == {"error": "Unauthorized", "code": "UNAUTHORIZED"}
    status, _, _ = http_get(control, "/", headers={"Authorization": "Bearer wrong"})
    assert status == 401
    good = {"Authorization": f"Bearer {env.token()}"}
    status, _, body = http_get(control, "/", headers=good)
    assert status == 200 and json.loads(body)["profile"] == "openclaw"
    status, _, body = http_get(control, "/stop", method="POST", headers={**good, "Origin": "https://evil.example"})
    assert status == 403 and json.loads(body)["code"] == "FORBIDDEN"
    status, _, _ = http_get(control, "/stop", method="POST", headers={**good, "Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, _, _ = http_get(control, "/stop", method="POST", headers={**good, "Origin": f"http://127.0.0.1:{port}"})
    assert status == 200
    status, _, body = http_get(control, "/nope", headers=good)
    assert status == 404 and json.loads(body)["code"] == "NOT_FOUND"


def test_control_and_canvas_ports_are_loopback_only(started: tuple) -> None:
    _, port, _ = started
    import psutil

    listeners = {c.laddr.port: c.laddr.ip for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert listeners[port + 2] == "127.0.0.1" and listeners[port + 4] == "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a source address
            lan_ip = probe.getsockname()[0]
    except OSError as exc:  # no route at all: a host (or namespace) with loopback only
        pytest.skip(f"no routable interface on this host ({exc.strerror})")
    if lan_ip.startswith("127."):
        pytest.skip("no non-loopback address on this host")
    for p in (port + 2, port + 4):
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((lan_ip, p)) != 0  # refused from any other address


def test_browser_request_over_the_gateway(started: tuple) -> None:
    from helpers import RawWs, connect_params

    env, port, _ = started
    ws = RawWs(port)
    ws.challenge()
    assert ws.request("connect", connect_params(env.token(), scopes=["operator.read"]))["ok"]
    denied = ws.request("browser.request", {"method": "GET", "path": "/"}, req_id="a")
    assert denied["error"]["message"] == "missing scope: operator.write"
    ws.close()
    ws = RawWs(port)
    ws.challenge()
    assert ws.request("connect", connect_params(env.token(), scopes=["operator.write"]))["ok"]
    ok = ws.request("browser.request", {"method": "GET", "path": "/"}, req_id="b")
    assert ok["ok"] and ok["payload"]["profile"] == "openclaw"
    missing = ws.request("browser.request", {"method": "GET", "path": "/", "query": {"profile": "x"}}, req_id="c")
    assert missing["error"]["code"] == "INVALID_REQUEST" and missing["error"]["details"]["code"] == "PROFILE_NOT_FOUND"
    bad = ws.request("browser.request", {"method": "PUT", "path": "/"}, req_id="d")
    assert "method must be GET, POST or DELETE" in bad["error"]["message"]
    ws.close()


def test_browser_disabled(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.configured_gateway(base, gateways, browser__enabled="false")
    assert port_free(base + 2)
    proc = env.cli("browser", "status")
    assert proc.returncode == 1 and "browser control is disabled" in proc.stderr


def test_start_to_ready_is_timed_in_the_log(started: tuple) -> None:
    if not CHROMIUM:
        pytest.skip("no Chromium")
    env, _, _ = started
    began = time.monotonic()
    env.cli("browser", "start", check=True)
    assert time.monotonic() - began < 30
    assert any(m.startswith("browser started (chromium)") for m in log_messages(env))


@needs_chromium
def test_the_agent_drives_the_browser_through_its_tool(env: Env, base: int, gateways: list[Gateway], site: str,
                                                       model: ModelStandin) -> None:
    """The model (scripted) opens a page, reads it, clicks by ref, looks again and takes a screenshot,
    all through the `browser` tool on this instance's own browser service."""
    def brain(api: str, body: dict[str, Any]) -> Reply:
        results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
        steps = [("browser", {"action": "open", "url": site}), ("browser", {"action": "snapshot"}), None,
                 ("browser", {"action": "snapshot"}), ("browser", {"action": "screenshot"})]
        if len(results) == 2:  # the first snapshot: click the button it shows
            return Reply(tool_calls=[("browser", {"action": "click", "ref": ref_of(results[1], "button", "Click me")})])
        if len(results) < len(steps):
            return Reply(tool_calls=[steps[len(results)]])  # type: ignore[list-item]
        return Reply(text="The page now says clicked!")

    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    model.default, echo = brain, model.default
    try:
        reply = env.cli_json("agent", "-m", "press the button on the test page", "--timeout", "120")
    finally:
        model.default = echo
    assert reply["status"] == "ok"
    assert [p["text"] for p in reply["result"]["payloads"]] == ["The page now says clicked!"]
    results = [m["content"] for m in model.requests("openai")[-1].body["messages"] if m["role"] == "tool"]
    assert 'heading "Hello"' in results[1] and 'text "waiting"' in results[1]
    assert 'text "clicked!"' in results[3]  # the click happened in the page
    assert ".png" in results[4] or "base64" in results[4]
