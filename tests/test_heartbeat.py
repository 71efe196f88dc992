"""Heartbeats end to end: real gateways, the stand-in model and the Telegram stand-in. A 1 s
heartbeat delivers the model's reply to the owner; NO_REPLY and the legacy ack stay silent; the job
is upstream's system job in the cron store, run once per slot across restarts; wakes and the switch;
a rescue instance that speaks only when its target is down; upstream's CLI reading ours."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from typing import Any

import pytest
from fake_telegram import FakeTelegram, new_bot, start_with_telegram
from helpers import PY, Env, Gateway, handshake, upstream_bin, wait_for
from model_standin import ModelStandin, Reply, last_user_text

from openclaw.stores.cron import store_key

OWNER = 9301


def last(env: Env, profile: str | None = None) -> dict[str, Any] | None:
    args = ["--profile", profile] if profile else []
    result: dict[str, Any] | None = json.loads(env.cli(*args, "system", "heartbeat", "last", "--json",
                                                       check=True).stdout)
    return result


def beating(env: Env, base: int, gateways: list[Gateway], model: ModelStandin, ref: str,
            block: dict[str, Any]) -> Gateway:
    """A healthy gateway on the stand-in model `ref` with `block` as its heartbeat defaults."""
    env.provision(None, base)
    env.use_model(model.openai_url, ref)
    env.set_config(("agents.defaults.heartbeat", json.dumps(block)))
    gw = env.gateway().start()
    gateways.append(gw)
    return gw.wait_healthy(base)


def heartbeat_rows(env: Env) -> list[dict[str, Any]]:
    path = env.state_dir() / "state" / "openclaw.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'cron_jobs'").fetchone():
            return []
        rows = db.execute("SELECT job_json, state_json, declaration_key, payload_kind FROM cron_jobs "
                          "WHERE store_key = ? AND declaration_key LIKE 'heartbeat:%'",
                          (store_key(env.state_dir()),)).fetchall()
    return [{**json.loads(job), "state": json.loads(state), "row": (key, kind)} for job, state, key, kind in rows]


def heartbeat_runs(env: Env) -> int:
    path = env.state_dir() / "state" / "openclaw.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM task_runs WHERE runtime = 'cron' AND label = 'heartbeat-main'")
                   .fetchone()[0])


def runs(env: Env) -> list[dict[str, Any]]:
    """The heartbeat job's runs, newest first."""
    return list(json.loads(env.cli("cron", "runs", "heartbeat-main", "--json", check=True).stdout)["entries"])


def beats(model: ModelStandin, name: str) -> list[str]:
    """The user messages of the heartbeat turns model `name` was asked (the stand-in serves the module)."""
    return [last_user_text(s.api, s.body) for s in model.requests()
            if s.body.get("model") == name and "Scheduled check-in" in last_user_text(s.api, s.body)]


def system_prompts(model: ModelStandin, name: str) -> list[str]:
    """The system prompts of the heartbeat turns model `name` was asked."""
    return [str(m.get("content")) for s in model.requests() if s.body.get("model") == name
            and "Scheduled check-in" in last_user_text(s.api, s.body)
            for m in s.body.get("messages") or [] if m.get("role") == "system"]


def telegram(token: str, tg: FakeTelegram) -> dict[str, Any]:
    return {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "allowlist", "allowFrom": [str(OWNER)]}


