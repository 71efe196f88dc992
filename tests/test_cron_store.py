"""Cron jobs and runs in upstream's `state/openclaw.sqlite`: rows as upstream writes them (a fixture
from upstream's own CLI and gateway), a claimed slot that a restart does not run again, our former
jobs.json imported once, and upstream's built-in jobs left exactly as they were."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openclaw.cron import store as cron_store
from openclaw.cron.scheduler import CronScheduler, runnable
from openclaw.cron.store import CronStore
from openclaw.stores import cron as rows
from openclaw.stores import cron_runs
from openclaw.stores.cron_runs import Finished, RunQuery
from openclaw.stores.sqlitefile import close_shared

FIXTURE = Path(__file__).parent / "fixtures" / "upstream-state" / "cron" / "store.json"
UPSTREAM_KEY = "/home/user/.openclaw/cron/jobs.json"


@pytest.fixture(autouse=True)
def _close_files() -> Iterator[None]:
    yield
    asyncio.run(close_shared())


def db_file(state: Path) -> Path:
    return state / "state" / "openclaw.sqlite"


def upstream_store(state: Path) -> dict[str, Any]:
    """The fixture's tables and rows in `state`, its store key rewritten to this state dir."""
    data = json.loads(FIXTURE.read_text().replace(UPSTREAM_KEY, rows.store_key(state)))
    db_file(state).parent.mkdir(parents=True)
    with sqlite3.connect(db_file(state)) as db:
        for sql in data["schema"]:
            db.execute(sql)
        db.execute(f"PRAGMA user_version = {int(data['userVersion'])}")
        for table, found in data["rows"].items():
            for row in found:
                db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                           list(row.values()))
    return data


def hold_fixed_times(state: Path) -> None:
    """The fixture's jobs fall due at fixed times of day (08:00 Berlin, an `at` hour): hold each stored
    next run a day off, so what a scheduler runs at start does not depend on when the test runs."""
    with sqlite3.connect(db_file(state)) as db:
        for job_id, stored in db.execute("SELECT job_id, state_json FROM cron_jobs").fetchall():
            due = json.loads(stored)
            if due.get("nextRunAtMs") is not None:
                due["nextRunAtMs"] = max(due["nextRunAtMs"], int(time.time() * 1000) + 86_400_000)
                db.execute("UPDATE cron_jobs SET state_json = ? WHERE job_id = ?",
                           (json.dumps(due, separators=(",", ":")), job_id))


def table(state: Path, name: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file(state)) as db:
        return db.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()


def job(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "enabled": True, "createdAtMs": 1_800_000_000_000,
            "schedule": {"kind": "every", "everyMs": 60_000, "anchorMs": 1_800_000_000_000},
            "sessionTarget": "isolated", "wakeMode": "now",
            "payload": {"kind": "agentTurn", "message": f"hello {name}", "toolsAllow": ["*"]},
            "delivery": {"mode": "announce", "channel": "telegram", "to": "42"},
            "updatedAtMs": 1_800_000_000_000, "state": {"nextRunAtMs": 1_800_000_060_000}, **extra}


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_a_store_written_by_upstream_reads_correctly(tmp_path: Path) -> None:
    data = upstream_store(tmp_path)
    store = CronStore(tmp_path)
    jobs = {j["name"]: j for j in asyncio.run(store.load())}
    stored = {r["job_id"]: r for r in data["rows"]["cron_jobs"]}
    assert len(jobs) == len(stored) == 7  # upstream's 3 built-in jobs and the 4 added with `cron add`
    morning = jobs["morning"]
    assert morning["schedule"] == {"kind": "cron", "expr": "0 8 * * 1-5", "tz": "Europe/Berlin"}
    assert morning["delivery"] == {"mode": "announce", "channel": "telegram", "to": "12345"}
    assert morning["payload"]["message"] == "morning brief" and morning["description"] == "weekday brief"
    assert jobs["oneshot"]["schedule"]["kind"] == "at" and jobs["oneshot"]["deleteAfterRun"] is True
    assert jobs["paused"]["enabled"] is False and jobs["pulse"]["payload"]["kind"] == "command"
    assert jobs["heartbeat-main"]["declarationKey"] == "heartbeat:main"
    assert [j["name"] for j in jobs.values() if runnable(j)] == ["morning", "oneshot", "paused"]
    for j in jobs.values():  # every column we derive is what upstream wrote, byte for byte
        row = stored[j["id"]]
        assert rows.to_json(rows.definition(j)) == row["job_json"]
        assert rows.grant_revision(j) == row["grant_definition_revision"]
        assert rows.schedule_identity(j) == row["schedule_identity"]
        assert rows.state_json(j) == row["state_json"]
    receipt = data["rows"]["cron_run_receipts"][0]
    assert rows.config_revision(jobs["pulse"]) == receipt["config_revision"]
    entries, total = asyncio.run(store.runs(RunQuery()))
    assert total == 1 and entries[0]["jobId"] == jobs["pulse"]["id"] and entries[0]["jobName"] == "pulse"
    assert entries[0]["status"] == "ok" and entries[0]["summary"] == "hello" and entries[0]["trigger"] == "manual"
    assert entries[0]["runId"] == receipt["request_run_id"] and entries[0]["action"] == "finished"


