#!/usr/bin/env python3
"""Write tests/fixtures/upstream-state/<version>/: a state dir made by upstream OpenClaw's own CLI and
gateway, and manifest.json listing what it holds, for the round-trip migration test
(tests/test_state_roundtrip.py).

In a fresh temporary HOME, with a model stand-in (OpenAI wire format) and a fake Telegram Bot API on
loopback, it runs upstream's `onboard`, points the model and Telegram (`channels.telegram.apiRoot`)
at the stand-ins, starts `gateway run`, then through upstream's CLI and gateway:
- agent turns: two on `--session-id fixture1`, one on `--agent main`, one on `--session-key`;
- `cron add` four jobs (cron expression, every, at, command payload) and `cron run` one;
- two devices connect with signed device identities and are approved with `devices approve`;
- Telegram: stranger A writes (left pending), stranger B writes and is approved with
  `pairing approve telegram CODE`, then writes again and is answered (the update offset moves).
It stops the gateway, folds each SQLite WAL into its file, vacuums, and keeps only `openclaw.json`,
`state/openclaw.sqlite` and `agents/*/agent/openclaw-agent.sqlite` (gzipped), with the HOME
replaced by /home/user (tests/upstream_state.py puts a real one back), and cross-checks the
manifest with upstream's own CLI on the kept state. Re-running replaces the version's dir.

    .venv/bin/python scripts/upstream_state_fixtures.py [--upstream BIN] [--keep | --export-only HOME]

Needs upstream (OPENCLAW_UPSTREAM_BIN, `openclaw-upstream` on PATH, or /opt/upstream/bin); takes
several minutes (every upstream CLI call starts Node).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "bench")]

from fake_telegram import FakeTelegram  # noqa: E402
from helpers import wait_for  # noqa: E402
from model_standin import ModelStandin  # noqa: E402
from upstream_driver import BINARY, SLOW, Upstream  # noqa: E402
from upstream_state import (  # noqa: E402
    AGENT_DB,
    CONFIG,
    FIXTURE_HOME,
    GLOBAL_DB,
    ROOT,
    STATE,
    TELEGRAM_OFFSETS,
    checkpoint,
    pack,
    relocate,
)

from openclaw.client.identity import DeviceIdentity  # noqa: E402

BOT_ID = 7000  # the fake's first bot; upstream checks the token's numeric prefix against it
BOT_TOKEN = f"{BOT_ID}:fixture-bot-token"
STRANGER_A, STRANGER_B = 424242, 515151
SESSION_ID = "fixture1"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait(predicate: Callable[[], Any], what: str) -> Any:
    return wait_for(predicate, timeout=SLOW, interval=0.25, what=what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def configure(up: Upstream, port: int, model: ModelStandin, tg: FakeTelegram) -> None:
    """Point the onboarded config at the stand-ins (as `config set` would, in one write)."""
    path = up.state_dir / CONFIG
    config = json.loads(path.read_text())
    config["gateway"]["port"] = port
    config["gateway"]["nodes"] = {"pairing": {"autoApproveLocal": False}}  # see devices()
    config.setdefault("models", {})["providers"] = {"local": {
        "baseUrl": model.openai_url, "api": "openai-completions", "apiKey": "fixture-key",
        "models": [{"id": "qwen", "name": "Qwen"}]}}
    config["agents"]["defaults"]["model"] = "local/qwen"
    config.setdefault("channels", {})["telegram"] = {
        "enabled": True, "botToken": BOT_TOKEN, "dmPolicy": "pairing", "apiRoot": tg.api_root,
        "network": {"dangerouslyAllowPrivateNetwork": True}}
    path.write_text(json.dumps(config, indent=2))


TURNS = (("--session-id", SESSION_ID, "first turn on fixture1"),
         ("--session-id", SESSION_ID, "second turn on fixture1"),
         ("--agent", "main", "a turn on the main session"),
         ("--session-key", "agent:main:notes", "a turn on notes"))
APPROVED_TEXT = "now that I am approved"
SENT = (*(t[2] for t in TURNS), APPROVED_TEXT)  # what users said, looked for in the stored transcripts


def agent_turns(up: Upstream) -> None:
    log("agent turns")
    for flag, value, text in TURNS:
        up.run("agent", flag, value, "--message", text)


def cron_jobs(up: Upstream) -> list[dict[str, Any]]:
    log("cron jobs")
    up.run("cron", "add", "--name", "daily-brief", "--cron", "0 9 * * *", "--message", "morning brief")
    up.run("cron", "add", "--name", "hourly-check", "--every", "1h", "--message", "hourly check")
    up.run("cron", "add", "--name", "one-shot", "--at", "2035-01-01T09:00:00Z", "--message", "one shot")
    up.run("cron", "add", "--name", "disk-usage", "--every", "6h", "--command", "echo fixture-command")
    jobs = [j for j in up.run_json("cron", "list", "--all", "--json")["jobs"] if not j.get("declarationKey")]
    target = next(j for j in jobs if j["name"] == "disk-usage")
    up.run("cron", "run", target["id"])
    wait(lambda: up.run_json("cron", "runs", "--id", target["id"], "--json").get("entries"), "the cron run")
    return jobs


def connect_device(port: int, token: str, ident: DeviceIdentity, name: str) -> dict[str, Any]:
    """One signed `connect` as a device; returns the response frame."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}", open_timeout=30, max_size=None) as ws:
        challenge = json.loads(ws.recv(timeout=30))["payload"]
        params: dict[str, Any] = {
            "minProtocol": 4, "maxProtocol": 4, "role": "operator",
            "client": {"id": "openclaw-linux", "displayName": name, "version": "1.0.0", "platform": "linux",
                       "mode": "ui"},
            "scopes": ["operator.read", "operator.write"], "auth": {"token": token}}
        params["device"] = ident.sign_connect(params, challenge["nonce"], int(time.time() * 1000))
        ws.send(json.dumps({"type": "req", "id": "c1", "method": "connect", "params": params}))
        while True:
            frame: dict[str, Any] = json.loads(ws.recv(timeout=60))
            if frame.get("type") == "res":
                return frame


