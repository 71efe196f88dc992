"""The cron scheduler: each due job becomes an agent turn in a fresh session, its reply
optionally delivered to a channel target, its run recorded.

A slot is claimed (a `running` receipt and the next due time, in one transaction) before its turn
starts, so a crash or restart never runs the same slot twice; a slot missed while the gateway was
down runs once when it is back. Agent turns that a user added run here, and the system jobs whose
payload kind the gateway gave a runner for (`heartbeat`, declared as `heartbeat:<agentId>`); upstream's
other built-in jobs and payloads (`command`, ...) are listed and kept as stored, never run or
rewritten. Started once per process and kept across in-process restarts, like the channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openclaw import logfile, memguard
from openclaw.cron.schedule import next_run, now_ms, validate
from openclaw.cron.store import CronStore
from openclaw.errors import UsageError
from openclaw.stores.cron import Job
from openclaw.stores.cron_runs import Finished

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.manager import ChannelManager

MAX_SLEEP_S = 60.0
MAX_JOBS = 500
MAX_RUNNING = 8  # jobs' turns at once (each also waits for the agents' own cap)


def runnable(job: Job) -> bool:
    """Whether this gateway runs `job`: a user's agent turn on a time schedule (not one of upstream's
    built-in jobs, nor its command/heartbeat payloads or on-exit/stream triggers)."""
    payload, schedule = job.get("payload"), job.get("schedule")
    agent_turn = isinstance(payload, dict) and payload.get("kind", "agentTurn") == "agentTurn"
    timed = isinstance(schedule, dict) and schedule.get("kind") in ("every", "at", "cron")
    return agent_turn and timed and not job.get("declarationKey")


@dataclass
class SystemOutcome:
    """How a system job's run ended, in the fields its run record keeps."""

    status: str  # ok | error | skipped
    error: str | None = None
    summary: str | None = None
    session_key: str | None = None
    delivery: Job = field(default_factory=dict)
    retry_at_ms: int | None = None  # deferred: due again then (sooner than its next slot)


SystemRun = Callable[[Job, str, bool], Awaitable[SystemOutcome]]  # (job, run id, manual) -> outcome