def test_a_one_second_heartbeat_delivers_the_reply_to_the_owner(env: Env, base: int, gateways: list[Gateway],
                                                                 tg: FakeTelegram, model: ModelStandin) -> None:
    token = new_bot(tg, "heartbeat_bot")
    env.provision(None, base)
    env.use_model(model.openai_url, "stand/hb-deliver")
    env.set_config(("agents.defaults.heartbeat", json.dumps({"every": "1s"})))
    workspace = env.home / ".openclaw" / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "HEARTBEAT.md").write_text("- remind the owner to water the fern\n")
    model.script(Reply(text="Time to water the fern.", model="hb-deliver"))
    start_with_telegram(env, base, gateways, telegram(token, tg))
    wait_for(lambda: "Time to water the fern." in tg.messages_to(token, OWNER), timeout=20, what="the delivery")
    asked = beats(model, "hb-deliver")[0]
    assert "water the fern" in asked and "HEARTBEAT.md" in asked and "NO_REPLY" in asked
    assert "## AGENTS.md" in system_prompts(model, "hb-deliver")[0]  # the workspace files, as in any turn
    event = last(env)
    assert event is not None and event["agentId"] == "main" and event["sessionKey"] == "agent:main:main"
    assert event["status"] in ("sent", "skipped", "ok-token", "ok-empty")  # later beats echo or repeat
    job = heartbeat_rows(env)[0]
    assert job["row"] == ("heartbeat:main", "heartbeat")
    assert {k: job[k] for k in ("declarationKey", "displayName", "name", "agentId", "sessionTarget", "wakeMode",
                                "payload")} == {
        "declarationKey": "heartbeat:main", "displayName": "Heartbeat (main)", "name": "heartbeat-main",
        "agentId": "main", "sessionTarget": "main", "wakeMode": "next-heartbeat", "payload": {"kind": "heartbeat"}}
    assert job["schedule"]["kind"] == "every" and job["schedule"]["everyMs"] == 1000
    assert 0 <= job["schedule"]["anchorMs"] < 1000
    listed = json.loads(env.cli("cron", "list", "--all", "--json", check=True).stdout)["jobs"]
    assert [j["displayName"] for j in listed] == ["Heartbeat (main)"]
    assert "Heartbeat (main)" in env.cli("cron", "list", check=True).stdout  # as upstream's table names it
    health = env.cli_json("health")
    assert health["agents"][0]["heartbeat"] == {"enabled": True, "every": "1s", "everyMs": 1000}
    assert health["heartbeatSeconds"] == 1
    refused = env.cli("cron", "rm", "heartbeat-main")
    assert refused.returncode == 1 and "declared by the config" in refused.stderr


def test_silent_replies_wakes_and_the_switch(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram,
                                             model: ModelStandin) -> None:
    token = new_bot(tg, "quiet_bot")
    env.provision(None, base)
    env.use_model(model.openai_url, "stand/hb-silent")
    env.set_config(("agents.defaults.heartbeat", json.dumps({"every": "1h", "target": "telegram", "to": str(OWNER),
                                                             "lightContext": True})))
    start_with_telegram(env, base, gateways, telegram(token, tg))

    def wake(text: str) -> dict[str, Any]:
        before = (last(env) or {}).get("ts", 0)
        assert env.cli("system", "event", "--text", text, "--mode", "now", check=True).stdout.strip() == "ok"
        wait_for(lambda: (last(env) or {}).get("ts", 0) > before, timeout=20, what=f"the heartbeat after {text!r}")
        event = last(env)
        assert event is not None
        return event

    model.script(Reply(text="NO_REPLY", model="hb-silent"))
    quiet = wake("disk is 91% full")
    assert quiet["status"] == "ok-token" and quiet["silent"] is True and quiet["indicatorType"] == "ok"
    assert "disk is 91% full" in beats(model, "hb-silent")[-1]  # the queued event went into the turn
    assert "## AGENTS.md" not in system_prompts(model, "hb-silent")[-1]  # lightContext: no workspace files
    model.script(Reply(text="HEARTBEAT_OK nothing new", model="hb-silent"))
    assert wake("second look")["status"] == "ok-token"
    assert tg.messages_to(token, OWNER) == []
    env.cli("system", "event", "--text", "the backup finished", check=True)  # next-heartbeat: queued only
    ws, _ = handshake(base, env.token(), scopes=["operator.read"])
    try:
        queued = ws.request("status", {})["payload"]["queuedSystemEvents"]
    finally:
        ws.close()
    assert queued == ["the backup finished"] and len(beats(model, "hb-silent")) == 2
    model.script(Reply(text="The backup finished; all good.", model="hb-silent"))
    sent = wake("please report")
    assert sent["status"] == "sent" and sent["channel"] == "telegram" and sent["to"] == str(OWNER)
    assert sent["preview"] == "The backup finished; all good." and sent["indicatorType"] == "alert"
    asked = beats(model, "hb-silent")[-1]
    assert "the backup finished" in asked and "please report" in asked
    assert tg.messages_to(token, OWNER) == ["The backup finished; all good."]
    assert json.loads(env.cli("system", "heartbeat", "disable", "--json", check=True).stdout) == \
        {"ok": True, "enabled": False}
    done = len(runs(env))
    env.cli("system", "event", "--text", "while paused", "--mode", "now", check=True)
    wait_for(lambda: len(runs(env)) > done, timeout=20, what="the paused heartbeat's run")
    assert runs(env)[0]["status"] == "skipped" and runs(env)[0]["summary"] == "skipped: disabled"
    assert len(beats(model, "hb-silent")) == 3 and last(env) == sent  # no turn; no event, as upstream
    assert env.cli("system", "heartbeat", "enable", check=True).stdout.strip() == "heartbeats enabled"
    text = env.cli("system", "heartbeat", "last", check=True).stdout
    assert "agent main: sent to telegram:9301" in text and "The backup finished" in text