def test_our_tables_have_upstreams_columns_keys_and_indexes(tmp_path: Path) -> None:
    data = upstream_store(tmp_path / "upstream")
    ours = sqlite3.connect(tmp_path / "ours.sqlite")
    ours.executescript(rows.DDL)
    theirs = sqlite3.connect(db_file(tmp_path / "upstream"))

    def shape(db: sqlite3.Connection, name: str) -> Any:
        indexes = sorted((i[1], i[2], i[4]) for i in db.execute(f"PRAGMA index_list({name})"))
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        return db.execute(f"PRAGMA table_info({name})").fetchall(), indexes, "STRICT" in sql, sql.count("CHECK")

    for name in data["rows"]:
        assert shape(ours, name) == shape(theirs, name), name


def test_a_job_round_trips_through_its_row(tmp_path: Path) -> None:
    store = CronStore(tmp_path)
    first, second = job("first"), job("second", agentId="ops", description="d")
    asyncio.run(store.put(first))
    asyncio.run(store.put(second))
    assert asyncio.run(store.load()) == [first, second]
    (row,) = [r for r in table(tmp_path, "cron_jobs") if r[1] == "id-second"]
    assert row[4:9] == ("second", "d", 1, "ops", "agentTurn") and row[16] == 1  # sort_order after the first
    assert json.loads(row[9])["state"] == {} and "updatedAtMs" not in json.loads(row[9])
    assert row[10] == rows.grant_revision(second) and row[11] == 1  # a new definition, generation 1
    changed = {**second, "payload": {**second["payload"], "message": "changed"}}
    asyncio.run(store.put(changed))
    (row,) = [r for r in table(tmp_path, "cron_jobs") if r[1] == "id-second"]
    assert row[11] == 2 and row[16] == 1  # a changed definition: next generation, same place
    before = row[9]
    changed["state"] = {"nextRunAtMs": 1_900_000_000_000, "lastStatus": "ok"}
    asyncio.run(store.put_state(changed))
    (row,) = [r for r in table(tmp_path, "cron_jobs") if r[1] == "id-second"]
    assert row[9] == before and json.loads(row[13]) == {**changed["state"], "lastRunStatus": "ok"}
    changed["state"] = {"nextRunAtMs": None, "lastError": None, "lastStatus": "ok"}  # upstream drops a null time
    asyncio.run(store.put_state(changed))
    (row,) = [r for r in table(tmp_path, "cron_jobs") if r[1] == "id-second"]
    assert json.loads(row[13]) == {"lastStatus": "ok", "lastRunStatus": "ok"}
    asyncio.run(store.delete("id-first"))
    assert [j["id"] for j in asyncio.run(store.load())] == ["id-second"]


