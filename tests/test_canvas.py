"""The canvas host: serving, traversal refusal, both ports, live reload (also in a real page)."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from helpers import Env, Gateway, http_get, port_free, wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_starter_page_and_both_ports(module_gateway: tuple) -> None:
    env, port, _ = module_gateway
    root = env.home / ".openclaw/workspace/canvas"
    assert (root / "index.html").exists()
    status, headers, body = http_get(port + 4, "/")
    assert status == 200 and b"OpenClaw Canvas" in body and b"/__openclaw__/ws" in body
    assert headers["Cache-Control"] == "no-store" and headers["Content-Type"].startswith("text/html")
    assert body.index(b"/__openclaw__/ws") < body.rindex(b"</body>")  # injected before </body>
    (root / "data.json").write_text('{"a": 1}')
    status, headers, body = http_get(port + 4, "/data.json")
    assert status == 200 and headers["Content-Type"] == "application/json" and json.loads(body) == {"a": 1}
    assert http_get(port + 4, "/__openclaw__/canvas/data.json")[2] == body
    # the same content on the gateway port, for local callers or with the token
    assert http_get(port, "/__openclaw__/canvas/data.json")[2] == body
    status, headers, _ = http_get(port, "/__openclaw__/canvas")
    assert status == 301 and headers["Location"] == "/__openclaw__/canvas/"
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    assert http_get(port, "/__openclaw__/canvas/data.json", headers=forwarded)[0] == 401
    authed = {**forwarded, "Authorization": f"Bearer {env.token()}"}
    assert http_get(port, "/__openclaw__/canvas/data.json", headers=authed)[0] == 200
    assert http_get(port + 4, "/nope.txt")[0] == 404
    assert http_get(port + 4, "/", method="POST")[0] == 405


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
                                  "/__openclaw__/canvas/../../../etc/passwd", "/sub/../../secret.txt"])
def test_path_traversal_is_refused(module_gateway: tuple, path: str) -> None:
    env, port, _ = module_gateway
    (env.home / ".openclaw/workspace/secret.txt").write_text("outside the canvas root")
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port + 4, timeout=5)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status in (400, 404) and b"root:" not in body and b"outside" not in body


def test_symlink_out_of_the_root_is_refused(module_gateway: tuple) -> None:
    env, port, _ = module_gateway
    root = env.home / ".openclaw/workspace/canvas"
    (env.root / "private.txt").write_text("private")
    os.symlink(env.root / "private.txt", root / "link.txt")
    assert http_get(port + 4, "/link.txt")[0] == 404


def test_custom_root_and_missing_index(env: Env, base: int, gateways: list[Gateway]) -> None:
    root = env.root / "my-canvas"
    env.configured_gateway(base, gateways, canvasHost__root=str(root))
    assert (root / "index.html").exists()
    (root / "index.html").unlink()
    status, _, body = http_get(base + 4, "/")
    assert status == 404 and f"Create {root}/index.html".encode() in body


def test_disabled_canvas(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.configured_gateway(base, gateways, canvasHost__enabled="false")
    assert port_free(base + 4)
    assert http_get(base, "/__openclaw__/canvas/")[0] == 404


def test_live_reload_socket_says_reload_on_change(module_gateway: tuple) -> None:
    from websockets.sync.client import connect

    env, port, _ = module_gateway
    root = env.home / ".openclaw/workspace/canvas"
    with connect(f"ws://127.0.0.1:{port + 4}/__openclaw__/ws", open_timeout=5) as ws:
        wait_for(lambda: _touch(root / "page.html") or _recv(ws) == "reload", timeout=15, what="reload frame")


def _touch(path: object) -> None:
    path.write_text(f"<p>{time.monotonic_ns()}</p>")  # type: ignore[attr-defined]


def _recv(ws: object) -> str | None:
    try:
        return ws.recv(timeout=0.5)  # type: ignore[attr-defined]
    except TimeoutError:
        return None


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="no Chromium installed")
def test_open_page_reloads_after_a_file_changes(started: tuple) -> None:
    env, port, _ = started
    root = env.home / ".openclaw/workspace/canvas"
    (root / "index.html").write_text("<html><head><title>Canvas</title></head><body><h1>Version one</h1></body></html>")
    env.cli("browser", "open", f"http://127.0.0.1:{port + 4}/", check=True)
    wait_for(lambda: 'heading "Version one"' in env.cli("browser", "snapshot", check=True).stdout, what="first version")
    (root / "index.html").write_text("<html><head><title>Canvas</title></head><body><h1>Version two</h1></body></html>")
    wait_for(lambda: 'heading "Version two"' in env.cli("browser", "snapshot", check=True).stdout, timeout=20,
             what="the page reloaded itself")


def test_a_symlink_race_never_serves_another_instances_file(started: tuple) -> None:
    """Links under the root swap between a file inside it and profile b's state dir as fast as a thread
    can while 2,000 requests run on both ports: b's token never comes back."""
    from races import race

    env, port, _ = started
    env.setup("b")
    secret = env.token("b")
    root = env.home / ".openclaw/workspace/canvas"
    result = race([(port + 4, ""), (port, "/__openclaw__/canvas")], root, env.state_dir("b"), secret, 2000)
    assert result["leaks"] == 0, result
    assert result["served"] > 0 and result["swaps"] > 100 and result["other"] == 0, result