def devices(up: Upstream, port: int, token: str) -> list[str]:
    """Two devices asking to pair and approved by the operator. Loopback devices are approved
    silently by default, and upstream prunes older silent pairings of the same client when a new one
    arrives, so `configure` turns local auto-approval off (and `export` drops that key again)."""
    log("devices")
    ids = []
    for name in ("fixture-laptop", "fixture-phone"):
        ident = DeviceIdentity.generate()
        first = connect_device(port, token, ident, name)
        assert not first["ok"] and first["error"]["details"]["code"] == "PAIRING_REQUIRED", first
        up.run("devices", "approve", first["error"]["details"]["requestId"])
        again = connect_device(port, token, ident, name)
        assert again["ok"], again
        ids.append(ident.device_id)
    return ids


def telegram(up: Upstream, tg: FakeTelegram) -> None:
    log("telegram")
    bot = tg.bots[BOT_TOKEN]
    wait(lambda: bot.polls, "upstream to poll the fake Bot API")
    tg.send_user_message(BOT_TOKEN, STRANGER_A, "hello, who are you?", username="stranger_a")
    tg.send_user_message(BOT_TOKEN, STRANGER_B, "hi there", username="stranger_b")
    for user in (STRANGER_A, STRANGER_B):
        wait(lambda u=user: tg.messages_to(BOT_TOKEN, u), f"a pairing code for {user}")
    pending = wait(lambda: len(reqs := _requests(up)) >= 2 and reqs, "two pairing requests")
    code_b = next(r["code"] for r in pending if str(r["id"]) == str(STRANGER_B))
    up.run("pairing", "approve", "telegram", code_b)
    before = len(tg.messages_to(BOT_TOKEN, STRANGER_B))
    last = tg.send_user_message(BOT_TOKEN, STRANGER_B, APPROVED_TEXT, username="stranger_b")
    wait(lambda: len(tg.messages_to(BOT_TOKEN, STRANGER_B)) > before, "the answer to the approved sender")
    wait(lambda: _offset(up) == last, f"upstream to store update offset {last}")


