#!/usr/bin/env python3
"""What skills cost a turn and an idle gateway.

In-process, with 50 skills (25 in the workspace, 25 in the state dir, plus the bundled ones):

- the turn's path: `snapshot.for_run` when its result is fresh (every turn within a second of
  the last), and the whole system prompt built with the skills' section;
- the path once a second: the stat check of every root, folder and SKILL.md, the gating and the
  listing (`build_run` with the check due, nothing changed);
- a cold load: every SKILL.md read and parsed (first turn, or after an edit).

Then real gateways in a throwaway HOME: idle RSS with no skills and with 50 skill folders present
(skills load with the first turn, so idle memory should not move), and RSS after `skills.status`
has loaded them.

    python bench/skills.py [--runs 2000] [--settle 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import Bench, machine, memory, wait_healthy

COUNT = 50


def make_skills(root: Path, prefix: str, count: int) -> None:
    for i in range(count):
        folder = root / f"{prefix}-{i:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        meta = '{"openclaw": {"requires": {"bins": ["sh"]}, "emoji": "🔧"}}' if i % 2 else ""
        (folder / "SKILL.md").write_text(
            f"---\nname: {prefix}-{i:02d}\ndescription: Handles {prefix} task number {i}, with a description "
            f"about as long as real ones are, naming what it is for\n" + (f"metadata: {meta}\n" if meta else "")
            + "---\n\n" + "Step by step instructions.\n" * 40)


def p50_us(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def in_process(runs: int) -> dict[str, Any]:
    from openclaw.agents import prompt
    from openclaw.config.view import Config
    from openclaw.profiles.paths import resolve_paths
    from openclaw.skills import snapshot

    paths = resolve_paths(os.environ)
    workspace = paths.state_dir / "workspace"
    make_skills(workspace / "skills", "ws", COUNT // 2)
    make_skills(paths.state_dir / "skills", "managed", COUNT // 2)
    config, env = Config({}), dict(os.environ)
    runtime = prompt.Runtime("bench", "stand/m1", "main")
    files: list[tuple[str, str]] = [("AGENTS.md", "Be brief. " * 200)]

    def cold() -> None:
        snapshot._snapshots.clear()
        snapshot.build_run(paths, config, env, "main", workspace)

    def recheck() -> None:
        for key, (snap, _) in list(snapshot._snapshots.items()):
            snapshot._snapshots[key] = (snap, 0.0)  # the once-a-second check is due
        snapshot.build_run(paths, config, env, "main", workspace)

    cold_us = p50_us(cold, max(20, runs // 50))
    recheck_us = p50_us(recheck, max(50, runs // 10))
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete(snapshot.for_run(paths, config, env, "main", workspace))

    def turn() -> None:
        skills = loop.run_until_complete(snapshot.for_run(paths, config, env, "main", workspace))
        prompt.build(files, runtime, ["read", "write", "edit", "exec", "web_fetch"], skills.sections)

    turn_us = p50_us(turn, runs)
    base_us = p50_us(lambda: prompt.build(files, runtime, ["read", "write", "edit", "exec", "web_fetch"]), runs)
    loop.close()
    return {"skills_listed": len(run.names), "section_chars": len(run.sections[0][1]) if run.sections else 0,
            "turn_prompt_build_p50_us": turn_us, "prompt_build_without_skills_p50_us": base_us,
            "recheck_p50_us": recheck_us, "cold_load_p50_us": cold_us, "yaml_imported": "yaml" in sys.modules}


def gateways(settle: float) -> dict[str, Any]:
    from openclaw.client.rpc import GatewayClient

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(Path(tmp))
        try:
            for profile, count in (("bare", 0), ("fifty", COUNT)):
                port = b.setup(profile)
                state = Path(b.env["HOME"]) / f".openclaw-{profile}"
                if count:
                    make_skills(state / "skills", "managed", count)
                proc = b.start(profile)
                wait_healthy(port, proc)
                time.sleep(settle)  # idle memory needs the process idle for a while
                out[f"{profile}_idle_rss_mb"] = memory(proc.pid)["rss"]
                if count:
                    with GatewayClient(f"ws://127.0.0.1:{port}", b.token(profile)) as client:
                        listed = len(client.call("skills.status", {})["skills"])
                    time.sleep(settle)
                    out["after_status_rss_mb"] = memory(proc.pid)["rss"]
                    out["status_skills"] = listed
                b.stop_all()
        finally:
            b.stop_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["HOME"] = home
        for key in [k for k in os.environ if k.startswith("OPENCLAW_")]:
            del os.environ[key]
        result = {"in_process": in_process(args.runs)}
    result["gateways"] = gateways(args.settle)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    r, g = result["in_process"], result["gateways"]
    print(f"{time.strftime('%Y-%m-%d')}, {machine()}")
    print("| Measure | Result | Target |\n|---|---|---|")
    print(f"| Turn prompt build with {COUNT} skills ({r['skills_listed']} listed, {r['section_chars']:,} chars), "
          f"p50 | {r['turn_prompt_build_p50_us']:.0f} µs (without skills {r['prompt_build_without_skills_p50_us']:.0f} "
          "µs) | < 5 ms |")
    print(f"| Once-a-second recheck (stat, gate, list), p50 | {r['recheck_p50_us'] / 1000:.2f} ms | - |")
    print(f"| Cold load of every SKILL.md, p50 | {r['cold_load_p50_us'] / 1000:.2f} ms | - |")
    print(f"| PyYAML imported for simple frontmatter | {'yes' if r['yaml_imported'] else 'no'} | - |")
    print(f"| Idle gateway RSS, no skills / {COUNT} skill folders | {g['bare_idle_rss_mb']:.1f} / "
          f"{g['fifty_idle_rss_mb']:.1f} MB | unchanged |")
    print(f"| RSS after `skills.status` loaded {g['status_skills']} skills | {g['after_status_rss_mb']:.1f} MB | - |")


if __name__ == "__main__":
    main()
