"""Cron jobs: agent turns on a schedule (against the stand-in model), each in a fresh session,
delivered to Telegram, persisted in the state dir's `state/openclaw.sqlite`, and never run twice for
one slot across restarts."""

from __future__ import annotations

import itertools
import json
import sqlite3
import time

from fake_telegram import FakeTelegram, new_bot, start_with_telegram
from helpers import Env, Gateway, handshake, wait_for
from model_standin import ModelStandin

from openclaw.cron.schedule import at_ms, iso
from openclaw.stores.cron import store_key

OWNER = 9101


def runs(env: Env, job: str | None = None) -> list[dict]:
    args = ["cron", "runs", *([job] if job else []), "--limit", "100", "--json"]
    return list(reversed(json.loads(env.cli(*args, check=True).stdout)["entries"]))


def recorded(env: Env) -> int:
    """Finished runs in the store `cron runs` reads: waiting on it costs no CLI start per poll."""
    path = env.state_dir() / "state" / "openclaw.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM task_runs WHERE runtime = 'cron'").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not there yet
            return 0


def stored_jobs(env: Env) -> list[dict]:
    """The store's job rows: the definition with its runtime state, as upstream reads them."""
    with sqlite3.connect(env.state_dir() / "state" / "openclaw.sqlite") as db:
        rows = db.execute("SELECT job_json, state_json FROM cron_jobs WHERE store_key = ? ORDER BY sort_order",
                          (store_key(env.state_dir()),)).fetchall()
    return [{**json.loads(job), "state": json.loads(state)} for job, state in rows]


def test_a_job_fires_on_time_in_fresh_sessions_and_delivers(env: Env, base: int, gateways: list[Gateway],
                                                            tg: FakeTelegram, model: ModelStandin) -> None:
    token = new_bot(tg, "cron_bot")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "allowlist",
                                              "allowFrom": [str(OWNER)]})
    added = json.loads(env.cli("cron", "add", "--name", "pulse", "--every", "2s", "--message", "report the weather",
                               "--announce", "--to", str(OWNER), "--json", check=True).stdout)
    assert added["schedule"]["kind"] == "every" and added["delivery"]["to"] == str(OWNER)
    wait_for(lambda: recorded(env) >= 3, timeout=20, what="three runs")
    done = runs(env, "pulse")[:3]
    assert [r["status"] for r in done] == ["ok", "ok", "ok"]
    first_due = added["state"]["nextRunAtMs"]
    assert abs(done[0]["runAtMs"] - first_due) < 1000  # on time
    gaps = [b["runAtMs"] - a["runAtMs"] for a, b in itertools.pairwise(done)]
    assert all(1500 <= g <= 2800 for g in gaps), gaps
    assert len({r["sessionKey"] for r in done}) == 3 and all(":cron:" in r["sessionKey"] for r in done)
    assert tg.messages_to(token, OWNER)[:3] == ["echo: report the weather"] * 3
    env.cli("cron", "disable", "pulse", check=True)
    stopped = len(runs(env, "pulse"))
    listed = json.loads(env.cli("cron", "list", "--all", "--json", check=True).stdout)["jobs"]
    assert listed[0]["enabled"] is False and listed[0]["state"].get("nextRunAtMs") is None
    assert None not in stored_jobs(env)[0]["state"].values()  # upstream drops a job whose state holds a null
    manual = json.loads(env.cli("cron", "run", "pulse", "--json", check=True).stdout)
    assert manual["ran"] and manual["status"] == "ok"
    assert [r["trigger"] for r in runs(env, "pulse")][stopped:] == ["manual"]