def test_a_claimed_slot_is_not_run_again_after_a_restart(tmp_path: Path) -> None:
    store = CronStore(tmp_path)
    j = job("tick")
    asyncio.run(store.put(j))
    claimed = {**j, "state": {"nextRunAtMs": 1_800_000_120_000, "runningAtMs": 1_800_000_060_000}}
    receipt = asyncio.run(store.claim(claimed, "main", None, 1_800_000_060_000))
    assert receipt is not None
    assert asyncio.run(store.claim(claimed, "main", None, 1_800_000_060_001)) is None  # one running receipt per job
    with sqlite3.connect(db_file(tmp_path)) as db:  # the process that claimed it died mid-run
        db.execute("UPDATE cron_run_receipts SET owner_pid = ?", (dead_pid(),))
    asyncio.run(close_shared())
    restarted = CronStore(tmp_path)
    (stored,) = asyncio.run(restarted.load())
    assert stored["state"]["nextRunAtMs"] == 1_800_000_120_000  # the claimed slot is behind it
    assert asyncio.run(restarted.interrupt_orphans(1_800_000_070_000)) == ["id-tick"]
    assert [r[6] for r in table(tmp_path, "cron_run_receipts")] == ["interrupted"]
    assert asyncio.run(restarted.interrupt_orphans(1_800_000_070_000)) == []
    again = asyncio.run(restarted.claim(stored, "main", None, 1_800_000_120_000))  # the next slot may run
    assert again is not None and asyncio.run(restarted.interrupt_orphans(1)) == []  # we are alive: kept


def test_a_restarted_scheduler_does_not_rerun_a_claimed_slot(tmp_path: Path) -> None:
    """The gateway died after claiming a due slot: the next start sees the slot taken and waits."""
    store = CronStore(tmp_path)
    now = rows_now()
    j = job("due", state={"nextRunAtMs": now - 1000})
    asyncio.run(store.put(j))
    taken = {**j, "state": {"nextRunAtMs": now + 3_600_000, "lastRunAtMs": now, "runningAtMs": now}}
    assert asyncio.run(store.claim(taken, "main", None, now))
    with sqlite3.connect(db_file(tmp_path)) as db:
        db.execute("UPDATE cron_run_receipts SET owner_pid = ?", (dead_pid(),))
    asyncio.run(close_shared())

    def no_agents() -> Any:
        raise AssertionError("a claimed slot must not run again")

    async def go() -> CronScheduler:
        scheduler = CronScheduler(CronStore(tmp_path), no_agents, lambda: None)
        await scheduler.start()
        await asyncio.sleep(0.2)  # a loop turn: nothing is due
        await scheduler.stop()
        return scheduler

    scheduler = asyncio.run(go())
    assert not scheduler.running and "runningAtMs" not in scheduler.jobs[0]["state"]
    assert [r[6] for r in table(tmp_path, "cron_run_receipts")] == ["interrupted"]
    assert table(tmp_path, "task_runs") == []


def test_a_job_another_process_runs_is_left_to_it(tmp_path: Path) -> None:
    """A live process (upstream's gateway, say) holds the job's running receipt: ours does not run
    it, nor keep trying, and waits for the next slot."""
    store = CronStore(tmp_path)
    now = rows_now()
    j = job("busy", state={"nextRunAtMs": now - 1000})
    asyncio.run(store.put(j))
    assert asyncio.run(store.claim(j, "main", None, now))  # held by this (live) process

    async def go() -> CronScheduler:
        scheduler = CronScheduler(CronStore(tmp_path), lambda: (_ for _ in ()).throw(AssertionError("ran")),
                                  lambda: None)
        await scheduler.start()
        await asyncio.sleep(0.3)
        await scheduler.stop()
        return scheduler

    scheduler = asyncio.run(go())
    assert not scheduler.running and scheduler.jobs[0]["state"]["nextRunAtMs"] > now
    assert [r[6] for r in table(tmp_path, "cron_run_receipts")] == ["running"]


def rows_now() -> int:
    from openclaw.cron.schedule import now_ms

    return now_ms()


