"""Heartbeats in a running gateway: whether this instance beats, the jobs kept in step with the
config (at start, on hot reload, after a restart), and a wake that runs one at once.

An instance beats when its config has a heartbeat block or it has the rescue role
(`settings.wanted`); otherwise nothing is scheduled, the scheduler (and its store) stay unloaded,
and an upstream heartbeat job in the store is left as it is (one that is enabled makes the
instance beat: `settings.adopt`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from openclaw import logfile
from openclaw.cron.scheduler import SystemOutcome
from openclaw.heartbeat import declare
from openclaw.heartbeat.runner import HeartbeatRunner, Host
from openclaw.heartbeat.settings import heartbeat_agents, wanted

if TYPE_CHECKING:
    from openclaw.cron.scheduler import CronScheduler

KIND = "heartbeat"


class Heartbeats:
    """The runner and the scheduler's heartbeat jobs, kept across in-process restarts."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.runner = HeartbeatRunner(host)
        self.seed: str | None = None  # read from the state dir on the first sync (off the event loop)
        self._waking: dict[str, asyncio.Task[SystemOutcome | None]] = {}  # agent -> its wake in progress
        self._syncing = asyncio.Lock()  # one declaration at a time (a start and a reload may overlap)
        self._declared = False  # this process declared the jobs (a later config without heartbeats disables them)

    def wake(self, scheduler: CronScheduler | None, agent_id: str) -> bool:
        """Start the agent's heartbeat now, in the background; False when a wake of it is under way."""
        if agent_id in self._waking:
            return False
        task = asyncio.ensure_future(self.wake_now(scheduler, agent_id))
        self._waking[agent_id] = task
        task.add_done_callback(lambda _: self._waking.pop(agent_id, None))
        return True

    def attach(self, scheduler: CronScheduler) -> None:
        """The scheduler runs heartbeat jobs through this runner."""
        scheduler.system[KIND] = self.runner.run_job

    async def sync(self, scheduler: CronScheduler) -> None:
        """Declare, update or remove the jobs the config asks for; run them here only while wanted."""
        async with self._syncing:
            await self._sync(scheduler)

    async def _sync(self, scheduler: CronScheduler) -> None:
        config = self.host.config()
        try:
            if not wanted(config, self.host.paths):
                scheduler.system.pop(KIND, None)
                if self._declared:  # switched off by this config: disabled (never a job we did not declare)
                    for agent in await declare.disable_all(scheduler):
                        logfile.info(f"heartbeat job for agent {agent}: disabled", subsystem="heartbeat")
                self._declared = False
                return
            self.attach(scheduler)
            self._declared = True
            if self.seed is None:
                self.seed = await asyncio.to_thread(declare.scheduler_seed, self.host.paths.state_dir)
            changes = await declare.apply(scheduler, config, self.seed)
        except Exception as exc:  # noqa: BLE001 - the rest of the gateway runs on; the next reload tries again
            logfile.warn(f"heartbeat jobs could not be updated: {exc}", subsystem="heartbeat")
            return
        for change in changes:
            logfile.info(f"heartbeat job for agent {change.agent_id}: {change.kind}d", subsystem="heartbeat")

    async def wake_now(self, scheduler: CronScheduler | None, agent_id: str) -> SystemOutcome | None:
        """Run the agent's heartbeat now: through its job when one runs here (its slot claimed, so no
        scheduled run overlaps it), else directly. None: it is running already, or the agent does not
        beat here (as upstream, such a wake leaves its text queued and runs nothing)."""
        config = self.host.config()
        if not wanted(config, self.host.paths) or agent_id not in {b.agent_id for b in heartbeat_agents(config)}:
            return None
        job = next((j for j in (scheduler.jobs if scheduler else []) if declare.agent_of(j) == agent_id), None)
        if scheduler is not None and job is not None and scheduler.system_run(job) is not None:
            if await scheduler.trigger(job, "manual"):  # None: already running, that run answers the wake
                await asyncio.shield(scheduler.running.get(job["id"]) or asyncio.sleep(0))
            return None
        return await self.runner.run(agent_id, manual=True)
