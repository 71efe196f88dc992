"""One heartbeat run: checks (switched off, outside active hours, busy, no model), the turn (or a
rescue instance's check of its targets), the reply read as silent or not, and delivery to the
target. Every run ends in one heartbeat event in upstream's fields, published to the gateway
(`last-heartbeat`, the `heartbeat` event) and returned to the scheduler as the run's record."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from openclaw import logfile, memguard
from openclaw.config.view import Config
from openclaw.cron.scheduler import SystemOutcome
from openclaw.heartbeat import reply
from openclaw.heartbeat.settings import Heartbeat, heartbeat_for
from openclaw.heartbeat.target import resolve
from openclaw.profiles.paths import InstancePaths

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.manager import ChannelManager

SEND_TIMEOUT_S = 60.0
BUSY_RETRY_MS = 30_000  # a busy session is tried again this soon (or at the next slot, if sooner)
DUPLICATE_WINDOW_MS = 86_400_000  # the same message to the same chat is not sent twice within a day
NO_MODEL = "no model is configured (set agents.defaults.model); the heartbeat turn did not run"
INDICATOR = {"ok-empty": "ok", "ok-token": "ok", "sent": "alert", "failed": "error"}


class Board(Protocol):
    """What the gateway keeps for heartbeats: the switch, queued system events, the last event."""

    heartbeats_enabled: bool

    def drain(self, agent_id: str) -> list[str]: ...

    def publish_heartbeat(self, event: dict[str, Any]) -> None: ...


@dataclass
class Host:
    """What a run uses of the gateway around it (the config in force, its services)."""

    paths: InstancePaths
    env: Mapping[str, str]
    config: Callable[[], Config]
    agents: Callable[[], AgentRuntime]
    channels: Callable[[], ChannelManager | None]
    board: Board
    rescue: Callable[[Config], bool]  # whether this instance has the rescue role


@dataclass
class Beat:
    """One run in progress and what its event will say."""

    beat: Heartbeat
    session_key: str
    started: int = field(default_factory=lambda: int(time.time() * 1000))
    event: dict[str, Any] = field(default_factory=dict)
    ran: bool = False  # its turn (or rescue check) ran: the run counts as done whatever was delivered


class HeartbeatRunner:
    def __init__(self, host: Host) -> None:
        self.host = host
        self._sent: dict[tuple[str, str, str], tuple[str, int]] = {}  # (agent, channel, to) -> (text, when)

    async def run_job(self, job: dict[str, Any], run_id: str, manual: bool) -> SystemOutcome:
        """The scheduler's entry (`SystemRun`) for a `heartbeat:<agentId>` job."""
        return await self.run(str(job.get("agentId") or self.host.config().default_agent_id), run_id, manual)

    async def run(self, agent_id: str, run_id: str | None = None, manual: bool = False) -> SystemOutcome:
        config = self.host.config()
        beat = heartbeat_for(config, agent_id)
        run_id = run_id or str(uuid.uuid4())
        key = f"agent:{agent_id}:heartbeat:{run_id}" if beat.isolated else beat.session_key()
        state = Beat(beat, key)
        retry: int | None = None
        try:
            retry = await self._run(state, config, run_id, manual)
        except Exception as exc:  # noqa: BLE001 - a heartbeat's failure is its event, never the scheduler's end
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            self._end(state, "failed", reason=f"{type(exc).__name__}: {exc}")
        return self._outcome(state, retry)

    async def _run(self, state: Beat, config: Config, run_id: str, manual: bool) -> int | None:
        """The run's checks, then its turn and delivery; a time to try again when it was deferred."""
        beat = state.beat
        skip = self._skip_reason(beat, config, manual)
        if skip is not None:  # switched off: no event, as upstream (the last one stays the last)
            self._end(state, "skipped", reason=skip, message=NO_MODEL if skip == "no-model" else None,
                      publish=skip != "disabled")
            return None
        if self.host.rescue(config) and beat.prompt is None:
            await self._rescue(state, config)
            return None
        agents = self.host.agents()
        if agents.busy(state.session_key):
            self._end(state, "skipped", reason="requests-in-flight")
            every = beat.every_ms or BUSY_RETRY_MS
            return int(time.time() * 1000) + min(every, BUSY_RETRY_MS)
        text, silent = await self._turn(state, agents, config, run_id)
        if text is None:
            return None
        state.ran = True
        status, body = reply.classify(text, silent)
        if status != "sent":
            self._end(state, status, silent=True)
        else:
            await self._deliver(state, config, body)
        return None

    def _skip_reason(self, beat: Heartbeat, config: Config, manual: bool) -> str | None:
        if not self.host.board.heartbeats_enabled:
            return "disabled"
        if not manual and not beat.active_at(config, datetime.now(UTC)):
            return "quiet-hours"
        if self.host.rescue(config) and beat.prompt is None:
            return None  # its check needs no model
        if config.model_choice(beat.agent_id).primary is None and beat.model is None:
            return "no-model"
        return None

    async def _turn(self, state: Beat, agents: AgentRuntime, config: Config, run_id: str) -> tuple[str | None, bool]:
        from openclaw.agents.run import TurnInput

        beat = state.beat
        checklist = await asyncio.to_thread(reply.read_checklist, agents.workspace(beat.agent_id))
        events = self.host.board.drain(beat.agent_id)
        text = reply.message(beat.prompt, checklist, events)
        run = agents.submit(TurnInput(state.session_key, text, agent_id=beat.agent_id, operator=True,
                                      channel="heartbeat", chat_type="direct", origin={"channel": "heartbeat"},
                                      model=beat.model, run_id=f"heartbeat-{run_id}", timeout_s=beat.timeout_s(config),
                                      light_context=beat.light_context))
        await run.done
        if run.status != "ok":
            self._end(state, "failed", reason=run.error or run.status)
            return None, False
        return run.text, run.silent

    async def _rescue(self, state: Beat, config: Config) -> None:
        from openclaw.heartbeat import rescue_check

        found = await rescue_check.findings(self.host.paths, config, self.host.env)
        state.ran = True
        if not found:
            self._end(state, "ok-empty", silent=True, reason="targets-healthy")
        else:
            await self._deliver(state, config, rescue_check.report(found))

    async def _deliver(self, state: Beat, config: Config, text: str) -> None:
        from openclaw.channels.messages import OutboundMessage

        manager = self.host.channels()
        running = [name for name, s in (manager.status() if manager else {}).items() if s.get("running")]
        route = resolve(config, state.beat, running, await self._last(state))
        preview = reply.preview(text)
        where: dict[str, Any] = {k: v for k, v in (("channel", route.channel), ("to", route.to),
                                                   ("accountId", route.account)) if v}
        if route.reason or manager is None:
            self._end(state, "skipped", reason=route.reason or "no-route", preview=preview, **where)
            return
        assert route.channel is not None and route.to is not None  # a route without a reason names both
        now = int(time.time() * 1000)
        slot = (state.beat.agent_id, route.channel, route.to)
        last = self._sent.get(slot)
        if last is not None and last[0] == text and now - last[1] < DUPLICATE_WINDOW_MS:
            self._end(state, "skipped", reason="duplicate", preview=preview, **where)
            return
        channel = manager.channel(route.channel)
        if channel is None:
            self._end(state, "skipped", reason="no-route", preview=preview, **where)
            return
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await channel.send(OutboundMessage(route.channel, route.account or "default", route.to, text))
        except Exception as exc:  # noqa: BLE001 - recorded as the run's failure
            self._end(state, "failed", reason=f"delivery failed: {exc}", preview=preview, **where)
            return
        self._sent[slot] = (text, now)
        if len(self._sent) > 256:  # bounded: one entry per agent and chat is all it needs
            self._sent.pop(next(iter(self._sent)))
        self._end(state, "sent", preview=preview, **where)

    async def _last(self, state: Beat) -> dict[str, Any] | None:
        """The origin of the agent's most recent chat on a channel (for `target: last`)."""
        if state.beat.target != "last":
            return None
        sessions = await self.host.agents().store(state.beat.agent_id).list(limit=200)
        chats = [s for s in sessions
                 if s.origin.get("channel") not in (None, "heartbeat", "cron") and s.origin.get("to")]
        return max(chats, key=lambda s: s.updated_at).origin if chats else None

    def _end(self, state: Beat, status: str, publish: bool = True, **fields: Any) -> None:
        """The run's event: kept as `last-heartbeat` and published (unless `publish` is off); logged."""
        now = int(time.time() * 1000)
        event: dict[str, Any] = {"ts": now, "status": status, **{k: v for k, v in fields.items() if v is not None},
                                 "durationMs": now - state.started}
        event.setdefault("silent", status != "sent")
        event.setdefault("hasMedia", False)
        if status in INDICATOR:
            event["indicatorType"] = INDICATOR[status]
        event.update(sessionKey=state.session_key, agentId=state.beat.agent_id)
        state.event = event
        if publish:
            self.host.board.publish_heartbeat(event)
        level = logfile.warn if status == "failed" else logfile.info
        level(f"heartbeat {state.beat.agent_id}: {status}" + (f" ({event['reason']})" if event.get("reason") else ""),
              subsystem="heartbeat")

    @staticmethod
    def _outcome(state: Beat, retry: int | None) -> SystemOutcome:
        event = state.event
        status = event.get("status", "failed")
        sent = status == "sent"
        delivery: dict[str, Any] = {"delivered": sent, "deliveryStatus": "delivered" if sent else "not-requested"}
        if event.get("reason") in ("no-route", "dm-blocked"):
            delivery["deliveryStatus"] = "not-delivered"
        skipped = status == "skipped" and not state.ran
        summary = f"skipped: {event.get('reason')}" if skipped else event.get("preview")
        return SystemOutcome("error" if status == "failed" else "skipped" if skipped else "ok",
                             error=event.get("reason") if status == "failed" else None,
                             summary=summary, session_key=state.session_key, delivery=delivery,
                             retry_at_ms=retry)

