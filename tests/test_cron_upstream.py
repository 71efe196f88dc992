"""Cron jobs and runs shared with upstream OpenClaw on one state dir (skipped when upstream's CLI is
absent): jobs upstream's CLI added are ours' jobs with the same fields, and a job and a run of ours are
upstream's, in its own `cron list` and `cron runs`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from helpers import Env, free_base, make_env, upstream_bin, wait_for

UPSTREAM = upstream_bin()
pytestmark = [pytest.mark.upstream, pytest.mark.skipif(not UPSTREAM, reason="upstream openclaw CLI not installed")]


def up(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    assert UPSTREAM
    return subprocess.run([UPSTREAM, *args], env=env.vars, capture_output=True, text=True, timeout=300)


def up_json(env: Env, *args: str) -> Any:
    """An upstream CLI command that prints JSON, tried again while upstream's gateway restarts itself."""
    out: list[Any] = []

    def attempt() -> bool:
        proc = up(env, *args)
        if proc.returncode == 0:
            out.append(json.loads(proc.stdout[proc.stdout.index("{"):]))
            return True
        assert "not reachable" in proc.stdout + proc.stderr, proc
        return False

    wait_for(attempt, timeout=180, interval=5, what=f"upstream's {' '.join(args[:2])}")
    return out[0]


@contextmanager
def upstream_gateway(env: Env) -> Iterator[None]:
    assert UPSTREAM
    proc = subprocess.Popen([UPSTREAM, "gateway", "run"], env=env.vars, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: env.cli("gateway", "status", "--require-rpc").returncode == 0, timeout=240,
                 interval=1, what="upstream's gateway ready")
        yield
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


def cron_runs(env: Env) -> int:
    with sqlite3.connect(f"file:{env.state_dir() / 'state' / 'openclaw.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM task_runs WHERE runtime = 'cron'").fetchone()[0])


@pytest.fixture
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Env, int]:
    env = make_env(tmp_path_factory.mktemp("cronshare"))
    port = free_base()
    up(env, "onboard", "--non-interactive", "--accept-risk", "--skip-daemon", "--skip-health", "--gateway-port",
       str(port)).check_returncode()
    return env, port


@pytest.mark.timeout(1200)  # upstream's gateway starts twice, tens of seconds each on a loaded host
def test_jobs_and_runs_cross_between_upstream_and_ours(shared: tuple[Env, int]) -> None:
    env, port = shared
    with upstream_gateway(env):
        added = [up_json(env, "cron", "add", "--json", *args) for args in (
            ["--name", "morning", "--cron", "0 8 * * 1-5", "--tz", "Europe/Berlin", "--message", "brief",
             "--announce", "--channel", "telegram", "--to", "12345"],
            ["--name", "pulse", "--every", "10m", "--command", "echo hello"],
            ["--name", "later", "--at", "2h", "--message", "one time", "--delete-after-run"])]
        up_json(env, "cron", "run", added[1]["id"])
        wait_for(lambda: cron_runs(env) >= 1, timeout=120, what="upstream's run recorded")
        theirs = {j["id"]: j for j in up_json(env, "cron", "list", "--all", "--json")["jobs"]}

    gw = env.gateway().start()
    try:
        gw.wait_healthy(port)
        ours = {j["id"]: j for j in env.cli_json("cron", "list", "--all")["jobs"]}
        assert len(ours) == len(theirs) >= 6  # upstream's built-in jobs too
        for job_id, job in theirs.items():
            same = ("name", "enabled", "schedule", "payload", "delivery", "sessionTarget", "wakeMode",
                    "configRevision", "nextRunAtMs", "status")
            assert {k: ours[job_id].get(k) for k in same} == {k: job.get(k) for k in same}, job["name"]
        upstream_run = env.cli_json("cron", "runs", "pulse")["entries"]
        assert [(r["status"], r["summary"], r["trigger"]) for r in upstream_run] == [("ok", "hello", "manual")]
        mine = env.cli_json("cron", "add", "--name", "mine", "--every", "3h", "--message", "from ours")
        assert env.cli_json("cron", "run", "mine")["ran"]  # no model here: it runs and fails, on record
    finally:
        gw.stop()

    with upstream_gateway(env):
        listed = {j["name"]: j for j in up_json(env, "cron", "list", "--all", "--json")["jobs"]}
        assert listed["mine"]["id"] == mine["id"] and listed["mine"]["schedule"] == mine["schedule"]
        assert listed["mine"]["payload"]["message"] == "from ours" and listed["mine"]["status"] == "error"
        runs = up_json(env, "cron", "runs", "--id", mine["id"])
        assert runs["total"] == 1 and runs["entries"][0]["status"] == "error"
        assert runs["entries"][0]["jobName"] == "mine" and runs["entries"][0]["runId"].startswith("manual:")