def test_a_slot_runs_once_across_restarts(env: Env, base: int, gateways: list[Gateway], model: ModelStandin) -> None:
    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    job = json.loads(env.cli("cron", "add", "--name", "once", "--at", "3s", "--message", "one shot", "--json",
                             check=True).stdout)
    assert gw.stop() == 0  # down before it is due
    due = at_ms(job["schedule"])
    assert due is not None and not (env.state_dir() / "cron" / "jobs.json").exists()
    stored = stored_jobs(env)
    assert stored[0]["id"] == job["id"] and stored[0]["state"]["nextRunAtMs"] == due
    wait_for(lambda: time.time() * 1000 > due + 200, timeout=10, what="the slot to pass")
    gw = env.gateway().start()  # the missed slot runs once, now
    gateways.append(gw)
    gw.wait_healthy(base)
    wait_for(lambda: recorded(env) == 1, timeout=15, what="the missed run")
    assert runs(env)[0]["status"] == "ok" and runs(env)[0]["trigger"] == "schedule"
    assert gw.stop() == 0
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    status = json.loads(env.cli("cron", "status", "--json", check=True).stdout)
    assert status["jobs"] == 1 and status["nextWakeAtMs"] is None  # a one-shot that ran is done
    assert len(runs(env)) == 1


def test_bad_jobs_are_refused_with_one_line(started: tuple[Env, int, Gateway]) -> None:
    env, _, _ = started
    bad = env.cli("cron", "add", "--name", "x", "--cron", "61 * * * *", "--message", "m")
    assert bad.returncode == 2 and "invalid cron expression '61 * * * *'" in bad.stderr
    bad = env.cli("cron", "add", "--name", "x", "--every", "10m", "--cron", "* * * * *", "--message", "m")
    assert bad.returncode == 2 and "exactly one of --every, --at or --cron" in bad.stderr
    bad = env.cli("cron", "add", "--name", "x", "--cron", "0 9 * * *", "--tz", "Mars/Olympus", "--message", "m")
    assert bad.returncode == 2 and "unknown time zone" in bad.stderr
    missing = env.cli("cron", "run", "nope")
    assert missing.returncode == 1 and "cron job not found: nope" in missing.stderr
    assert "No cron jobs" in env.cli("cron", "list", check=True).stdout


def test_time_bounds_and_control_characters_are_refused_by_the_cli(started: tuple[Env, int, Gateway]) -> None:
    env, _, _ = started
    cases = [
        (["--every", "500ms"], "--every must be at least 1s"),
        (["--every", "366d"], "--every must be at most 365d (one year)"),
        (["--every", "1" + "0" * 30 + "s"], "--every must be at most 365d (one year)"),
        (["--every", "9" * 400 + "d"], "invalid duration"),
        (["--at", "2001-01-01T00:00:00Z"], "is in the past"),
        (["--at", "4000d"], "is more than 10 years ahead"),
        (["--at", "9999-12-31T23:59:59Z"], "is more than 10 years ahead"),
        (["--cron", "0 9 * * *\n* * * * *"], "--cron must be one line without control characters"),
        (["--cron", "0\t9 * * *"], "--cron must be one line without control characters"),
        (["--cron", "0 0 30 2 *"], "cron expression '0 0 30 2 *' never comes due"),
    ]
    for flags, wanted in cases:
        bad = env.cli("cron", "add", "--name", "x", *flags, "--message", "m")
        assert bad.returncode == 2 and wanted in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, (flags, bad)
    for name in ("two\nlines", "bell\x07", "esc\x1b[31mred", "flip\u202egnp.exe"):
        bad = env.cli("cron", "add", "--name", name, "--every", "1h", "--message", "m")
        assert bad.returncode == 2 and "--name must be one line without control characters" in bad.stderr, name
    ok = json.loads(env.cli("cron", "add", "--name", "seconds", "--cron", "*/30 * * * * *", "--message", "m",
                            "--json", check=True).stdout)
    gap = ok["state"]["nextRunAtMs"] - time.time() * 1000
    assert ok["schedule"]["expr"] == "*/30 * * * * *" and -1000 < gap <= 31_000  # seconds first: within 30 s
    assert "6 fields: seconds first" in env.cli("cron", "add", "--help", check=True).stdout


