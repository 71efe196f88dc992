"""`gateway.controlUi.root`: another Control UI build served by our gateway (a small build made
here, so no upstream install is needed), and `/control-ui-config.json` for our own UI and for it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Env, Gateway, free_base, http_get, make_env, running

INLINE = "globalThis.booted = true;"
INDEX = f"""<!doctype html>
<html lang="en"><head><link rel="icon" href="./favicon.svg" /><script>{INLINE}</script>
<script type="module" src="./assets/app-1.js"></script></head><body></body></html>"""


def build(root: Path) -> Path:
    ui = root / "ui"
    (ui / "assets").mkdir(parents=True)
    (ui / "index.html").write_text(INDEX)
    (ui / "assets" / "app-1.js").write_text("export const app = 1;\n")
    (ui / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "secret.txt").write_text("not for the web")
    (ui / "assets" / "escape.js").symlink_to(root / "secret.txt")
    return ui


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int]]:
    env = make_env(tmp_path_factory.mktemp("ui-root"))
    ui = build(env.root)
    port = free_base()
    env.provision(None, port)
    env.set_config(("gateway.controlUi.root", json.dumps(str(ui))), ("gateway.controlUi.basePath", '"/ops"'))
    with running(env.gateway(), port):
        yield env, port


def test_the_build_is_served_below_the_base_path(served: tuple[Env, int]) -> None:
    _, port = served
    status, headers, body = http_get(port, "/ops/chat/main", headers={"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert '<html data-openclaw-control-ui-base-path="/ops" data-openclaw-terminal-enabled="false" lang="en">' in page
    assert 'src="/ops/assets/app-1.js"' in page and 'href="/ops/favicon.svg"' in page
    digest = base64.b64encode(hashlib.sha256(INLINE.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in headers["Content-Security-Policy"]  # its own inline script only
    status, headers, body = http_get(port, "/ops/settings/assets/app-1.js")  # a nested route's relative asset
    assert status == 200 and body == b"export const app = 1;\n"
    assert headers["Content-Type"].startswith("text/javascript")
    assert http_get(port, "/ops/favicon.svg")[0] == 200
    assert http_get(port, "/ops/missing.js", headers={"Accept": "text/html"})[0] == 404  # a file, not a page
    assert http_get(port, "/ops/chat/main", headers={"Accept": "application/json"})[0] == 404


def test_nothing_outside_the_root_is_served(served: tuple[Env, int]) -> None:
    _, port = served
    for path in ("/ops/assets/escape.js", "/ops/..%2fsecret.txt", "/ops/assets/..%2f..%2fsecret.txt",
                 "/ops/%2e%2e/secret.txt"):
        status, _, body = http_get(port, path)
        assert status == 404 and b"not for the web" not in body, path


def test_bootstrap_config_for_a_configured_build(served: tuple[Env, int]) -> None:
    env, port = served
    assert http_get(port, "/ops/control-ui-config.json")[0] == 401
    auth = {"Authorization": f"Bearer {env.token()}"}
    status, _, body = http_get(port, "/ops/control-ui-config.json", headers=auth)
    config = json.loads(body)
    assert status == 200 and config["basePath"] == "/ops" and "serverBuildId" not in config
    assert config["terminalEnabled"] is False and config["pluginAssetsRequireAuth"] is True
    assert json.loads(http_get(port, "/ops/__openclaw/control-ui-config.json", headers=auth)[2]) == config


def test_bootstrap_config_for_our_own_ui(started: tuple[Env, int, Gateway]) -> None:
    env, port, _ = started
    auth = {"Authorization": f"Bearer {env.token()}"}
    status, headers, body = http_get(port, "/control-ui-config.json", headers=auth)
    config = json.loads(body)
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    assert config["basePath"] == "" and config["assistantAgentId"] == "main" and config["serverBuildId"]
    assert http_get(port, "/__openclaw__/control-ui-config.json", headers=auth)[0] == 200
    assert http_get(port, "/control-ui-config.json", method="HEAD", headers=auth)[0] == 200
    assert http_get(port, "/", headers={"Accept": "text/html"})[0] == 200  # our own page still
