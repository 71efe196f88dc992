"""The running gateway as its methods, HTTP handlers and connections see it.

A `GatewayContext` holds what they may read (settings, runtime state, the
lifecycle flags, the connections) and the operations they may ask for
(health, identity, broadcasts, config-write hooks). The server builds one and
drives its lifecycle; nothing below the server holds the server.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openclaw import __version__, logfile
from openclaw.config.view import Config
from openclaw.gateway.auth import RateLimiter
from openclaw.gateway.methods.health import build_health
from openclaw.gateway.presence import Presence
from openclaw.gateway.protocol import EVENTS, encode_json
from openclaw.gateway.resources import MemoryTrimmer
from openclaw.gateway.scopes import ADMIN
from openclaw.gateway.settings import GatewaySettings
from openclaw.gateway.stability import StabilityRecorder

if TYPE_CHECKING:
    from openclaw.gateway.connection import Connection
    from openclaw.gateway.methods import Method
    from openclaw.gateway.sidecars import Sidecars

HEALTH_CACHE_S = 1.0  # channels change state often; a summary is cheap to build
PRESENCE_COALESCE_S = 0.25  # joins and leaves within this window go out as one presence event


class RuntimeState:
    """What survives an in-process restart: identity, boot time, presence."""

    def __init__(self) -> None:
        self.boot_id = str(uuid.uuid4())
        self.instance_id = str(uuid.uuid4())
        self.started_mono = time.monotonic()
        self.presence = Presence(self.instance_id)
        self.current_settings: Any = None
        self.current_context: Any = None  # the GatewayContext serving now (a restart makes a new one)
        self.browser: Any = None  # BrowserService, created once and kept across in-process restarts
        self.channels: Any = None  # ChannelManager, likewise
        self.dispatcher: Any = None  # the message bus's consumer, likewise
        self.agents: Any = None  # AgentRuntime, created with the first turn and kept likewise
        self.breaker: Any = None  # CrashLoopBreaker
        self.stability = StabilityRecorder()  # recent diagnostic events, across in-process restarts
        self.devices: Any = None  # DeviceStore, loaded before the first start serves
        self.cron: Any = None  # CronScheduler once there are jobs (False: none yet), kept likewise
        self.http_api: Any = None  # HttpApiState (OpenAI-compatible endpoints), made on first use
        self.health_version = 0
        self.restart_count = 0
        self.served = False


class GatewayContext:
    def __init__(self, settings: GatewaySettings, state: RuntimeState, env: Mapping[str, str],
                 methods: dict[str, Method], hooks: Any = None) -> None:
        self.state = state
        state.current_settings = settings
        state.current_context = self
        self.env = env
        self.methods = methods
        self.hooks = hooks  # the runner: config reload + restart requests
        self.sidecars: Sidecars | None = None  # set by the server
        self.connections: set[Connection] = set()
        self.rate_limiter = RateLimiter()
        self.config_writes = asyncio.Lock()  # one config write at a time waits for the file lock
        self.draining = False
        self.started = False
        self.hot_reload_status = "active" if settings.reload_mode != "off" else "disabled"
        self.applied_config_hash = settings.snapshot.hash
        self.log_file = logfile.log_path(settings.paths.logs_dir)
        self._presence_flush: asyncio.TimerHandle | None = None
        self._trimmer = MemoryTrimmer()
        self._health_cache: tuple[float, dict[str, Any]] | None = None

    @property
    def settings(self) -> GatewaySettings:
        """Kept in the runtime state: hot reload swaps them, and long-lived services read them there."""
        return self.state.current_settings

    @settings.setter
    def settings(self, value: GatewaySettings) -> None:
        self.state.current_settings = value

    @property
    def browser(self) -> Any:
        """The BrowserService, created (and its modules imported) on first use."""
        if self.state.browser is None:
            from openclaw.browser.service import BrowserService

            self.state.browser = BrowserService(self.settings.paths, lambda: self.state.current_settings, self.env)
            self.state.browser.adopt_leftovers()
        return self.state.browser

    @property
    def agents(self) -> Any:
        """The AgentRuntime, created (and the agent stack imported) with the first turn."""
        if self.state.agents is None:
            from openclaw.agents.runtime import AgentRuntime
            from openclaw.tools import toolset

            paths, state = self.settings.paths, self.state

            def config() -> Config:
                return state.current_settings.config

            self.state.agents = AgentRuntime(paths, config, self.env,
                                             lambda _turn, _agent: toolset(paths, config, self.env,
                                                                           lambda: self.browser),
                                             observer=self._run_ended)
        return self.state.agents

    @property
    def presence(self) -> Presence:
        return self.state.presence

    # -- connections and events ---------------------------------------------
    def connection_ready(self, conn: Connection) -> None:
        logfile.debug(f"client connected {conn.label}", subsystem="ws", scopes=conn.scopes)
        if not conn.ephemeral:
            self.presence.add(conn.id, conn.client, conn.remote, conn.scopes)
            self._presence_changed()

    def connection_gone(self, conn: Connection) -> None:
        if self.presence.remove(conn.id):
            self._presence_changed()
        self._trimmer.connection_ended(conn.outbox.peak)

    def connection_stats(self) -> dict[str, int]:
        """What clients hold right now: sockets, requests running, bytes waiting to be sent."""
        conns = list(self.connections)
        return {"open": len(conns), "authenticated": sum(c.authenticated for c in conns),
                "requestsInFlight": sum(c.in_flight for c in conns),
                "bufferedBytes": sum(c.outbox.buffered for c in conns)}

    def stop_presence(self) -> None:
        """Stopping: no more presence events (everyone is leaving)."""
        if self._presence_flush is not None:
            self._presence_flush.cancel()

    def _presence_changed(self) -> None:
        """Coalesce: one presence event per window, however many clients came and went in it;
        none once the gateway is stopping (everyone is leaving)."""
        if self.draining or self._presence_flush is not None:
            return
        self._presence_flush = asyncio.get_running_loop().call_later(PRESENCE_COALESCE_S, self._flush_presence)

    def _flush_presence(self) -> None:
        self._presence_flush = None
        if not self.draining:
            self.broadcast("presence", {"presence": self.presence.entries()})

    def broadcast(self, event: str, payload: Any) -> None:
        """Queue `event` for every authenticated client; the payload is encoded once for all."""
        data = encode_json(payload)
        for conn in list(self.connections):
            if conn.authenticated:
                conn.send_event(event, data)

    # -- payloads -----------------------------------------------------------
    def uptime_ms(self) -> int:
        return int((time.monotonic() - self.state.started_mono) * 1000)

    def identity(self, include_paths: bool = True) -> dict[str, Any]:
        s = self.settings
        out: dict[str, Any] = {
            "profile": s.paths.name,
            "port": s.port,
            "bind": s.bind_mode,
            "bindHost": s.bind_host,
            "ports": s.footprint.as_dict(),
            "version": __version__,
            "pid": os.getpid(),
        }
        if include_paths:
            out.update(stateDir=str(s.paths.state_dir), configPath=str(s.paths.config_path))
        try:
            out.update(self.sidecars.describe() if self.sidecars else {})
        except Exception as exc:  # noqa: BLE001 - status must answer even with a broken browser config
            out["sidecarError"] = str(exc)
        return out

    def _run_ended(self, run: Any) -> None:
        ms = (run.ended_at or 0) - (run.started_at or run.accepted_at)
        self.state.stability.record("agent.run.completed" if run.status == "ok" else "agent.run.error",
                                    outcome=run.status, agentId=run.agent_id, model=run.model or None,
                                    durationMs=max(0, ms), reason=(run.error or "")[:200] or None)

    async def sessions_summary(self, recent: int = 5) -> dict[str, dict[str, Any]]:
        """Per agent: its sessions database, how many sessions, the latest few. An agent that never
        ran has no database; nothing is loaded for it."""
        from openclaw.agents.roster import sessions_db_path

        out: dict[str, dict[str, Any]] = {}
        for info in self.settings.config.agents:
            path = sessions_db_path(self.settings.paths.state_dir, info.id)
            summary: dict[str, Any] = {"path": str(path), "count": 0, "recent": []}
            if path.exists():
                store = self.agents.store(info.id)
                now = int(time.time() * 1000)
                summary["count"] = await store.count()
                summary["recent"] = [{"key": s.key, "updatedAt": s.updated_at, "age": now - s.updated_at}
                                     for s in await store.list(recent)]
            out[info.id] = summary
        return out

    async def health(self, probe: bool = False) -> dict[str, Any]:
        now = time.monotonic()
        if probe or self._health_cache is None or now - self._health_cache[0] > HEALTH_CACHE_S:
            self._health_cache = (now, build_health(self, await self.sessions_summary()))
            self.state.health_version += 1
        return self._health_cache[1]

    def hello_payload(self, conn: Connection, protocol: int, auth_method: str) -> dict[str, Any]:
        s = self.settings
        config = s.config
        agent = config.default_agent_id
        configured = config.model_choice(agent).primary is not None
        snapshot: dict[str, Any] = {
            "presence": self.presence.entries(),
            "health": self._health_cache[1] if self._health_cache else {},
            "stateVersion": {"presence": self.presence.version, "health": self.state.health_version},
            "uptimeMs": self.uptime_ms(),
            "suspension": {"phase": "accepting"},
            "appliedConfigHash": self.applied_config_hash,
            "sessionDefaults": {
                "defaultAgentId": agent, "modelConfigured": configured, "selectionRequired": False,
                "mainKey": "main", "mainSessionKey": f"agent:{agent}:main", "scope": "per-sender",
            },
        }
        if ADMIN in conn.scopes:
            snapshot.update(configPath=str(s.paths.config_path), stateDir=str(s.paths.state_dir),
                            authMode=s.auth.mode)
        return {
            "type": "hello-ok",
            "protocol": protocol,
            "server": {"version": __version__, "connId": conn.id, "bootId": self.state.boot_id},
            "features": {"methods": sorted(self.methods), "events": EVENTS, "capabilities": []},
            "snapshot": snapshot,
            "auth": {"method": auth_method, "role": conn.role, "scopes": conn.scopes},
            "policy": {
                "maxPayload": s.limits.max_payload_bytes, "maxBufferedBytes": s.limits.max_buffered_bytes,
                "tickIntervalMs": s.limits.tick_interval_ms,
                "attachments": {"maxBytes": 20_971_520, "maxImageBytes": 6_291_456},
            },
        }

    # -- config hooks (implemented by the runner) ----------------------------
    def classify_change(self, changed: list[str]) -> dict[str, Any]:
        from openclaw.config.changes import restart_paths

        needs = restart_paths(changed)
        mode = self.settings.reload_mode
        return {"required": bool(needs), "paths": needs,
                "mode": "in-process" if needs and mode != "off" else ("manual" if needs else "none")}

    def device_pairing_requested(self, details: dict[str, Any]) -> None:
        """A remote device waits for approval: keep the request, tell the operators."""
        self.save_devices()
        self.broadcast("device.pair.requested", {"requestId": details["requestId"], "deviceId": details["deviceId"],
                                                 "role": details.get("requestedRole"),
                                                 "scopes": details.get("requestedScopes"), "ts": int(time.time() * 1000)})

    def save_devices(self) -> None:
        def done(task: asyncio.Future[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                logfile.warn(f"device store not saved: {task.exception()}")

        asyncio.ensure_future(self.state.devices.persist()).add_done_callback(done)

    def restart_soon(self, delay_ms: int) -> bool:
        if self.hooks is None:
            return False
        self.hooks.restart_soon(delay_ms / 1000)
        return True

    def config_written(self, actor: str) -> None:
        logfile.info(f"config written ({actor})", subsystem="config")
        if self.hooks is not None:
            self.hooks.config_changed_now()