def test_a_missed_slot_runs_once_and_never_twice_across_restarts(env: Env, base: int, gateways: list[Gateway],
                                                                 model: ModelStandin) -> None:
    gw = beating(env, base, gateways, model, "stand/hb-missed", {"every": "1h", "target": "none"})
    wait_for(lambda: (env.state_dir() / "state" / "openclaw.sqlite").exists() and heartbeat_rows(env),
             timeout=15, what="the heartbeat job declared")
    declared = heartbeat_rows(env)[0]
    assert declared["state"]["nextRunAtMs"] > time.time() * 1000 + 59 * 60_000  # a whole interval away
    assert gw.stop() == 0
    missed = int(time.time() * 1000) - 3 * 3_600_000  # three slots passed while it was down
    with sqlite3.connect(env.state_dir() / "state" / "openclaw.sqlite") as db:
        db.execute("UPDATE cron_jobs SET state_json = ? WHERE declaration_key = 'heartbeat:main'",
                   (json.dumps({"nextRunAtMs": missed}),))
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    wait_for(lambda: heartbeat_runs(env) == 1, timeout=20, what="the missed slot's one run")
    after = heartbeat_rows(env)[0]
    assert after["id"] == declared["id"] and after["state"]["nextRunAtMs"] > time.time() * 1000
    assert len(beats(model, "hb-missed")) == 1
    assert gw.stop() == 0
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    listed = json.loads(env.cli("cron", "list", "--all", "--json", check=True).stdout)["jobs"]
    assert [j["id"] for j in listed] == [declared["id"]]  # one job, kept across restarts
    assert heartbeat_runs(env) == 1 and len(beats(model, "hb-missed")) == 1
    entry = json.loads(env.cli("cron", "runs", "heartbeat-main", "--json", check=True).stdout)["entries"][0]
    assert entry["status"] == "ok" and entry["sessionKey"] == "agent:main:main"


