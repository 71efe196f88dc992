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
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from openclaw import __version__, logfile
from openclaw.config.changes import restart_paths, under
from openclaw.config.history import record_last_good
from openclaw.config.keypath import changed_paths
from openclaw.config.store import format_issues, read_config, seed_config
from openclaw.config.view import Config
from openclaw.errors import ConfigError, OpenClawError
from openclaw.gateway.context import GatewayContext, RuntimeState
from openclaw.gateway.crashloop import CrashLoopBreaker
from openclaw.gateway.locks import GatewayLockError, GatewayLocks
from openclaw.gateway.reload import ConfigWatcher
from openclaw.gateway.resources import AcceptErrorThrottle, raise_nofile_limit
from openclaw.gateway.server import GatewayServer
from openclaw.gateway.settings import GatewaySettings, RunOptions, resolve_settings
from openclaw.ports import registry
from openclaw.procutil import forbid_inspection, self_marker
from openclaw.profiles.paths import InstancePaths

STOP_STEP_S = 15.0  # each service's time to stop before the process leaves without it


def _levels(settings: GatewaySettings, env: Mapping[str, str]) -> tuple[int, int]:
    cfg_level = env.get("OPENCLAW_LOG_LEVEL") or settings.snapshot.get("logging", "level")
    file_level = logfile.level_value(cfg_level)
    console = settings.snapshot.get("logging", "consoleLevel") or cfg_level
    console_level = logfile.level_value("debug" if settings.options.verbose else console)
    return file_level, console_level


