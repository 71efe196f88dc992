"""The composition root: the gateway's long-lived services, built in dependency order, each held
with its own type, and stopped in the reverse order through one teardown.

Built before the server: the device store (loaded before anyone is answered), places for the
browser and the agent runtime (made on first use: they stop after everything that uses them).
Started later, each pushed on the teardown as it starts: the server, the config watcher, the
message dispatcher and the channels (once the control plane serves), the cron scheduler (with
the first job, or at start when heartbeats are scheduled). They all outlive in-process restarts;
the teardown runs once, when the process leaves (a stop, a crash, a start that failed half way, a
stop during start).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from openclaw import logfile
from openclaw.config.view import Config
from openclaw.gateway.process.crashloop import CrashLoopBreaker
from openclaw.gateway.state.context import RuntimeState
from openclaw.gateway.state.devicestore import DeviceStore
from openclaw.gateway.state.runstream import NO_MODEL
from openclaw.profiles.paths import InstancePaths

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.browser.service import BrowserService
    from openclaw.channels.manager import ChannelManager
    from openclaw.chat.commands import CommandRegistry
    from openclaw.chat.dispatch import Dispatcher
    from openclaw.cron.scheduler import CronScheduler
    from openclaw.gateway.httpapi.state import HttpApiState
    from openclaw.heartbeat.service import Heartbeats
    from openclaw.mcp.manager import McpManager

CRON_RETRY_S, CRON_RETRY_MAX_S = 5.0, 300.0  # a cron store that cannot be opened at start is tried again
STOP_STEP_S = 15.0  # each service's time to stop before the process leaves without it

Stop = Callable[[], Awaitable[object] | None]  # None: nothing of it is running, nothing to stop


class Teardown:
    """Named stop steps on an `AsyncExitStack`, run in the reverse order of their start. Each runs on
    its own within STOP_STEP_S: one that fails or hangs is logged and the others still run; one line
    `stopped: ...` names every service that stopped."""

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self.stopped: list[str] = []

    def push(self, name: str, stop: Stop) -> None:
        """`name` started (or took its place in the order): stop it before whatever came earlier."""
        logfile.debug(f"started: {name}", subsystem="services")

        async def step() -> None:
            try:
                pending = stop()
                if pending is None:
                    return
                await asyncio.wait_for(pending, STOP_STEP_S)
            except TimeoutError:
                logfile.error(f"{name} did not stop within {STOP_STEP_S:g}s; leaving it behind")
            except Exception as exc:  # noqa: BLE001 - one broken service must not keep the others running
                logfile.error(f"{name} failed to stop: {type(exc).__name__}: {exc}")
            else:
                self.stopped.append(name)

        self._stack.push_async_callback(step)

    async def aclose(self) -> None:
        await self._stack.aclose()
        if self.stopped:
            logfile.info(f"stopped: {', '.join(self.stopped)}")
        self.stopped = []


def at_once(stop: Callable[[], None]) -> Stop:
    """The stop step of a service that stops at once (no await)."""

    async def done() -> None:
        stop()

    return done


class GatewayServices:
    """The services that outlive in-process restarts (implements `state.hooks.Services`)."""

    def __init__(self, paths: InstancePaths, env: Mapping[str, str], state: RuntimeState,
                 breaker: CrashLoopBreaker, teardown: Teardown) -> None:
        self.paths = paths
        self.env = env
        self.state = state
        self._breaker = breaker
        self.teardown = teardown
        self._devices: DeviceStore | None = None
        self._browser: BrowserService | None = None
        self._agents: AgentRuntime | None = None
        self.dispatcher: Dispatcher | None = None
        self._channels: ChannelManager | None = None
        self._cron: CronScheduler | None = None
        self._cron_starting: asyncio.Lock | None = None
        self._heartbeats: Heartbeats | None = None
        self._http_api: HttpApiState | None = None
        self._commands: CommandRegistry | None = None
        self._mcp: McpManager | None = None

    def config(self) -> Config:
        """The config in force (hot reload swaps it)."""
        return self.state.settings.config

    # -- built before the server, in dependency order ------------------------------------------
    async def build(self) -> None:
        devices = DeviceStore(self.paths.state_dir)
        await asyncio.to_thread(devices.load)
        self._devices = devices
        self.teardown.push("browser", lambda: self._browser.shutdown() if self._browser else None)  # none outlives us
        if any((self.paths.state_dir / "browser").glob("*/chromium.pid")):
            self.browser()  # a browser outlived a killed gateway: adopt it now
        self.teardown.push("mcp servers", lambda: self._mcp.close() if self._mcp else None)  # after the runs
        self.teardown.push("agent runtime", lambda: self._agents.close() if self._agents else None)

    # -- started once the control plane serves --------------------------------------------------
    async def start_channels(self) -> None:
        """The message bus, its one consumer and the channels: they connect once the control plane
        serves, unless the crash-loop breaker holds them back until its window drains."""
        from openclaw.channels.bus import MessageBus
        from openclaw.channels.manager import ChannelManager
        from openclaw.chat.dispatch import Dispatcher
        from openclaw.rescue.chatcommands import register_operator_commands

        bus = MessageBus()
        commands = self.commands()
        register_operator_commands(commands, self.paths, self.config, self.env)  # answered on channels only
        dispatcher = self.dispatcher = Dispatcher(bus, commands, self.config, self.agents)
        dispatcher.start()
        self.teardown.push("message dispatcher", dispatcher.stop)
        channels = self._channels = ChannelManager(self.config, bus, self.paths.state_dir, self.env)
        self.teardown.push("channels", channels.stop_all)
        tripped = self._breaker.tripped
        await channels.start_all(autostart=not tripped)
        if tripped and channels.suppressed:
            asyncio.get_running_loop().call_later(self._breaker.seconds_until_clear(),
                                                  lambda: asyncio.ensure_future(self._resume_channels()))

    async def _resume_channels(self) -> None:
        """The crash-loop window drained: start what the breaker held back."""
        channels = self._channels
        if channels is None:
            return
        for name in sorted(channels.suppressed):
            logfile.info(f"crash-loop window cleared; starting channel {name}", subsystem="channels")
            await channels.start(name)

    async def start_cron(self, retry_s: float = CRON_RETRY_S) -> None:
        """The scheduler: its code and store load only when this instance has cron jobs or beats.
        A store that cannot be opened now (no file descriptors left) is tried again later, never the
        gateway's end; one that cannot be read stops the start."""
        import errno
        import sqlite3

        from openclaw.cron.store import has_heartbeat_job, has_jobs
        from openclaw.heartbeat.settings import adopt, wanted

        try:
            if await has_heartbeat_job(self.paths.state_dir):
                adopt(self.paths.state_dir)
            if wanted(self.config(), self.paths) or await has_jobs(self.paths.state_dir):
                await self.scheduler(start=True)
        except (OSError, sqlite3.OperationalError) as exc:
            if isinstance(exc, OSError) and exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOMEM):
                raise  # a store that cannot be read stops the start (nothing is lost by running on without it)
            logfile.error(f"cron scheduler not started: {exc}; trying again in {retry_s:g}s", subsystem="cron")
            later = min(retry_s * 2, CRON_RETRY_MAX_S)
            asyncio.get_running_loop().call_later(retry_s, lambda: asyncio.ensure_future(self.start_cron(later)))

    async def sync_heartbeats(self) -> None:
        """The config changed (hot reload, restart): the heartbeat jobs follow it."""
        from openclaw.heartbeat.settings import wanted

        want = wanted(self.config(), self.paths)
        if self._cron is None:
            if want:
                await self.scheduler(start=True)  # declares them as it starts
            return
        if want or self._heartbeats is not None:
            await self.heartbeats().sync(self._cron)

    def heartbeats(self) -> Heartbeats:
        """The heartbeat runner and its jobs' declaration, made (and imported) on first use."""
        if self._heartbeats is None:
            from openclaw.heartbeat.runner import Host
            from openclaw.heartbeat.service import Heartbeats
            from openclaw.rescue.operations import has_rescue_role

            host = Host(self.paths, self.env, self.config, self.agents, lambda: self._channels,
                        self.state.system_events, lambda config: has_rescue_role(config, self.paths))
            self._heartbeats = Heartbeats(host)
        return self._heartbeats

    # -- what handlers see (state.hooks.Services), and the server ---------------------------------------------------
    @property
    def devices(self) -> DeviceStore:
        assert self._devices is not None, "build() loads the device store before anyone is answered"
        return self._devices

    @property
    def channels(self) -> ChannelManager | None:
        return self._channels

    @property
    def breaker(self) -> CrashLoopBreaker:
        return self._breaker

    @property
    def browser_started(self) -> BrowserService | None:
        return self._browser

    def browser(self) -> BrowserService:
        if self._browser is None:
            from openclaw.browser.service import BrowserService

            self._browser = BrowserService(self.paths, lambda: self.state.settings, self.env)
            self._browser.adopt_leftovers()
        return self._browser

    async def shutdown_browser(self) -> None:
        """`browser.enabled` turned off by a restart: no browser runs on (one is made again on use)."""
        if self._browser is not None:
            await self._browser.shutdown()

    def agents(self) -> AgentRuntime:
        if self._agents is None:
            from openclaw.agents.runtime import AgentRuntime
            from openclaw.tools import toolset

            paths, config = self.paths, self.config
            self._agents = AgentRuntime(paths, config, self.env,
                                        lambda _turn, _agent: toolset(paths, config, self.env, self.browser, self.mcp),
                                        observer=self._run_ended, prepare=self._mcp_ready)
        return self._agents

    def mcp(self) -> McpManager:
        """The MCP servers' runtimes: made when a turn first finds `mcp.servers` configured."""
        if self._mcp is None:
            from openclaw.mcp.manager import McpManager

            self._mcp = McpManager(self.paths, self.config, self.env)
        return self._mcp

    @property
    def mcp_started(self) -> McpManager | None:
        return self._mcp

    async def _mcp_ready(self) -> None:
        if self._mcp is not None or self.config().part("mcp", "servers"):
            await self.mcp().ready()

    async def reload_mcp(self) -> None:
        """`mcp` changed in the config: replace changed servers, stop removed ones."""
        if self._mcp is not None:
            await self._mcp.reload()

    def turn_agents(self) -> AgentRuntime:
        """The agent runtime for a scheduled turn; refused when no model is configured."""
        if self.config().model_choice().primary is None:
            raise RuntimeError(NO_MODEL)
        return self.agents()

    def _run_ended(self, run: Run) -> None:
        ms = (run.ended_at or 0) - (run.started_at or run.accepted_at)
        self.state.stability.record("agent.run.completed" if run.status == "ok" else "agent.run.error",
                                    outcome=run.status, agentId=run.agent_id, model=run.model or None,
                                    durationMs=max(0, ms), reason=(run.error or "")[:200] or None)

    def commands(self) -> CommandRegistry:
        if self._commands is None:
            from openclaw.gateway.state.chatcommands import make_registry

            self._commands = make_registry()
        return self._commands

    async def scheduler(self, start: bool = False) -> CronScheduler | None:
        if self._cron is None and start:
            if self._cron_starting is None:
                self._cron_starting = asyncio.Lock()
            async with self._cron_starting:  # two `cron.add` at once start one scheduler
                if self._cron is None:
                    from openclaw.cron.scheduler import CronScheduler
                    from openclaw.cron.store import CronStore
                    from openclaw.heartbeat.settings import wanted

                    cron = CronScheduler(CronStore(self.paths.state_dir), self.turn_agents, lambda: self._channels)
                    beats = self.heartbeats() if wanted(self.config(), self.paths) else None
                    if beats is not None:
                        beats.attach(cron)  # before it starts: a missed heartbeat slot runs once
                    await cron.start()
                    self._cron = cron
                    self.teardown.push("cron scheduler", cron.stop)
                    if beats is not None:
                        await beats.sync(cron)
        return self._cron

    @property
    def http_api_made(self) -> HttpApiState | None:
        return self._http_api

    def http_api(self) -> HttpApiState:
        if self._http_api is None:
            from openclaw.gateway.httpapi.state import HttpApiState

            self._http_api = HttpApiState(self.state.settings.limits.http_body_budget_bytes)
        return self._http_api


__all__ = ["STOP_STEP_S", "GatewayServices", "Teardown", "at_once"]