def test_zero_cadence_keeps_the_job_disabled_and_hot_reload_follows(env: Env, base: int, gateways: list[Gateway],
                                                                    model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url, "stand/hb-zero")
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    assert env.cli_json("health")["agents"][0]["heartbeat"]["enabled"] is False  # a model alone: none
    env.cli("config", "set", "agents.defaults.heartbeat", json.dumps({"every": "2h"}), check=True)  # hot reload
    wait_for(lambda: (env.state_dir() / "state" / "openclaw.sqlite").exists() and heartbeat_rows(env),
             timeout=15, what="the heartbeat job declared")
    env.cli("config", "set", "agents.defaults.heartbeat.every", '"0m"', check=True)
    wait_for(lambda: heartbeat_rows(env)[0]["enabled"] is False, timeout=15, what="the job disabled")
    job = heartbeat_rows(env)[0]
    assert job["schedule"]["everyMs"] == 7_200_000 and job["state"].get("nextRunAtMs") is None
    assert env.cli_json("health")["agents"][0]["heartbeat"]["enabled"] is False
    env.cli("config", "set", "agents.defaults.heartbeat.every", '"45m"', check=True)
    wait_for(lambda: heartbeat_rows(env)[0]["enabled"] is True, timeout=15, what="the job enabled again")
    assert heartbeat_rows(env)[0]["schedule"]["everyMs"] == 2_700_000 and heartbeat_rows(env)[0]["id"] == job["id"]
    env.cli("config", "unset", "agents.defaults.heartbeat", check=True)  # heartbeats switched off
    wait_for(lambda: heartbeat_rows(env)[0]["enabled"] is False, timeout=15, what="the job disabled again")
    assert env.cli_json("health")["heartbeatSeconds"] == 0
    refused = env.cli("config", "set", "agents.defaults.heartbeat.evry", '"1m"')
    assert refused.returncode != 0 and "every" in refused.stderr


def test_a_heartbeat_job_left_in_the_store_keeps_beating_without_a_block(env: Env, base: int,
                                                                        gateways: list[Gateway],
                                                                        model: ModelStandin) -> None:
    """Upstream declares a heartbeat job for an instance with a model and no heartbeat block: after
    a switch to ours that instance keeps beating (at the defaults) instead of going quiet."""
    gw = beating(env, base, gateways, model, "stand/hb-adopt", {"every": "1h", "target": "none"})
    wait_for(lambda: (env.state_dir() / "state" / "openclaw.sqlite").exists() and heartbeat_rows(env),
             timeout=15, what="the heartbeat job declared")
    gw.stop()
    env.cli("config", "unset", "agents.defaults.heartbeat", check=True)  # as upstream leaves it: no block
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    wait_for(lambda: heartbeat_rows(env)[0]["schedule"]["everyMs"] == 1_800_000, timeout=15,
             what="the job at the default cadence")
    assert env.cli_json("health")["agents"][0]["heartbeat"] == {"enabled": True, "every": "30m",
                                                                "everyMs": 1_800_000}
    model.script(Reply(text="NO_REPLY", model="hb-adopt"))
    assert env.cli("system", "event", "--text", "still there?", "--mode", "now", check=True).stdout.strip() == "ok"
    wait_for(lambda: last(env) is not None, timeout=20, what="the adopted heartbeat's run")
    assert "still there?" in beats(model, "hb-adopt")[-1]


def test_a_busy_session_defers_the_heartbeat(env: Env, base: int, gateways: list[Gateway],
                                             model: ModelStandin) -> None:
    beating(env, base, gateways, model, "stand/hb-busy", {"every": "1h", "target": "none"})
    model.script(Reply(text="a long answer, slowly", chunk=2, delay_s=0.3, model="hb-busy"))
    chat = subprocess.Popen([PY, "-m", "openclaw", "agent", "-m", "tell me slowly", "--session-key", "agent:main:main"],
                            env=env.vars, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(s.body.get("model") == "hb-busy" for s in model.requests()), timeout=20,
                 what="the chat turn at the model")
        env.cli("system", "event", "--text", "while you talk", "--mode", "now", check=True)
        wait_for(lambda: last(env) is not None, timeout=20, what="the heartbeat event")
        event = last(env)
        assert event is not None and event["status"] == "skipped" and event["reason"] == "requests-in-flight"
        due = heartbeat_rows(env)[0]["state"]["nextRunAtMs"]
        assert due <= time.time() * 1000 + 31_000  # tried again within 30 s, not at the next hourly slot
        assert beats(model, "hb-busy") == []
    finally:
        assert chat.wait(timeout=60) == 0