def test_time_bounds_and_control_characters_are_refused_over_rpc(started: tuple[Env, int, Gateway]) -> None:
    env, port, _ = started
    ws, _ = handshake(port, env.token(), scopes=["operator.admin"])
    now = int(time.time() * 1000)
    year, decade = 365 * 86_400_000, 3653 * 86_400_000
    every = "schedule.everyMs must be an integer from 1000 (1s) to 31536000000 (1 year)"
    cases = [
        ({"kind": "at", "atMs": 10**20}, "schedule.atMs must be within 10 years from now"),
        ({"kind": "at", "atMs": now + decade + 60_000}, "schedule.atMs must be within 10 years from now"),
        ({"kind": "at", "atMs": now - 1000}, "schedule.atMs must be in the future"),
        ({"kind": "at", "atMs": 1e20}, "schedule.atMs must be a time in milliseconds"),
        ({"kind": "every", "everyMs": 10**30}, every),
        ({"kind": "every", "everyMs": year + 1}, every),
        ({"kind": "every", "everyMs": 999}, every),
        ({"kind": "every", "everyMs": True}, every),
        ({"kind": "every", "everyMs": 60_000, "anchorMs": 10**20},
         "schedule.anchorMs must be a time in milliseconds within 10 years of now"),
        ({"kind": "cron", "expr": "0 9 * * *\n* * * * *"}, "schedule.expr must be one line without control characters"),
        ({"kind": "cron", "expr": "0 9 * * *\u2028"}, "schedule.expr must be one line without control characters"),
    ]
    payload = {"kind": "agentTurn", "message": "m"}
    try:
        for i, (schedule, wanted) in enumerate(cases):
            res = ws.request("cron.add", {"name": "x", "schedule": schedule, "payload": payload}, req_id=f"a{i}")
            assert not res["ok"] and res["error"]["message"] == wanted, (schedule, res)
        for i, name in enumerate(("two\nlines", "nul\x00", "del\x7f", " ", "n" * 201)):
            res = ws.request("cron.add", {"name": name, "schedule": {"kind": "every", "everyMs": 60_000},
                                          "payload": payload}, req_id=f"n{i}")
            assert not res["ok"] and res["error"]["message"].startswith("name must be"), (name, res)
        added = ws.request("cron.add", {"name": "fine", "schedule": {"kind": "at", "atMs": now + year},
                                        "payload": payload}, req_id="ok")
        assert added["ok"], added
        res = ws.request("cron.update", {"id": "fine", "patch": {"schedule": {"kind": "every", "everyMs": 10**30}}},
                         req_id="u1")
        assert not res["ok"] and res["error"]["message"] == every
        res = ws.request("cron.update", {"id": "fine", "patch": {"name": "a\nb"}}, req_id="u2")
        assert not res["ok"] and res["error"]["message"] == "name must be one line without control characters"
        assert ws.request("cron.update", {"id": "fine", "patch": {"enabled": False}}, req_id="u3")["ok"]
        listed = ws.request("cron.list", {"includeDisabled": True}, req_id="l")["payload"]["jobs"]
        assert [(j["name"], j["schedule"]) for j in listed] == [("fine", {"kind": "at", "at": iso(now + year)})]
    finally:
        ws.close()


def test_stored_jobs_out_of_bounds_are_disabled_not_fatal(env: Env, base: int, gateways: list[Gateway]) -> None:
    """A jobs.json written by an older version (or by hand) with schedules out of bounds: the gateway
    starts, those jobs are not scheduled (their definitions kept), the reason is noted, listing works."""
    env.provision(None, base)
    payload = {"kind": "agentTurn", "message": "m"}
    bad = [{"id": "j1", "name": "forever", "schedule": {"kind": "every", "everyMs": 10**30}, "payload": payload},
           {"id": "j2", "name": "never", "schedule": {"kind": "cron", "expr": "0 0 30 2 *"}, "payload": payload},
           {"id": "j3", "name": "far", "schedule": {"kind": "at", "atMs": 10**20}, "payload": payload},
           {"id": "j4", "name": "fine", "schedule": {"kind": "every", "everyMs": 3_600_000}, "payload": payload}]
    (env.state_dir() / "cron").mkdir(parents=True)
    (env.state_dir() / "cron" / "jobs.json").write_text(json.dumps({"version": 1, "jobs": bad}))
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    jobs = {j["name"]: j for j in json.loads(env.cli("cron", "list", "--all", "--json", check=True).stdout)["jobs"]}
    for name in ("forever", "never", "far"):
        assert jobs[name]["state"].get("nextRunAtMs") is None, name
        assert jobs[name]["state"]["lastError"].startswith("schedule refused"), name
    refused = env.cli("cron", "run", "forever")
    assert refused.returncode == 1 and "schedule refused: schedule.everyMs must be" in refused.stderr
    assert jobs["fine"].get("enabled", True) and jobs["fine"]["state"]["nextRunAtMs"]
    assert "far" in env.cli("cron", "list", "--all", check=True).stdout