def legacy_files(state: Path, runs: int = 3) -> list[dict[str, Any]]:
    jobs = [{"id": "j1", "name": "daily", "enabled": True, "createdAtMs": 1_790_000_000_000,
             "schedule": {"kind": "cron", "expr": "0 9 * * *"}, "payload": {"kind": "agentTurn", "message": "m"},
             "state": {"nextRunAtMs": 1_800_000_000_000, "lastStatus": "ok"}},
            {"id": "j2", "name": "once", "enabled": True, "schedule": {"kind": "at", "atMs": 1_800_000_000_000},
             "payload": {"kind": "agentTurn", "message": "m"}, "updatedAtMs": 1_790_000_000_000, "state": {}}]
    (state / "cron").mkdir(parents=True, exist_ok=True)
    (state / "cron" / "jobs.json").write_text(json.dumps({"version": 1, "jobs": jobs}))
    lines = [json.dumps({"ts": 1_790_000_001_000 + i, "jobId": "j1", "runId": f"r{i}", "status": "ok",
                         "trigger": "manual" if i == 0 else "schedule", "runAtMs": 1_790_000_000_000 + i,
                         "durationMs": 1000, "sessionKey": f"agent:main:cron:j1:r{i}", "summary": f"s{i}"})
             for i in range(runs)]
    (state / "cron" / "runs.jsonl").write_text("\n".join(lines) + "\n")
    return jobs


def test_our_former_jobs_json_is_imported_once_and_left_migrated(tmp_path: Path) -> None:
    legacy_files(tmp_path)
    (tmp_path / "cron" / "jobs.json.migrated").write_text("{}")  # upstream's doctor archived an older one
    store = CronStore(tmp_path)
    jobs = asyncio.run(store.load())
    assert [j["id"] for j in jobs] == ["j1", "j2"]
    assert jobs[1]["schedule"] == {"kind": "at", "at": "2027-01-15T08:00:00.000Z"}  # upstream's shape
    assert jobs[0]["state"]["nextRunAtMs"] == 1_800_000_000_000
    assert not (tmp_path / "cron" / "jobs.json").exists() and (tmp_path / "cron" / "jobs.json.migrated.2").exists()
    assert (tmp_path / "cron" / "runs.jsonl.migrated").exists()
    entries, total = asyncio.run(store.runs(RunQuery(job_id="j1")))
    assert total == 3 and [e["summary"] for e in entries] == ["s2", "s1", "s0"]
    assert [e["trigger"] for e in entries] == ["schedule", "schedule", "manual"]
    assert entries[0]["sessionKey"] == "agent:main:cron:j1:r2"
    (source,) = table(tmp_path, "migration_sources")
    assert source[2] == str(tmp_path / "cron" / "jobs.json") and source[6] == 2
    asyncio.run(close_shared())
    # a crash after the import committed, before the rename: the file is back, and importing it again adds nothing
    (tmp_path / "cron" / "jobs.json.migrated.2").rename(tmp_path / "cron" / "jobs.json")
    (tmp_path / "cron" / "runs.jsonl.migrated").rename(tmp_path / "cron" / "runs.jsonl")
    again = CronStore(tmp_path)
    assert [j["id"] for j in asyncio.run(again.load())] == ["j1", "j2"]
    assert asyncio.run(again.runs(RunQuery()))[1] == 3
    assert len(table(tmp_path, "cron_jobs")) == 2 and len(table(tmp_path, "task_runs")) == 3
    assert not (tmp_path / "cron" / "jobs.json").exists()


def test_a_crash_mid_import_leaves_the_file_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy_files(tmp_path)
    real = rows.insert_imported

    def crash_on_second(db: sqlite3.Connection, key: str, j: dict[str, Any]) -> bool:
        if j["id"] == "j2":
            raise sqlite3.OperationalError("disk I/O error")
        return real(db, key, j)

    monkeypatch.setattr(rows, "insert_imported", crash_on_second)
    with pytest.raises(sqlite3.OperationalError):
        asyncio.run(CronStore(tmp_path).load())
    assert (tmp_path / "cron" / "jobs.json").exists() and (tmp_path / "cron" / "runs.jsonl").exists()
    assert table(tmp_path, "cron_jobs") == [] and table(tmp_path, "task_runs") == []
    monkeypatch.setattr(rows, "insert_imported", real)
    asyncio.run(close_shared())
    assert [j["id"] for j in asyncio.run(CronStore(tmp_path).load())] == ["j1", "j2"]
    assert (tmp_path / "cron" / "jobs.json.migrated").exists()