def _requests(up: Upstream) -> list[dict[str, Any]]:
    data = up.run_json("pairing", "list", "telegram", "--json")
    requests: list[dict[str, Any]] = data.get("requests", data) if isinstance(data, dict) else data
    return requests


def _offset(up: Upstream) -> int | None:
    db = sqlite3.connect(f"file:{up.state_dir / GLOBAL_DB}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value_json FROM plugin_state_entries WHERE plugin_id=? AND namespace=?",
                         TELEGRAM_OFFSETS).fetchone()
    finally:
        db.close()
    return json.loads(row[0])["lastUpdateId"] if row else None


def read_manifest(state_dir: Path) -> dict[str, Any]:
    """What the state dir holds, read with SQLite: the counts and ids the round-trip test expects."""
    glob = sqlite3.connect(state_dir / GLOBAL_DB)
    sessions: dict[str, Any] = {}
    for agent_db in sorted(state_dir.glob(AGENT_DB.format(agent="*"))):
        agent = agent_db.parent.parent.name
        db = sqlite3.connect(agent_db)
        for key, session_id in db.execute("SELECT session_key, current_session_id FROM session_nodes ORDER BY 1"):
            rows = [json.loads(r[0]) for r in db.execute(
                "SELECT event_json FROM transcript_events WHERE session_id=? AND event_json IS NOT NULL ORDER BY seq",
                (session_id,))]
            messages = [e["message"] for e in rows if e.get("type") == "message"]
            said = json.dumps([m["content"] for m in messages if m["role"] == "user"], ensure_ascii=False)
            sessions[key] = {"agent": agent, "sessionId": session_id, "messages": len(messages),
                             "texts": [t for t in SENT if t in said]}
        db.close()
    jobs = {r[0]: {"name": r[1], "payloadKind": r[2]} for r in glob.execute(
        "SELECT job_id, name, payload_kind FROM cron_jobs WHERE declaration_key IS NULL ORDER BY name")}
    runs = {job: count for job, count in glob.execute(
        "SELECT source_id, count(*) FROM task_runs WHERE runtime='cron' GROUP BY source_id") if job in jobs}
    devices = [r[0] for r in glob.execute("SELECT device_id FROM device_pairing_paired ORDER BY 1")]
    approved = [{"channel": c, "accountId": a, "entry": e} for c, a, e in glob.execute(
        "SELECT channel_key, account_id, entry FROM channel_pairing_allow_entries ORDER BY 1, 2, 3")]
    pending = [{"channel": c, "accountId": a, "id": i, "code": code} for c, a, i, code in glob.execute(
        "SELECT channel_key, account_id, request_id, code FROM channel_pairing_requests ORDER BY 1, 2, 3")]
    (offset,) = glob.execute("SELECT value_json FROM plugin_state_entries WHERE plugin_id=? AND namespace=?",
                             TELEGRAM_OFFSETS).fetchone()
    glob.close()
    return {"sessions": sessions, "cronJobs": jobs, "cronRuns": runs, "devices": devices,
            "telegram": {"approved": approved, "pending": pending, "offset": json.loads(offset)}}


def cross_check(up: Upstream, expected: dict[str, Any]) -> None:
    """Upstream's own CLI (gateway running) must report what SQLite holds."""
    sessions = {s["key"] for s in up.run_json("sessions", "--all-agents", "--json")["sessions"]}
    assert set(expected["sessions"]) <= sessions, (expected["sessions"].keys(), sessions)
    jobs = {j["id"] for j in up.run_json("cron", "list", "--all", "--json")["jobs"]}
    assert set(expected["cronJobs"]) <= jobs, (expected["cronJobs"], jobs)
    listed = up.run_json("devices", "list", "--json")
    paired = {d["deviceId"] for d in listed.get("paired", [])}
    assert set(expected["devices"]) <= paired, (expected["devices"], paired)
    codes = {r["code"] for r in _requests(up)}
    assert {p["code"] for p in expected["telegram"]["pending"]} == codes, codes