def test_jobs_and_runs_upstream_stored_are_listed_kept_and_joined(env: Env, base: int,
                                                                  gateways: list[Gateway]) -> None:
    """A state dir upstream's CLI and gateway wrote (the fixture): ours lists its jobs with their
    stored fields, its run, and a job and run of ours beside them; its heartbeat job is adopted (not
    rewritten); the other built-in jobs and the job with a `command` payload are not run, and no row
    upstream wrote is rewritten."""
    from test_cron_store import hold_fixed_times, table, upstream_store

    env.provision(None, base)
    data = upstream_store(env.state_dir())
    hold_fixed_times(env.state_dir())
    before = {r[1]: r for r in table(env.state_dir(), "cron_jobs")}
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    listed = json.loads(env.cli("cron", "list", "--all", "--json", check=True).stdout)
    assert listed["total"] == 7 and listed["jobs"][-1]["name"] == "paused"  # soonest first, disabled last
    stored = {r["job_id"]: json.loads(r["job_json"]) for r in data["rows"]["cron_jobs"]}
    for job in listed["jobs"]:
        assert {k: job[k] for k in stored[job["id"]] if k != "state"} == \
            {k: v for k, v in stored[job["id"]].items() if k != "state"}, job["name"]
        assert job["effectiveAgentId"] == "main" and job["configRevision"].startswith("sha256:")
    by_name = {j["name"]: j for j in listed["jobs"]}
    assert by_name["pulse"]["status"] == "ok" and by_name["paused"]["status"] == "disabled"
    refused = env.cli("cron", "run", "skill-collection-review-main")
    assert refused.returncode == 1 and "does not run the built-in job skill-collection-review:main" in refused.stderr
    beat = json.loads(env.cli("health", "--json", check=True).stdout)["agents"][0]["heartbeat"]
    assert beat == {"enabled": True, "every": "30m", "everyMs": 1_800_000}  # upstream's heartbeat job, adopted
    refused = env.cli("cron", "run", "pulse")
    assert refused.returncode == 1 and "does not run the command payload of pulse" in refused.stderr
    ours = json.loads(env.cli("cron", "add", "--name", "ours", "--every", "1h", "--message", "m", "--json",
                              check=True).stdout)
    assert json.loads(env.cli("cron", "run", "ours", "--json", check=True).stdout)["ran"]
    ws, _ = handshake(base, env.token(), scopes=["operator.read"])
    try:  # as upstream's Control UI pages them
        page = ws.request("cron.runs", {"agentId": "main", "sortDir": "asc", "limit": 1, "offset": 1})
        assert page["ok"], page
        assert page["payload"]["total"] == 2 and [e["jobName"] for e in page["payload"]["entries"]] == ["ours"]
        first = ws.request("cron.runs", {"id": by_name["pulse"]["id"], "sortDir": "desc", "limit": 50})["payload"]
        assert first["entries"][0]["summary"] == "hello" and first["entries"][0]["runId"].startswith("manual:")
    finally:
        ws.close()
    after = {r[1]: r for r in table(env.state_dir(), "cron_jobs")}
    assert ours["id"] in after and len(after) == 8
    assert all(after[i] == before[i] for i in before)  # every column of every row upstream wrote