def test_upstreams_builtin_rows_survive_our_writes(tmp_path: Path) -> None:
    upstream_store(tmp_path)
    hold_fixed_times(tmp_path)
    before = {r[1]: r for r in table(tmp_path, "cron_jobs")}
    store = CronStore(tmp_path)

    async def go() -> list[dict[str, Any]]:
        scheduler = CronScheduler(store, lambda: (_ for _ in ()).throw(RuntimeError("no model")), lambda: None)
        await scheduler.start()  # loads, validates and schedules what it runs: writes none of these rows
        assert await scheduler.trigger(next(j for j in scheduler.jobs if j["name"] == "morning"), "manual")
        while scheduler.running:
            await asyncio.gather(*scheduler.running.values(), return_exceptions=True)
        ours = job("ours")
        await store.put(ours)
        await store.delete(next(j["id"] for j in scheduler.jobs if j["name"] == "paused"))
        await scheduler.stop()
        return scheduler.jobs

    jobs = asyncio.run(go())
    after = {r[1]: r for r in table(tmp_path, "cron_jobs")}
    untouched = [j["id"] for j in jobs if not runnable(j)]
    assert len(untouched) == 4  # heartbeat, memory dreaming, skill review (built-in) and the command job
    assert all(after[i] == before[i] for i in untouched)
    morning = next(j for j in jobs if j["name"] == "morning")
    assert after[morning["id"]][9] == before[morning["id"]][9]  # its definition kept byte for byte
    assert json.loads(after[morning["id"]][13])["lastStatus"] == "error"  # only its state moved
    assert "id-ours" in after and len(after) == 7
    entries, total = asyncio.run(store.runs(RunQuery(descending=False)))
    assert total == 2 and [e["jobName"] for e in entries] == ["pulse", "morning"]
    assert entries[1]["error"] == "no model" and entries[1]["status"] == "error"


def test_runs_page_filter_and_stay_bounded(tmp_path: Path) -> None:
    store = CronStore(tmp_path)
    a, b = job("a"), job("b", agentId="ops")
    asyncio.run(store.put(a))
    asyncio.run(store.put(b))

    def record(db: sqlite3.Connection) -> None:
        for i in range(12):
            j = a if i % 3 else b
            cron_runs.insert_imported_run(db, store.key, Finished(j, f"rcpt-{i}", None, "main", 1000 * i, 1000 * i + 5,
                                                             "ok" if i % 4 else "error", summary=f"run {i}"))
        cron_runs.prune(db, store.key, keep=10)

    store.call(record)
    entries, total = asyncio.run(store.runs(RunQuery(limit=3)))
    assert total == 10 and [e["summary"] for e in entries] == ["run 11", "run 10", "run 9"]
    entries, _ = asyncio.run(store.runs(RunQuery(limit=3, offset=8, descending=False)))
    assert [e["summary"] for e in entries] == ["run 10", "run 11"]
    entries, total = asyncio.run(store.runs(RunQuery(job_ids=["id-b"])))
    assert total == 3 and {e["jobId"] for e in entries} == {"id-b"}
    _, total = asyncio.run(store.runs(RunQuery(statuses=["error"])))
    assert total == 2  # runs 4 and 8 (run 0 was pruned)
    assert len(table(tmp_path, "cron_run_receipts")) == 10


def test_a_job_cron_store_does_not_run_is_listed_not_refused(tmp_path: Path) -> None:
    """Only a user's agent turns run here; the rest are kept, whatever their schedule holds."""
    assert runnable(job("x"))
    assert not runnable(job("x", payload={"kind": "command", "argv": ["true"]}))
    assert not runnable(job("x", declarationKey="skill-collection-review:main"))
    assert cron_store.legacy_job({"id": "j", "schedule": {"kind": "at", "atMs": 10**20}})["schedule"] == \
        {"kind": "at", "at": str(10**20)}
