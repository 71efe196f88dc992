"""The cron scheduler: each due job becomes an agent turn in a fresh session, its reply
optionally delivered to a channel target, its run recorded.

A slot is claimed (written to disk) before its turn starts, so a crash or restart never runs the
same slot twice; a slot missed while the gateway was down runs once when it is back. Started once
per process and kept across in-process restarts, like the channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openclaw import logfile
from openclaw.cron.schedule import next_run, now_ms, validate
from openclaw.cron.store import CronStore
from openclaw.errors import UsageError

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.manager import ChannelManager

MAX_SLEEP_S = 60.0
MAX_JOBS = 500
MAX_RUNNING = 8  # jobs' turns at once (each also waits for the agents' own cap)


class CronScheduler:
    def __init__(self, store: CronStore, agents: Callable[[], AgentRuntime],
                 channels: Callable[[], ChannelManager | None]) -> None:
        """`agents`: the runtime for a turn (raises when no model is configured); `channels`: the
        running channels a reply is delivered through."""
        self.store = store
        self._agents = agents
        self._channels = channels
        self.jobs: list[dict[str, Any]] = []
        self.running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writes = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.jobs = await asyncio.to_thread(self.store.load)
        now = now_ms()
        for job in self.jobs:
            state = job.setdefault("state", {})
            try:
                validate(job.get("schedule"))  # stored by an older version, or edited by hand
                if job.get("enabled", True) and state.get("nextRunAtMs") is None:
                    state["nextRunAtMs"] = next_run(job["schedule"], now)
            except (UsageError, ValueError, OverflowError) as exc:
                job["enabled"], state["nextRunAtMs"], state["lastError"] = False, None, f"schedule refused: {exc}"
                logfile.warn(f"cron job {job.get('name') or job['id']} disabled: schedule refused: {exc}; "
                             "fix it with cron.update", subsystem="cron")
        await self.save()
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    async def save(self) -> None:
        async with self._writes:
            await asyncio.to_thread(self.store.save, copy.deepcopy(self.jobs))

    def wake(self) -> None:
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------------
    def next_wake_ms(self) -> int | None:
        times = [j["state"]["nextRunAtMs"] for j in self.jobs
                 if j.get("enabled", True) and (j.get("state") or {}).get("nextRunAtMs") is not None]
        return min(times) if times else None

    async def _loop(self) -> None:
        while True:
            now = now_ms()
            for job in self.jobs:
                due = (job.get("state") or {}).get("nextRunAtMs")
                if (job.get("enabled", True) and due is not None and due <= now and job["id"] not in self.running
                        and len(self.running) < MAX_RUNNING):
                    await self.trigger(job, "schedule")
            upcoming = self.next_wake_ms()
            sleep = MAX_SLEEP_S if upcoming is None else min(MAX_SLEEP_S, max(0.02, (upcoming - now_ms()) / 1000))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), sleep)

    async def trigger(self, job: dict[str, Any], trigger: str) -> str:
        """Claim the job's slot on disk, then start its turn; the run's id."""
        state = job.setdefault("state", {})
        now = now_ms()
        state.update(lastRunAtMs=now, runningAtMs=now)
        state["nextRunAtMs"] = next_run(job["schedule"], now) if job.get("enabled", True) else None
        await self.save()  # claimed: a restart from here on does not run this slot again
        run_id = str(uuid.uuid4())
        self.running[job["id"]] = asyncio.ensure_future(self._run(job, run_id, trigger, now))
        self.running[job["id"]].add_done_callback(lambda _: self.running.pop(job["id"], None))
        return run_id

    async def _run(self, job: dict[str, Any], run_id: str, trigger: str, started: int) -> None:
        status, error, text, key = "error", None, "", ""
        try:
            status, error, text, key = await self._turn(job, run_id)
            if status == "ok" and text and job.get("delivery"):
                await self._deliver(job["delivery"], text)
        except asyncio.CancelledError:
            status, error = "aborted", "the gateway stopped"
            raise
        except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, never the scheduler's end
            status, error = "error", str(exc)
        finally:
            await self._finish(job, run_id, trigger, started, status, error, text, key)

    async def _turn(self, job: dict[str, Any], run_id: str) -> tuple[str, str | None, str, str]:
        from openclaw.agents.run import TurnInput

        agents = self._agents()
        agent = agents.agent_id(job.get("agentId"))
        key = f"agent:{agent}:cron:{job['id']}:{run_id}"  # a fresh session for every run
        payload = job.get("payload") or {}
        timeout = job.get("timeoutSeconds") if isinstance(job.get("timeoutSeconds"), int) else None
        run = agents.submit(TurnInput(key, str(payload.get("message") or payload.get("text") or ""), agent_id=agent,
                                      operator=True, channel="cron", chat_type="direct",
                                      origin={"channel": "cron", "jobId": job["id"]}, model=payload.get("model"),
                                      run_id=f"cron-{run_id}", timeout_s=timeout or None))
        await run.done
        return run.status, run.error, run.text, key

    async def _deliver(self, delivery: dict[str, Any], text: str) -> None:
        from openclaw.channels.messages import OutboundMessage

        channel_name, to = str(delivery.get("channel") or ""), str(delivery.get("to") or "")
        manager = self._channels()
        channel = manager.channel(channel_name) if manager is not None and channel_name else None
        if channel is None or not to:
            raise RuntimeError(f"cannot deliver to {channel_name or '?'}:{to or '?'} (channel not running "
                               "or no --to)")
        await channel.send(OutboundMessage(channel_name, delivery.get("accountId") or "default", to, text))

    async def _finish(self, job: dict[str, Any], run_id: str, trigger: str, started: int, status: str,
                      error: str | None, text: str, key: str) -> None:
        ended = now_ms()
        state = job.setdefault("state", {})
        state.pop("runningAtMs", None)
        state.update(lastStatus=status, lastError=error, lastDurationMs=ended - started, lastRunId=run_id)
        if job["schedule"].get("kind") == "at" and trigger == "schedule":
            job["enabled"] = False  # a one-shot ran
            if job.get("deleteAfterRun") and status == "ok":
                self.jobs = [j for j in self.jobs if j is not job]
        entry = {"ts": ended, "jobId": job["id"], "runId": run_id, "trigger": trigger, "status": status,
                 "runAtMs": started, "durationMs": ended - started, "sessionKey": key,
                 "summary": text[:500] if text else None, "error": error}
        level = logfile.info if status == "ok" else logfile.warn
        level(f"cron job {job.get('name') or job['id']} {status}" + (f": {error}" if error else ""), subsystem="cron")
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.store.add_run, entry)
        await self.save()