def test_no_model_is_a_clear_skip(env: Env, base: int, gateways: list[Gateway]) -> None:
    env.provision(None, base)
    env.set_config(("agents.defaults.heartbeat", json.dumps({"every": "1h", "isolatedSession": True})))
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    env.cli("system", "event", "--text", "anyone there?", "--mode", "now", check=True)
    wait_for(lambda: last(env) is not None, timeout=15, what="the heartbeat event")
    event = last(env)
    assert event is not None and event["status"] == "skipped" and event["reason"] == "no-model"
    assert "agents.defaults.model" in event["message"]
    assert event["sessionKey"].startswith("agent:main:heartbeat:")  # isolatedSession: a fresh one per run


def test_the_rescue_heartbeat_speaks_only_when_its_target_is_down(env: Env, base: int, gateways: list[Gateway],
                                                                  tg: FakeTelegram) -> None:
    token = new_bot(tg, "watch_bot")
    env.provision("main", base)
    main = env.gateway("main").start()
    gateways.append(main)
    main.wait_healthy(base)
    env.provision("rescue", base + 200)
    env.set_config(("agents.defaults.heartbeat", json.dumps({"every": "1s"})), profile="rescue")
    start_with_telegram(env, base + 200, gateways, telegram(token, tg), profile="rescue")

    def event() -> dict[str, Any]:
        found = last(env, "rescue")
        return found or {}

    wait_for(lambda: event().get("reason") == "targets-healthy", timeout=20, what="a healthy check")
    assert event()["status"] == "ok-empty" and event()["silent"] is True
    assert tg.messages_to(token, OWNER) == []
    assert main.stop() == 0
    wait_for(lambda: tg.messages_to(token, OWNER), timeout=20, what="the rescue bot's alert")
    alert = tg.messages_to(token, OWNER)[0]
    assert "main: gateway is stopped" in alert and "/start main" in alert
    wait_for(lambda: event().get("reason") == "duplicate", timeout=20, what="the same alert held back")
    assert len(tg.messages_to(token, OWNER)) == 1


@pytest.mark.upstream
@pytest.mark.skipif(not upstream_bin(), reason="upstream openclaw CLI not installed")
def test_upstreams_cli_reads_our_last_heartbeat(env: Env, base: int, gateways: list[Gateway]) -> None:
    """(No model: upstream's CLI refuses a config with our stand-in provider; the skip is an event too.)"""
    env.provision(None, base)
    env.set_config(("agents.defaults.heartbeat", json.dumps({"every": "1h", "target": "none"})))
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)

    def upstream(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([upstream_bin() or "", *args], env=env.vars, capture_output=True, text=True,
                              timeout=120)

    empty = upstream("system", "heartbeat", "last", "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout[empty.stdout.index("null"):]) is None
    woke = upstream("system", "event", "--text", "ping from upstream", "--mode", "now")
    assert woke.returncode == 0 and woke.stdout.strip().endswith("ok"), woke.stderr
    wait_for(lambda: last(env) is not None, timeout=20, what="the heartbeat upstream woke")
    for args in (("system", "heartbeat", "last", "--json"), ("system", "heartbeat", "last")):
        proc = upstream(*args)
        assert proc.returncode == 0, proc.stderr
        shown = json.loads(proc.stdout[proc.stdout.index("{"):])
        assert shown["status"] == "skipped" and shown["reason"] == "no-model" and shown["agentId"] == "main"
    listed = upstream("cron", "list", "--all")
    assert listed.returncode == 0 and "Heartbeat (main)" in listed.stdout, listed.stdout + listed.stderr
    status = upstream("status", "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout[status.stdout.index("{"):])
    assert shown["heartbeat"]["agents"] == [{"agentId": "main", "enabled": True, "every": "1h", "everyMs": 3_600_000}]
    switched = upstream("system", "heartbeat", "disable", "--json")
    assert json.loads(switched.stdout[switched.stdout.index("{"):]) == {"ok": True, "enabled": False}