def test_only_plain_files_of_this_instance_are_served(env: Env, base: int, gateways: list[Gateway]) -> None:
    """Links that stay inside the root work; a second name of another instance's file, a root that
    became a link into another state dir (even its workspace), a FIFO: 404."""
    env.setup("b")
    other = env.state_dir("b")
    (other / "notes.txt").write_text(f"b's file {env.token('b')}")
    (other / "workspace").mkdir(exist_ok=True)
    (other / "workspace" / "notes.txt").write_text("b's workspace")
    gw = env.configured_gateway(base, gateways)
    root = env.home / ".openclaw/workspace/canvas"
    (root / "assets").mkdir()
    (root / "assets" / "app.js").write_text("console.log(1)")
    os.symlink("assets/app.js", root / "alias.js")
    os.symlink("../assets", root / "assets" / "loop")
    assert http_get(base + 4, "/alias.js")[2] == b"console.log(1)"
    assert http_get(base + 4, "/assets/loop/app.js")[2] == b"console.log(1)"
    os.symlink("../../../../.openclaw-b/notes.txt", root / "climb.txt")
    os.link(other / "notes.txt", root / "hard.txt")
    os.mkfifo(root / "pipe.txt")
    for path in ("/climb.txt", "/hard.txt", "/pipe.txt"):
        assert http_get(base + 4, path)[0] == 404, path
    shutil.rmtree(root)
    os.symlink(other, root)  # the agent replaced its canvas folder with a link into b's state dir
    assert http_get(base + 4, "/notes.txt")[0] == 404
    os.unlink(root)
    os.symlink(other / "workspace", root)
    assert http_get(base + 4, "/notes.txt")[0] == 404
    os.unlink(root)
    os.symlink(env.home / ".openclaw/workspace", root)  # its own workspace folder is fine
    (env.home / ".openclaw/workspace/notes.txt").write_text("mine")
    assert http_get(base + 4, "/notes.txt")[2] == b"mine"
    assert gw.proc.poll() is None


def test_the_starter_page_is_never_written_through_a_link(env: Env, base: int, gateways: list[Gateway]) -> None:
    root = env.home / ".openclaw/workspace/canvas"
    root.mkdir(parents=True)
    target = env.root / "elsewhere.html"
    os.symlink(target, root / "index.html")  # dangling: a plain write would create the target
    env.configured_gateway(base, gateways)
    assert not target.exists() and (root / "index.html").is_symlink()
    assert http_get(base + 4, "/")[0] == 404
