#!/usr/bin/env python3
"""The Control UI and the OpenAI-compatible API, measured on real gateway processes.

Dashboard: headless Chromium (Debian's, through Playwright) opens the URL `openclaw dashboard`
prints, each time in a fresh browser context (cold cache): first paint, time until the overview
shows "healthy", bytes transferred, and the gateway's RSS before the first page and after serving
it. API: `/v1/chat/completions` turns per second with 10 concurrent clients against an instant
stand-in model (its own process), streaming and not.

    python bench/control_ui.py              # 10 page loads, 1,000 completions
    python bench/control_ui.py --quick      # 3 page loads, 200 completions
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from agent_turns import Standin, gateway, pct
from run import Bench, memory, publish

HEALTHY = "[data-testid=health]:has-text('healthy')"


def page_loads(url: str, loads: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(loads):
            context = browser.new_context()
            page = context.new_page()
            page.goto(url, wait_until="commit")
            page.wait_for_selector(HEALTHY, timeout=30_000)
            healthy_ms = page.evaluate("performance.now()")
            figures = page.evaluate("""() => {
              const paint = performance.getEntriesByType('paint');
              const first = paint.find((e) => e.name === 'first-contentful-paint') || paint[0];
              const entries = [...performance.getEntriesByType('navigation'),
                               ...performance.getEntriesByType('resource')];
              return {firstPaint: first ? first.startTime : null,
                      transfer: entries.reduce((n, e) => n + (e.transferSize || 0), 0),
                      body: entries.reduce((n, e) => n + (e.decodedBodySize || 0), 0),
                      requests: entries.length};
            }""")
            out.append({"healthy_ms": healthy_ms, **figures})
            context.close()
        browser.close()
    return out


async def completions(port: int, token: str, clients: int, total: int, stream: bool) -> dict[str, Any]:
    from aiohttp import ClientSession, ClientTimeout

    body = {"model": "openclaw", "messages": [{"role": "user", "content": "hello"}], "stream": stream}
    headers = {"Authorization": f"Bearer {token}"}
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    latencies: list[float] = []
    remaining = total

    async def worker(session: ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with session.post(url, json=body, headers=headers) as resp:
                data = await resp.read()
                assert resp.status == 200, data[:300]
                assert (b"[DONE]" in data) if stream else (b"echo: hello" in data), data[:300]
            latencies.append((time.perf_counter() - started) * 1000)

    async with ClientSession(timeout=ClientTimeout(total=60)) as session:
        await worker_once(session, url, body, headers)  # loads the agent stack
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "per_second": len(latencies) / elapsed,
            "p50": pct(latencies, 50), "p99": pct(latencies, 99)}


async def worker_once(session: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    async with session.post(url, json={**body, "stream": False}, headers=headers) as resp:
        await resp.read()


def run(loads: int, total: int) -> dict[str, Any]:
    standin = Standin()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="oc-ui-bench-") as tmp:
        b = Bench(Path(tmp))
        try:
            port = b.setup("ui")
            for key in ("chatCompletions", "responses"):
                b.cli("--profile", "ui", "config", "set", f"gateway.http.endpoints.{key}.enabled", "true")
            proc, port, token = gateway(b, "ui", standin.url)
            out["rss_before"] = memory(proc.pid)["rss"]
            url = json.loads(b.cli("--profile", "ui", "dashboard", "--no-open", "--json").stdout)["url"]
            loads_seen = page_loads(url, loads)
            time.sleep(1.0)
            out["rss_after_ui"] = memory(proc.pid)["rss"]
            out["page"] = {key: statistics.median(x[key] for x in loads_seen)
                           for key in ("healthy_ms", "firstPaint", "transfer", "body", "requests")}
            out["first_load"] = loads_seen[0]
            out["loads"] = loads
            out["plain"] = asyncio.run(completions(port, token, 10, total, stream=False))
            out["stream"] = asyncio.run(completions(port, token, 10, total, stream=True))
            out["rss_after_api"] = memory(proc.pid)["rss"]
        finally:
            b.stop_all()
            standin.stop()
    return out


def markdown(r: dict[str, Any]) -> str:
    page, first = r["page"], r["first_load"]
    rows = [
        (f"Dashboard first paint, headless Chromium, loopback (median of {r['loads']} cold loads)",
         f"{page['firstPaint']:.0f} ms"),
        ("Time until the overview shows the gateway healthy (connect, hello, status + health)",
         f"{page['healthy_ms']:.0f} ms (first load after start: {first['healthy_ms']:.0f} ms)"),
        ("Bytes transferred per cold load (uncompressed body bytes; requests)",
         f"{page['transfer'] / 1024:.1f} KB ({page['body'] / 1024:.1f} KB; {page['requests']:.0f})"),
        ("Gateway RSS before the first page / after serving it", f"{r['rss_before']:.1f} MB / "
         f"{r['rss_after_ui']:.1f} MB (+{r['rss_after_ui'] - r['rss_before']:.1f} MB)"),
        ("`/v1/chat/completions`, 10 concurrent clients, instant stand-in: requests/s (p50, p99)",
         f"{r['plain']['per_second']:.0f} ({r['plain']['p50']:.0f} ms, {r['plain']['p99']:.0f} ms)"),
        ("The same, `stream: true`", f"{r['stream']['per_second']:.0f} ({r['stream']['p50']:.0f} ms, "
         f"{r['stream']['p99']:.0f} ms)"),
        (f"Gateway RSS after {r['plain']['requests'] + r['stream']['requests']} completions",
         f"{r['rss_after_api']:.1f} MB"),
    ]
    return "\n".join(["| Measure | Result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 page loads and 200 completions")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON")
    args = parser.parse_args()
    result = run(3 if args.quick else 10, 200 if args.quick else 1000)
    publish(result, markdown, args.json)


if __name__ == "__main__":
    main()
