"""Running one gateway process: resolve, lock, bind, serve, reload, restart, stop.

Start order (spec section 5): load and validate config; state lock; config
lock (skipped with OPENCLAW_ALLOW_MULTI_GATEWAY=1); exclusive bind; serve.
SIGTERM/SIGINT stop gracefully, SIGUSR1 restarts in-process, and so does a
config edit that touches `gateway.*`, `browser.*` or `canvasHost.*`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw import __version__, logfile
from openclaw.config.changes import restart_paths, under
from openclaw.config.history import record_last_good
from openclaw.config.keypath import changed_paths
from openclaw.config.model import ConfigSnapshot
from openclaw.config.store import format_issues, read_config, seed_config
from openclaw.errors import ConfigError, GatewayLockError, OpenClawError
from openclaw.gateway.httpserve import big_buffers_return
from openclaw.gateway.process.crashloop import CrashLoopBreaker
from openclaw.gateway.process.locks import GatewayLocks
from openclaw.gateway.process.reload import ConfigWatcher, signature
from openclaw.gateway.process.services import GatewayServices, Teardown, at_once
from openclaw.gateway.settings import GatewaySettings, RunOptions, resolve_settings
from openclaw.gateway.state.context import GatewayContext, RuntimeState
from openclaw.gateway.transport.resources import AcceptErrorThrottle, raise_nofile_limit
from openclaw.ports import registry
from openclaw.procutil import forbid_inspection, self_marker
from openclaw.profiles.paths import InstancePaths
from openclaw.stores.agentfile import agent_db_path, refuse_newer
from openclaw.stores.sqlitefile import close_shared

if TYPE_CHECKING:
    from openclaw.gateway.transport.server import GatewayServer


def _levels(settings: GatewaySettings, env: Mapping[str, str]) -> tuple[int, int]:
    cfg_level = env.get("OPENCLAW_LOG_LEVEL") or settings.snapshot.get("logging", "level")
    file_level = logfile.level_value(cfg_level)
    console = settings.snapshot.get("logging", "consoleLevel") or cfg_level
    console_level = logfile.level_value("debug" if settings.options.verbose else console)
    return file_level, console_level


class GatewayRunner:
    def __init__(self, paths: InstancePaths, options: RunOptions, env: Mapping[str, str],
                 on_serving: Callable[[], None] | None = None) -> None:
        self.paths = paths
        self.on_serving = on_serving  # told once, when the first server answers (a fleet's supervisor)
        self.options = options
        self.env = dict(env)
        self.server: GatewayServer | None = None
        self.watcher: ConfigWatcher | None = None
        self._loaded: tuple[int, int, int] | None = None  # the config file's signature when last read
        self.state: RuntimeState | None = None
        self.services: GatewayServices | None = None
        self.teardown = Teardown()  # what this process started, stopped in reverse when it leaves
        self._main_task: asyncio.Task[Any] | None = None
        self._unstopped: GatewayServer | None = None  # started (even half way), not yet shut down

    def _seed_workspace(self, settings: GatewaySettings) -> None:
        """With the config's first copy, the workspace's prompt files (`OPENCLAW_WORKSPACE_SEED`)."""
        seed = self.env.get("OPENCLAW_WORKSPACE_SEED")
        if not seed:
            return
        from openclaw.agents.workspace import seed_workspace, workspace_dir

        target = workspace_dir(settings.config, self.paths, self.env)
        try:
            copied = seed_workspace(target, Path(seed))
        except OSError as exc:
            logfile.warn(f"workspace seed from {seed} not copied: {exc}")
            return
        if copied:
            logfile.info(f"workspace seeded from {seed}: {', '.join(copied)}")

    def run(self) -> int:
        return asyncio.run(self._main())

    async def _main(self) -> int:
        self._main_task = asyncio.current_task()
        self._install_signals()  # first, so a stop at any later point is a clean exit
        AcceptErrorThrottle().install(asyncio.get_running_loop())
        nofile = raise_nofile_limit()
        seeded = seed_config(self.paths.config_path, self.env.get("OPENCLAW_CONFIG_SEED"))
        self._loaded = signature(self.paths.config_path)  # before the read: a later write is a change
        settings = resolve_settings(self.paths, self.options, self.env)
        for agent in settings.config.agents:  # a store of a newer schema stops the start, in one line (78)
            refuse_newer(agent_db_path(self.paths.state_dir, agent.id))
        if self.options.port is not None:
            self._check_footprint(settings)
        multi = self.env.get("OPENCLAW_ALLOW_MULTI_GATEWAY") == "1"
        locks = GatewayLocks(self.paths, settings.port, multi_gateway=multi)
        if not await self._take_locks(locks, settings.limits.lock_timeout_s):
            return 0
        breaker = CrashLoopBreaker(self.paths.lock_dir, self.paths.logs_dir)
        tripped = breaker.record_start()
        clean = False  # a crash leaves the breaker's marker behind: the next start counts as unclean
        try:
            logfile.configure(self.paths.logs_dir, *_levels(settings, self.env),
                              settings.snapshot.get("logging", "maxFileBytes"))
            self.state = RuntimeState(settings)
            self.services = GatewayServices(self.paths, self.env, self.state, breaker, self.teardown)
            if seeded:
                logfile.info(f"config seeded from {self.env['OPENCLAW_CONFIG_SEED']} (first start)")
                self._seed_workspace(settings)
            if nofile:
                logfile.debug(f"open files limit {nofile[0]} (hard {nofile[1]})")
            if tripped:
                logfile.warn(f"crash-loop breaker tripped ({len(breaker.unclean)} unclean starts in 5 minutes): "
                             "the control plane starts, channels stay off until started by an operator")
            await self._serve_loop(settings, locks)
            clean = True
        except asyncio.CancelledError:  # stopped by a signal before it was serving
            logfile.info("stop requested during startup; exiting")
            clean = True
        except Exception as exc:  # a crash, or a start that failed half way: stop what did start
            if not isinstance(exc, OpenClawError):  # those are the caller's one line already
                logfile.error(f"gateway failed: {type(exc).__name__}: {exc}")
            raise
        finally:
            await self.teardown.aclose()
            registry.unregister(self.paths.state_dir, os.getpid())
            locks.release()
            await close_shared()  # the state stores' threads and connections, after the lease went
            if clean:
                breaker.record_clean_stop()
            if self.state is not None and self.state.served:
                logfile.info("gateway stopped")
            logfile.shutdown()
        return 0

    @staticmethod
    async def _take_locks(locks: GatewayLocks, timeout: float) -> bool:
        """Take the locks off the loop; False when a stop came first (then nothing stays held).

        The lock thread cannot be interrupted, so a stop lets it finish and releases after.
        """
        taking = asyncio.ensure_future(asyncio.to_thread(locks.acquire, timeout))
        try:
            await asyncio.shield(taking)
            return True
        except asyncio.CancelledError:
            with contextlib.suppress(GatewayLockError):
                await taking
            locks.release()
            return False

    @staticmethod
    def _harden() -> None:
        """Once the gateway serves, in a thread (both load ctypes, which the way to healthy need not
        wait for): no process of this user may read this one's secrets from /proc (a tool's call
        does it too, before it runs: sandbox.confine), and big buffers go back to the system."""
        forbid_inspection()
        big_buffers_return()

    def _check_footprint(self, settings: GatewaySettings) -> None:
        from openclaw.ports.instances import other_instances
        from openclaw.ports.planner import check_explicit_port

        check_explicit_port(settings.port, settings.footprint, other_instances(self.paths, self.env),
                            self.options.force)

    async def _serve_loop(self, settings: GatewaySettings, locks: GatewayLocks) -> None:
        state, services = self.state, self.services
        assert state is not None and services is not None
        from openclaw.gateway.transport.server import GatewayServer

        await services.build()
        self.teardown.push("server", self._stop_server)
        previous: GatewaySettings | None = None
        while True:
            self.server = self._unstopped = GatewayServer(state, services, self.env, self, services.http_api,
                                                          lambda: services.http_api_made)
            try:
                await self.server.start(functools.partial(asyncio.to_thread, self._record_start, settings))
            except GatewayLockError as exc:
                await self.server.shutdown(restart=True)  # what it bound before the failure
                self._unstopped = None
                if previous is None:
                    raise
                logfile.error(f"restart with new settings failed ({exc}); keeping the previous settings")
                settings, previous = previous, None
                state.settings = settings
                locks.update_port(settings.port)
                continue
            first = not state.served
            state.stability.record("gateway.start", outcome="started" if first else "restarted", port=settings.port)
            state.served = True
            self._watch_config(settings)  # before any await: an edit made once /healthz answers is seen
            if first:  # channels and cron are started once per process and kept across restarts
                asyncio.get_running_loop().run_in_executor(None, self._harden)
                if self.on_serving is not None:
                    self.on_serving()
                await services.start_channels()
                await services.start_cron()
            else:
                await services.sync_heartbeats()  # the re-read config may beat differently
            reason = await self.server.wait()
            logfile.info(f"gateway {'restarting' if reason == 'restart' else 'stopping'}")
            if reason != "restart":
                return  # the teardown stops the server, in its place among the services
            await self.server.shutdown(restart=True)
            self._unstopped = None
            state.restart_count += 1
            previous = state.settings  # hot reloads included
            settings = state.settings = self._reresolve(previous)
            locks.update_port(settings.port)
            if settings.snapshot.get("browser", "enabled") is False:
                await services.shutdown_browser()

    def _stop_server(self) -> Awaitable[None] | None:
        """The teardown's step for the server serving now (one left half started included)."""
        server, self._unstopped = self._unstopped, None
        return server.shutdown(restart=False) if server is not None else None

    def _reresolve(self, current: GatewaySettings) -> GatewaySettings:
        self._loaded = signature(self.paths.config_path)  # before the read: a later write is a change
        try:
            return resolve_settings(self.paths, self.options, self.env)
        except OpenClawError as exc:
            logfile.error(f"restart kept the running settings: {exc}")
            return current

    def _record_start(self, settings: GatewaySettings) -> None:
        """Last-known-good config and the registry entry, once the port is ours and before anyone
        is answered (fsynced writes: run in a thread)."""
        snap = settings.snapshot
        if snap.exists and snap.raw_text is not None:
            record_last_good(self.paths.history_dir, self.paths.config_path, snap.raw_text)
        registry.register(self.paths.state_dir, self._registry_record(settings))
        fp = settings.footprint
        logfile.info(
            f"listening on {settings.url} (profile {self.paths.name}, pid {os.getpid()}); browser control "
            f"{fp.control}, canvas {fp.canvas}, CDP {fp.cdp_label}",
            port=settings.port, profile=self.paths.name, stateDir=str(self.paths.state_dir),
        )

    def _watch_config(self, settings: GatewaySettings) -> None:
        if settings.reload_mode != "off":
            if self.watcher is None:
                self.watcher = ConfigWatcher(self.paths.config_path, self.on_config_change)
                self.watcher.start()
                self.teardown.push("config watcher", at_once(self.watcher.stop))
            self.watcher.accept(self._loaded)

    def _registry_record(self, settings: GatewaySettings) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "startMarker": self_marker(),
            "profile": self.paths.profile,
            "home": str(self.paths.home),
            "stateDir": str(self.paths.state_dir),
            "configPath": str(self.paths.config_path),
            "port": settings.port,
            "bindHost": settings.bind_host,
            "footprint": settings.footprint.as_dict(),
            "version": __version__,
            "startedAt": time.time(),
        }

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        handlers = {signal.SIGTERM: "stop", signal.SIGINT: "stop"}
        if hasattr(signal, "SIGUSR1"):
            handlers[signal.SIGUSR1] = "restart"
        for sig, action in handlers.items():
            try:
                loop.add_signal_handler(sig, self._on_signal, sig, action)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, functools.partial(self._from_signal_handler, loop, sig, action))

    def _from_signal_handler(self, loop: asyncio.AbstractEventLoop, sig: int, action: str, *_: object) -> None:
        """A plain signal handler (where the loop cannot take one): hand the signal to the loop."""
        loop.call_soon_threadsafe(self._on_signal, sig, action)

    def _on_signal(self, sig: int, action: str) -> None:
        verb = "restarting in-process" if action == "restart" else "stopping"
        logfile.info(f"received {signal.Signals(sig).name}; {verb}")
        if self.server is not None and self.server.started:
            self.server.request_stop(action)
        elif action == "stop" and self._main_task is not None:
            self._main_task.cancel()  # still starting (e.g. waiting for the port): give up now

    # -- hot reload ----------------------------------------------------------
    def config_changed_now(self) -> None:
        if self.watcher:
            self.watcher.poke()

    def restart_soon(self, delay_s: float) -> None:
        """An in-process restart after `delay_s` (time for the caller's answer to go out)."""
        def restart() -> None:
            if self.server is not None:
                logfile.info("restarting in-process (requested)", subsystem="reload")
                self.server.request_stop("restart")

        asyncio.get_running_loop().call_later(max(0.0, delay_s), restart)

    async def on_config_change(self) -> None:
        server = self.server
        if server is None:
            return
        snap = await asyncio.to_thread(read_config, self.paths.config_path, self.env)
        if not snap.exists:
            logfile.warn(f"config file {self.paths.config_path} is gone; keeping the running config "
                         "(restore it with `openclaw config rollback`)", subsystem="reload")
            return
        if snap.issues:
            if self.state:
                self.state.stability.record("config.reload", outcome="skipped", reason="invalid config")
            logfile.warn("config reload skipped (invalid config): "
                         + format_issues(self.paths.config_path, snap.issues).replace("\n", " "),
                         subsystem="reload", issues=[i.as_dict() for i in snap.issues])
            return
        gateway = server.gateway
        changed = changed_paths(gateway.settings.snapshot.resolved, snap.resolved)
        if not changed:
            return
        needs = restart_paths(changed)
        gateway.broadcast("config.changed",
                          {"path": str(self.paths.config_path), "hash": snap.hash, "ts": int(time.time() * 1000)})
        if needs:
            logfile.info(f"config change needs a restart ({', '.join(needs)}); restarting in-process",
                         subsystem="reload", changedPaths=changed)
            gateway.state.stability.record("config.reload", outcome="restart", paths=needs[:20])
            server.request_stop("restart")
            return
        await self._hot_apply(gateway, snap, changed)
        if self.services is not None:
            await self.services.sync_heartbeats()
        channels = self.services.channels if self.services else None
        if channels is not None and any(under(p, "channels") for p in changed):
            touched = await channels.reload()
            if touched:
                logfile.info(f"channels reloaded: {', '.join(touched)}", subsystem="reload")
        if self.services is not None and any(under(p, "mcp") for p in changed):
            await self.services.reload_mcp()

    async def _hot_apply(self, gateway: GatewayContext, snap: ConfigSnapshot, changed: list[str]) -> None:
        try:
            settings = await asyncio.to_thread(resolve_settings, self.paths, self.options, self.env, snap)
        except ConfigError as exc:
            logfile.warn(f"config reload skipped: {exc}", subsystem="reload")
            return
        gateway.settings = dataclasses.replace(settings, footprint=gateway.settings.footprint)
        gateway.applied_config_hash = snap.hash
        logfile.set_levels(*_levels(settings, self.env))
        logfile.info(f"config hot reload applied ({', '.join(changed)})", subsystem="reload", changedPaths=changed)
        gateway.state.stability.record("config.reload", outcome="applied", paths=changed[:20])


def run_gateway(paths: InstancePaths, options: RunOptions, env: Mapping[str, str],
                on_serving: Callable[[], None] | None = None) -> int:
    return GatewayRunner(paths, options, env, on_serving).run()


__all__ = ["GatewayLockError", "GatewayRunner", "run_gateway"]
