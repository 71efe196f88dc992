"""bench/hostile.py scenarios: the HTTP surface (browser rules, body budget, slow readers, lockout)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from attacks import Watch, rss_mb, settle_rss

if TYPE_CHECKING:
    from host import Host


def _http_api(h: Host, *settings: tuple[str, str]) -> None:
    for key, value in (("gateway.http.endpoints.chatCompletions.enabled", "true"), *settings):
        h.cli("config", "set", key, value)


def s_csrf(h: Host, scale: float) -> dict[str, Any]:
    """Auth `none`, `write` allowed over HTTP: only the browser rules stand between a web page and a tool."""
    import httpattacks

    _http_api(h, ("gateway.auth.mode", "none"), ("gateway.tools.allow", '["write"]'))
    h.launch()
    result = asyncio.run(httpattacks.csrf(h.port))
    h.stop()
    workspace = h.state / "workspace"
    return {**result, "plantedFileWritten": (workspace / "csrf.txt").exists(),
            "legitFileWritten": (workspace / "legit.txt").exists(),
            "target": "403/415 for every cross-site or rebinding request, nothing written"}


def s_big_bodies(h: Host, scale: float) -> dict[str, Any]:
    """10 authenticated 20 MB bodies at once (`/tools/invoke`): memory held is the body budget."""
    import httpattacks

    (h.state / "workspace").mkdir(parents=True, exist_ok=True)
    (h.state / "workspace" / "small.txt").write_text("ok\n")
    pid = h.launch()
    idle = round(rss_mb(pid), 1)
    size = int(20 * 2**20 * max(scale, 0.05)) - 4096
    asyncio.run(httpattacks.big_bodies(h.port, h.token, 1, 1000))  # the tool stack loads once, before we watch
    with Watch(pid, h.port, interval=0.02) as w, ProcessPoolExecutor(1) as uploader:
        # the uploads come from another process: pushing 200 MB here would hold up the watcher's own requests
        result = uploader.submit(_big_bodies, h.port, h.token, 10, size).result()
    budget = _ready_details(h.port).get("httpBodies")
    after = settle_rss(pid, 10)
    h.stop()
    return {**result, "budget": budget, "idleMB": idle, **w.summary(), "rss10sAfterMB": after,
            "target": "every request answered, RSS peak < 150 MB, healthz p99 < 200 ms"}


def _big_bodies(port: int, token: str, count: int, size: int) -> dict[str, Any]:
    import httpattacks

    return asyncio.run(httpattacks.big_bodies(port, token, count, size))


def s_slow_readers(h: Host, scale: float) -> dict[str, Any]:
    """20 clients read 2 MB replies (10 streamed, 10 whole) 16 KiB at a time; a model stand-in
    answers at once, so a stream's reader falls behind. The same 20 turns read at full speed
    first: what both keep afterwards is the agent runtime's (runs and histories it remembers)."""
    import httpattacks
    from model_standin import ModelStandin, Reply

    size = int(2 * 2**20 * max(scale, 0.1))
    model = ModelStandin(default=lambda api, body: Reply(text="r" * size, chunk=64 * 1024), record=False).start()

    async def readers(**kw: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(httpattacks.slow_readers(h.port, h.token, 10, True, **kw),
                                         httpattacks.slow_readers(h.port, h.token, 10, False, **kw)))

    try:
        h.cli("config", "set", "models.providers.stand",
              json.dumps({"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 60}))
        h.cli("config", "set", "agents.defaults.model", "stand/m1")
        _http_api(h)
        pid = h.launch()
        idle = round(rss_mb(pid), 1)
        fast = asyncio.run(readers(read_bytes=1 << 20, pause_s=0))
        after_fast = settle_rss(pid, 10)
        with Watch(pid, h.port, interval=0.02) as w:
            streamed, whole = asyncio.run(readers())
        after = settle_rss(pid, 10)
        h.stop()
    finally:
        model.stop()
    return {"replyMB": round(size / 2**20, 1), "fastReaders": [r["outcomes"] for r in fast],
            "rssAfterFastMB": after_fast, "streamed": streamed, "whole": whole, "idleMB": idle, **w.summary(),
            "rss10sAfterMB": after, "target": "healthz p99 < 200 ms; slow readers keep no more than fast ones"}


def s_http_lockout(h: Host, scale: float) -> dict[str, Any]:
    import httpattacks

    _http_api(h)
    h.launch()
    result = asyncio.run(httpattacks.lockout(h.port, h.token))
    h.stop()
    return {**result, "target": "loopback: right token 200 after 10 wrong; untrusted proxy peer: 429"}


def _ready_details(port: int) -> dict[str, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/readyz")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()