class GatewayRunner:
    def __init__(self, paths: InstancePaths, options: RunOptions, env: Mapping[str, str]) -> None:
        self.paths = paths
        self.options = options
        self.env = dict(env)
        self.server: GatewayServer | None = None
        self.watcher: ConfigWatcher | None = None
        self.state: RuntimeState | None = None
        self._main_task: asyncio.Task[Any] | None = None
        self._unstopped: GatewayServer | None = None  # started (even half way), not yet shut down

    def _seed_workspace(self, settings: Any) -> None:
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
        # No process of this user (another instance's tools included) may read this one's secrets
        # from /proc; off the start path, as it loads ctypes.
        asyncio.get_running_loop().run_in_executor(None, forbid_inspection)
        seeded = seed_config(self.paths.config_path, self.env.get("OPENCLAW_CONFIG_SEED"))
        settings = resolve_settings(self.paths, self.options, self.env)
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
            self.state = RuntimeState()
            self.state.breaker = breaker
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
            await self._stop_services()
            registry.unregister(self.paths.state_dir, os.getpid())
            locks.release()
            if clean:
                breaker.record_clean_stop()
            if self.state is not None and self.state.served:
                logfile.info("gateway stopped")
            logfile.shutdown()
        return 0

    async def _stop_services(self) -> None:
        """Stop everything this process started, whichever way it is leaving (a stop, a crash, a start
        that failed half way, a stop during start). Each step runs on its own within STOP_STEP_S: one
        that fails or hangs is logged and the others still run."""
        state = self.state
        server, self._unstopped = self._unstopped, None
        steps: list[tuple[str, Callable[[], Awaitable[Any]] | None]] = [
            ("server", (lambda: server.shutdown(restart=False)) if server is not None else None),
        ]
        if state is not None:
            steps += [
                ("channels", state.channels.stop_all if state.channels is not None else None),
                ("cron scheduler", state.cron.stop if state.cron else None),
                ("message dispatcher", state.dispatcher.stop if state.dispatcher is not None else None),
                ("agent runtime", state.agents.close if state.agents is not None else None),
                ("browser", state.browser.shutdown if state.browser is not None else None),  # none outlives us
            ]
        stopped = []
        for name, stop in steps:
            if stop is None:
                continue
            try:
                await asyncio.wait_for(stop(), STOP_STEP_S)
            except TimeoutError:
                logfile.error(f"{name} did not stop within {STOP_STEP_S:g}s; leaving it behind")
            except Exception as exc:  # noqa: BLE001 - one broken service must not keep the others running
                logfile.error(f"{name} failed to stop: {type(exc).__name__}: {exc}")
            else:
                stopped.append(name)
        if self.watcher:
            self.watcher.stop()
            stopped.append("config watcher")
        if stopped:
            logfile.info(f"stopped: {', '.join(stopped)}")

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

    def _check_footprint(self, settings: GatewaySettings) -> None:
        from openclaw.ports.instances import other_instances
        from openclaw.ports.planner import check_explicit_port

        check_explicit_port(settings.port, settings.footprint, other_instances(self.paths, self.env),
                            self.options.force)

    async def _serve_loop(self, settings: GatewaySettings, locks: GatewayLocks) -> None:
        assert self.state is not None
        previous: GatewaySettings | None = None
        while True:
            self.server = self._unstopped = GatewayServer(settings, self.state, self.env, hooks=self)
            try:
                await self.server.start(lambda s=settings: asyncio.to_thread(self._record_start, s))
            except GatewayLockError as exc:
                await self.server.shutdown(restart=True)  # what it bound before the failure
                self._unstopped = None
                if previous is None:
                    raise
                logfile.error(f"restart with new settings failed ({exc}); keeping the previous settings")
                settings, previous = previous, None
                locks.update_port(settings.port)
                continue
            self.state.stability.record("gateway.start", outcome="restarted" if self.state.served else "started",
                                        port=settings.port)
            self.state.served = True
            self._watch_config(settings)  # before any await: an edit made once /healthz answers is seen
            if self.state.channels is None:
                await self._start_channels()
            if self.state.cron is None:
                await self._start_cron()
            reason = await self.server.wait()
            logfile.info(f"gateway {'restarting' if reason == 'restart' else 'stopping'}")
            await self.server.shutdown(restart=reason == "restart")
            self._unstopped = None
            if reason != "restart":
                return
            self.state.restart_count += 1
            previous = settings
            settings = self._reresolve(settings)
            locks.update_port(settings.port)
            if settings.snapshot.get("browser", "enabled") is False and self.state.browser is not None:
                await self.state.browser.shutdown()

    async def _start_cron(self) -> None:
        """The scheduler: its code and store load only when this instance has cron jobs."""
        assert self.state is not None
        if not await asyncio.to_thread((self.paths.state_dir / "cron" / "jobs.json").exists):
            self.state.cron = False  # none yet: `cron.add` starts it
            return
        from openclaw.gateway.scheduler import start_scheduler

        await start_scheduler(self.state, self.paths.state_dir)

    async def _start_channels(self) -> None:
        """Channels start after the control plane, unless the crash-loop breaker holds them."""
        from openclaw.channels.bus import MessageBus
        from openclaw.channels.manager import ChannelManager
        from openclaw.gateway.dispatch import Dispatcher

        state = self.state
        assert state is not None

        def config() -> Config:
            return state.current_settings.config

        bus = MessageBus()
        state.dispatcher = Dispatcher(bus, self.paths, config, lambda: self.server.gateway.agents, self.env)
        state.dispatcher.start()
        state.channels = ChannelManager(config, bus, self.paths.state_dir, self.env)
        tripped = state.breaker.tripped
        await state.channels.start_all(autostart=not tripped)
        if tripped and state.channels.suppressed:
            asyncio.get_running_loop().call_later(state.breaker.seconds_until_clear(),
                                                  lambda: asyncio.ensure_future(self._resume_channels()))

    async def _resume_channels(self) -> None:
        """The crash-loop window drained: start what the breaker held back."""
        channels = self.state.channels if self.state else None
        for name in sorted(channels.suppressed if channels else ()):
            logfile.info(f"crash-loop window cleared; starting channel {name}", subsystem="channels")
            await channels.start(name)

    def _reresolve(self, current: GatewaySettings) -> GatewaySettings:
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
            self.watcher.accept_current()

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
                signal.signal(sig, lambda s, f, a=action, n=sig: loop.call_soon_threadsafe(self._on_signal, n, a))

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
        if self.state and self.state.channels and any(under(p, "channels") for p in changed):
            touched = await self.state.channels.reload()
            if touched:
                logfile.info(f"channels reloaded: {', '.join(touched)}", subsystem="reload")

    async def _hot_apply(self, gateway: GatewayContext, snap: Any, changed: list[str]) -> None:
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


def run_gateway(paths: InstancePaths, options: RunOptions, env: Mapping[str, str]) -> int:
    return GatewayRunner(paths, options, env).run()


__all__ = ["run_gateway", "GatewayRunner", "GatewayLockError"]
