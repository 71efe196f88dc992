"""The running gateway as its methods, HTTP handlers and connections see it.

A `GatewayContext` holds what they may read (settings, runtime state, the
lifecycle flags, the connections) and the operations they may ask for
(health, identity, broadcasts, config-write hooks). The long-lived services
and the runner's hooks reach it as Protocols (`state.hooks`), the connections
as `state.peer.Peer`: nothing here holds the server, the runner or the
composition root. The server builds one per serve and drives its lifecycle.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from openclaw import __version__, logfile
from openclaw.gateway.auth import RateLimiter
from openclaw.gateway.protocol import CAPABILITIES, EVENTS, encode_json
from openclaw.gateway.scopes import ADMIN, APPROVALS, READ
from openclaw.gateway.settings import GatewaySettings
from openclaw.gateway.state.health import build_health
from openclaw.gateway.state.hooks import Hooks, Services
from openclaw.gateway.state.peer import Peer
from openclaw.gateway.state.presence import Presence
from openclaw.gateway.state.stability import StabilityRecorder
from openclaw.gateway.state.systemevents import SystemEvents
from openclaw.tools.approval_events import set_publisher

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.browser.service import BrowserService

HEALTH_CACHE_S = 1.0  # channels change state often; a summary is cheap to build
PRESENCE_COALESCE_S = 0.25  # joins and leaves within this window go out as one presence event


class RuntimeState:
    """What survives an in-process restart: identity, boot time, presence, diagnostics, and the
    settings in force (hot reload swaps them; long-lived services read them here)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.boot_id = str(uuid.uuid4())
        self.instance_id = str(uuid.uuid4())
        self.started_mono = time.monotonic()
        self.presence = Presence(self.instance_id)
        self.settings = settings
        self.stability = StabilityRecorder()  # recent diagnostic events, across in-process restarts
        self.system_events = SystemEvents()
        self.health_version = 0
        self.restart_count = 0
        self.served = False


class GatewayContext:
    def __init__(self, state: RuntimeState, services: Services, env: Mapping[str, str],
                 methods: Iterable[str], hooks: Hooks | None = None,
                 describe_sidecars: Callable[[], dict[str, Any]] | None = None,
                 connection_ended: Callable[[int], None] | None = None) -> None:
        self.state = state
        self.services = services
        self.env = env
        self.method_names = sorted(methods)  # what `hello-ok` lists
        self.hooks = hooks
        self._describe_sidecars = describe_sidecars  # the browser-control and canvas ports (the server's)
        self._connection_ended = connection_ended  # given each closed connection's peak outbox size
        self.connections: set[Peer] = set()
        self.rate_limiter = RateLimiter()
        self.config_writes = asyncio.Lock()  # one config write at a time waits for the file lock
        self.draining = False
        self.started = False
        settings = state.settings
        self.hot_reload_status = "active" if settings.reload_mode != "off" else "disabled"
        self.applied_config_hash = settings.snapshot.hash
        self.log_file = logfile.log_path(settings.paths.logs_dir)
        self._presence_flush: asyncio.TimerHandle | None = None
        self._health_cache: tuple[float, dict[str, Any]] | None = None
        self._health_warming: asyncio.Future[dict[str, Any]] | None = None
        set_publisher(settings.paths.state_dir, lambda event, data: self.broadcast(event, data, APPROVALS))
        state.system_events.listener = lambda event: self.broadcast("heartbeat", event, READ)

    @property
    def settings(self) -> GatewaySettings:
        """Kept in the runtime state: hot reload swaps them, and long-lived services read them there."""
        return self.state.settings

    @settings.setter
    def settings(self, value: GatewaySettings) -> None:
        self.state.settings = value

    @property
    def browser(self) -> BrowserService:
        return self.services.browser()

    @property
    def agents(self) -> AgentRuntime:
        return self.services.agents()

    @property
    def presence(self) -> Presence:
        return self.state.presence

    # -- connections and events ---------------------------------------------
    def connection_ready(self, conn: Peer) -> None:
        logfile.debug(f"client connected {conn.label}", subsystem="ws", scopes=conn.scopes)
        if not conn.ephemeral:
            self.presence.add(conn.id, conn.client, conn.remote, conn.scopes)
            self._presence_changed()

    def connection_gone(self, conn: Peer) -> None:
        if self.presence.remove(conn.id):
            self._presence_changed()
        if self._connection_ended is not None:
            self._connection_ended(conn.outbox.peak)

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

    def broadcast(self, event: str, payload: Any, scope: str | None = None) -> None:
        """Queue `event` for every authenticated client (holding `scope`, if given: admins hold all);
        the payload is encoded once for all."""
        data = encode_json(payload)
        for conn in list(self.connections):
            if conn.authenticated and (scope is None or scope in conn.scopes or ADMIN in conn.scopes):
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
            out.update(self._describe_sidecars() if self._describe_sidecars else {})
        except Exception as exc:  # noqa: BLE001 - status must answer even with a broken browser config
            out["sidecarError"] = str(exc)
        return out

    async def sessions_summary(self, recent: int = 5) -> dict[str, dict[str, Any]]:
        """Per agent: its sessions database, how many sessions, the latest few. An agent that never
        ran has no database; nothing is loaded for it."""
        from openclaw.agents.roster import legacy_sessions_path, sessions_db_path

        out: dict[str, dict[str, Any]] = {}
        for info in self.settings.config.agents:
            path = sessions_db_path(self.settings.paths.state_dir, info.id)
            summary: dict[str, Any] = {"path": str(path), "count": 0, "recent": []}
            if path.exists() or legacy_sessions_path(self.settings.paths.state_dir, info.id).exists():
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
            channels = self.services.channels
            self._health_cache = (now, build_health(self.settings, self.env, channels.status() if channels else {},
                                                    await self.sessions_summary(), self.hot_reload_status,
                                                    self.identity()))
            self.state.health_version += 1
        return self._health_cache[1]

    def hello_payload(self, conn: Peer, protocol: int, auth_method: str) -> dict[str, Any]:
        s = self.settings
        config = s.config
        agent = config.default_agent_id
        configured = config.model_choice(agent).primary is not None
        if self._health_cache is None and (self._health_warming is None or self._health_warming.done()):
            self._health_warming = asyncio.ensure_future(self.health())  # the next hello carries it
            self._health_warming.add_done_callback(lambda f: f.cancelled() or f.exception())
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
            "features": {"methods": self.method_names, "events": EVENTS, "capabilities": CAPABILITIES},
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
                                                 "scopes": details.get("requestedScopes"),
                                                 "ts": int(time.time() * 1000)})

    def save_devices(self) -> None:
        def done(task: asyncio.Future[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                logfile.warn(f"device store not saved: {task.exception()}")

        asyncio.ensure_future(self.services.devices.persist()).add_done_callback(done)

    def restart_soon(self, delay_ms: int) -> bool:
        if self.hooks is None:
            return False
        self.hooks.restart_soon(delay_ms / 1000)
        return True

    def config_written(self, actor: str) -> None:
        logfile.info(f"config written ({actor})", subsystem="config")
        if self.hooks is not None:
            self.hooks.config_changed_now()