class CronScheduler:
    def __init__(self, store: CronStore, agents: Callable[[], AgentRuntime],
                 channels: Callable[[], ChannelManager | None], system: Mapping[str, SystemRun] | None = None) -> None:
        """`agents`: the runtime for a turn (raises when no model is configured); `channels`: the
        running channels a reply is delivered through; `system`: payload kind -> the runner of the
        system jobs declared for it (`heartbeat`)."""
        self.store = store
        self._agents = agents
        self._channels = channels
        self.system = dict(system or {})
        self.jobs: list[Job] = []
        self.running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.jobs = await self.store.load()
        now = now_ms()
        orphaned = set(await self.store.interrupt_orphans(now))
        for job in filter(self.runs_here, self.jobs):
            state = job.setdefault("state", {})
            before = dict(state)
            if job["id"] in orphaned:
                state.pop("runningAtMs", None)  # its run ended with the process that ran it
            try:
                validate(job.get("schedule"))  # stored by an older version, by upstream, or edited by hand
                if job.get("enabled", True) and state.get("nextRunAtMs") is None:
                    state["nextRunAtMs"] = next_run(job["schedule"], now)
            except (UsageError, ValueError, OverflowError) as exc:
                # not run here, its definition left as it is (upstream may well run it): only the reason is noted
                state["nextRunAtMs"], state["lastError"] = None, f"schedule refused: {exc}"
                logfile.warn(f"cron job {job.get('name') or job['id']} not scheduled: schedule refused: {exc}; "
                             "fix it with cron.update", subsystem="cron")
            if before != state:
                job["updatedAtMs"] = now
                await self.store.put_state(job)
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    def system_run(self, job: Job) -> SystemRun | None:
        """The runner of a system job (declared as `<kind>:...` with a payload of that kind), if any."""
        payload, key = job.get("payload"), job.get("declarationKey")
        kind = payload.get("kind") if isinstance(payload, dict) else None
        if not isinstance(kind, str) or not isinstance(key, str) or not key.startswith(f"{kind}:"):
            return None
        timed = isinstance(job.get("schedule"), dict) and job["schedule"].get("kind") == "every"
        return self.system.get(kind) if timed else None

    def runs_here(self, job: Job) -> bool:
        """Whether this scheduler runs `job`: a user's agent turn, or a system job it has a runner for."""
        return runnable(job) or self.system_run(job) is not None

    # -- the loop ------------------------------------------------------------------------------
    def next_wake_ms(self) -> int | None:
        times = [j["state"]["nextRunAtMs"] for j in self.jobs if self.runs_here(j) and j.get("enabled", True)
                 and (j.get("state") or {}).get("nextRunAtMs") is not None]
        return min(times) if times else None

    async def _loop(self) -> None:
        while True:
            now = now_ms()
            for job in list(self.jobs):
                due = (job.get("state") or {}).get("nextRunAtMs")
                if (self.runs_here(job) and job.get("enabled", True) and due is not None and due <= now
                        and job["id"] not in self.running and len(self.running) < MAX_RUNNING):
                    await self.trigger(job, "schedule")
            upcoming = self.next_wake_ms()
            sleep = MAX_SLEEP_S if upcoming is None else min(MAX_SLEEP_S, max(0.02, (upcoming - now_ms()) / 1000))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), sleep)

    def _agent_id(self, job: Job) -> str:
        try:
            return self._agents().agent_id(job.get("agentId"))
        except Exception:  # noqa: BLE001 - no model configured yet: the turn itself reports that
            return str(job.get("agentId") or "main")

    async def trigger(self, job: Job, trigger: str) -> str | None:
        """Claim the job's slot (a `running` receipt and its next due time, together), then start its
        turn; the run's id, or None when the job is already running (here or in another process)."""
        state = job.setdefault("state", {})
        now = now_ms()
        previous = dict(state)
        state.update(lastRunAtMs=now, runningAtMs=now)
        state["nextRunAtMs"] = next_run(job["schedule"], now) if job.get("enabled", True) else None
        job["updatedAtMs"] = now
        request = f"manual:{job['id']}:{now}:1" if trigger == "manual" else None
        agent = self._agent_id(job)
        receipt = await self.store.claim(job, agent, request, now)
        if receipt is None:  # another process runs it: leave it this slot, wait for the next one
            state.clear()
            state.update(previous)
            if trigger == "schedule":
                state["nextRunAtMs"] = next_run(job["schedule"], now)  # in memory only: the store is theirs now
            return None
        run_id = request or receipt
        self.running[job["id"]] = asyncio.ensure_future(self._run(job, receipt, request, agent, now))
        self.running[job["id"]].add_done_callback(lambda _: self.running.pop(job["id"], None))
        return run_id

    async def _run(self, job: Job, receipt: str, request: str | None, agent: str, started: int) -> None:
        run = Finished(job, receipt, request, agent, started, started, "error")
        system = self.system_run(job)
        try:
            if system is not None:
                outcome = await system(job, receipt, request is not None)
                run.status, run.error, run.summary = outcome.status, outcome.error, outcome.summary
                run.session_key, run.delivery = outcome.session_key, outcome.delivery
                run.retry_at_ms = outcome.retry_at_ms
            else:
                run.status, run.error, text, run.session_key = await self._turn(job, receipt)
                run.summary = text[:500] if text else None
                run.delivery = await self._deliver(job.get("delivery"), text if run.status == "ok" else "")
        except asyncio.CancelledError:
            run.status, run.error, run.receipt_status = "error", "the gateway stopped", "interrupted"
            raise
        except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, never the scheduler's end
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            run.status, run.error = "error", str(exc)
        finally:
            await self._finish(run)

    async def _turn(self, job: Job, run_id: str) -> tuple[str, str | None, str, str]:
        from openclaw.agents.run import TurnInput

        agents = self._agents()
        agent = agents.agent_id(job.get("agentId"))
        key = f"agent:{agent}:cron:{job['id']}:{run_id}"  # a fresh session for every run
        payload = job.get("payload") or {}
        timeout = job.get("timeoutSeconds") if isinstance(job.get("timeoutSeconds"), int) else None
        timeout = payload.get("timeoutSeconds") if isinstance(payload.get("timeoutSeconds"), int) else timeout
        run = agents.submit(TurnInput(key, str(payload.get("message") or payload.get("text") or ""), agent_id=agent,
                                      operator=True, channel="cron", chat_type="direct",
                                      origin={"channel": "cron", "jobId": job["id"]}, model=payload.get("model"),
                                      run_id=f"cron-{run_id}", timeout_s=timeout or None))
        await run.done
        return run.status, run.error, run.text, key

    async def _deliver(self, delivery: Any, text: str) -> Job:
        """Send the reply where the job says; the outcome in upstream's run-log fields."""
        from openclaw.channels.messages import OutboundMessage

        if not isinstance(delivery, dict) or delivery.get("mode", "announce") != "announce" or not text:
            return {"delivered": False, "deliveryStatus": "not-requested"}
        channel_name, to = str(delivery.get("channel") or ""), str(delivery.get("to") or "")
        manager = self._channels()
        channel = manager.channel(channel_name) if manager is not None and channel_name else None
        intended = {"channel": channel_name or "last", "source": "explicit"}
        if channel is None or not to:
            error = (f"cannot deliver to {channel_name or '?'}:{to or '?'} (channel not running, or no `to`: "
                     "set delivery.channel and delivery.to)")
            return {"delivered": False, "deliveryStatus": "not-delivered", "deliveryError": error,
                    "delivery": {"intended": intended, "resolved": {**intended, "ok": False, "error": error},
                                 "delivered": False}}
        try:
            await channel.send(OutboundMessage(channel_name, delivery.get("accountId") or "default", to, text))
        except Exception as exc:  # noqa: BLE001 - recorded with the run
            return {"delivered": False, "deliveryStatus": "not-delivered", "deliveryError": str(exc),
                    "delivery": {"intended": intended, "resolved": {**intended, "ok": True}, "delivered": False}}
        return {"delivered": True, "deliveryStatus": "delivered",
                "delivery": {"intended": intended, "resolved": {**intended, "ok": True, "to": to}, "delivered": True}}

    async def _finish(self, run: Finished) -> None:
        job = run.job
        run.ended = ended = now_ms()
        state = job.setdefault("state", {})
        state.pop("runningAtMs", None)
        due = state.get("nextRunAtMs")
        if run.retry_at_ms is not None and job.get("enabled", True) and (due is None or run.retry_at_ms < due):
            state["nextRunAtMs"] = run.retry_at_ms  # deferred (the session was busy): tried again soon
        errors = int(state.get("consecutiveErrors") or 0) + 1 if run.status == "error" else 0
        state.update(lastStatus=run.status, lastRunStatus=run.status, lastError=run.error,
                     lastDurationMs=ended - run.started, lastRunId=run.request_run_id or run.receipt,
                     consecutiveErrors=errors, lastDelivered=run.delivery.get("delivered", False),
                     lastDeliveryStatus=run.delivery.get("deliveryStatus", "not-requested"))
        if run.delivery.get("deliveryError"):
            state["lastDeliveryError"] = run.delivery["deliveryError"]
        else:
            state.pop("lastDeliveryError", None)
        job["updatedAtMs"] = ended
        one_shot = job["schedule"].get("kind") == "at" and run.request_run_id is None
        if one_shot:
            job["enabled"] = False  # a one-shot ran
        level = logfile.info if run.status == "ok" else logfile.warn
        level(f"cron job {job.get('name') or job['id']} {run.status}" + (f": {run.error}" if run.error else ""),
              subsystem="cron")
        try:
            await self.store.finish(run)
            if one_shot and job.get("deleteAfterRun") and run.status == "ok":
                self.jobs = [j for j in self.jobs if j is not job]
                await self.store.delete(job["id"])
            elif one_shot:
                await self.store.put(job)
        except (OSError, RuntimeError, sqlite3.Error) as exc:  # the next start marks its receipt interrupted
            logfile.warn(f"cron job {job.get('name') or job['id']}: its run could not be recorded: {exc}",
                         subsystem="cron")