def export(up: Upstream, version: str, out: Path) -> dict[str, Any]:
    """Copy what matters of the stopped gateway's state dir to `out`, relocated to FIXTURE_HOME."""
    if out.exists():
        shutil.rmtree(out)
    state = out / STATE
    stores = [Path(GLOBAL_DB), *(p.relative_to(up.state_dir) for p in up.state_dir.glob(AGENT_DB.format(agent="*")))]
    for rel in [Path(CONFIG), *stores]:
        (state / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel != Path(CONFIG):
            checkpoint(up.state_dir / rel)
        shutil.copy2(up.state_dir / rel, state / rel)
    config = json.loads((state / CONFIG).read_text())
    del config["gateway"]["nodes"]  # set only for making the fixture (see devices())
    (state / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    relocate(state, str(up.home), FIXTURE_HOME)
    for rel in stores:
        checkpoint(state / rel)
    data = read_manifest(state)
    telegram = data["telegram"]
    telegram["lastUpdateId"] = telegram["offset"]["lastUpdateId"]
    telegram["pendingCode"] = next(p["code"] for p in telegram["pending"] if p["id"] == str(STRANGER_A))
    data.update(version=version, home=FIXTURE_HOME, botToken=BOT_TOKEN, botId=BOT_ID,
                strangers={"pending": STRANGER_A, "approved": STRANGER_B}, explicitSessionId=SESSION_ID)
    (out / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    pack(state)
    return data


def generate(binary: str, keep: bool) -> Path:
    home = Path(tempfile.mkdtemp(prefix="ocfx-"))
    up = Upstream(binary, home)
    model, tg = ModelStandin(record=False).start(), FakeTelegram().start()
    tg.add_bot(BOT_TOKEN, "fixture_bot").id = BOT_ID
    try:
        version = _version(up)
        log(f"upstream {version} in {home}: onboard")
        up.run("onboard", "--non-interactive", "--accept-risk", "--skip-daemon", "--skip-health")
        port = free_port()
        configure(up, port, model, tg)
        log(f"gateway on {port}")
        up.start(port)
        token = json.loads((up.state_dir / CONFIG).read_text())["gateway"]["auth"]["token"]
        agent_turns(up)
        cron_jobs(up)
        devices(up, port, token)
        telegram(up, tg)
        up.stop()
        return finish(up, version)
    finally:
        up.stop()
        tg.stop()
        model.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def finish(up: Upstream, version: str) -> Path:
    """Export the stopped state, then start upstream on it again and cross-check with its CLI."""
    out = ROOT / version
    data = export(up, version, out)
    log("cross-check with upstream's CLI")
    up.start(json.loads((up.state_dir / CONFIG).read_text())["gateway"]["port"])
    try:
        cross_check(up, data)
    finally:
        up.stop()
    log(f"wrote {out}: {sum(p.stat().st_size for p in out.rglob('*') if p.is_file())} bytes")
    return out


def _version(up: Upstream) -> str:
    match = re.search(r"\d{4}\.\d+\.\d+", up.run("--version").stdout)
    if not match:
        raise SystemExit("cannot read upstream's version from `openclaw --version`")
    return match.group(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", default=BINARY, help="upstream's openclaw (default: OPENCLAW_UPSTREAM_BIN, "
                        "openclaw-upstream on PATH, /opt/upstream/bin/openclaw-upstream)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary HOME (its path is logged)")
    parser.add_argument("--export-only", metavar="HOME", type=Path,
                        help="only export (and cross-check) a HOME kept by an earlier --keep run")
    args = parser.parse_args()
    if not args.upstream or not Path(args.upstream).exists():
        raise SystemExit(f"upstream openclaw not found at {args.upstream}; set OPENCLAW_UPSTREAM_BIN")
    if args.export_only:
        up = Upstream(args.upstream, args.export_only.resolve())
        finish(up, _version(up))
    else:
        generate(args.upstream, args.keep)


if __name__ == "__main__":
    main()
