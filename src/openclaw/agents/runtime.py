"""The agent runtime of one gateway: who runs when, and what a run is given.

One run at a time per session key (later messages wait their turn as
follow-ups, at most `MAX_QUEUED` per session), at most
`agents.defaults.maxConcurrent` runs at once, each within
`agents.defaults.timeoutSeconds`. `abort` stops a session's running and
waiting runs (`/stop`). Runs are remembered for a while after they end, so
`agent.wait` can find them (bounded in number and in the text they hold).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from openclaw import logfile, memguard
from openclaw.agents import maintenance, prompt, turn
from openclaw.agents.plan import Plan
from openclaw.agents.roster import sessions_db_path
from openclaw.agents.run import Run, TurnInput
from openclaw.agents.sessions import Session, SessionStore
from openclaw.agents.tools import Tool, select
from openclaw.agents.workspace import agent_workspace
from openclaw.config.view import Config
from openclaw.models.catalog import chain
from openclaw.models.client import ModelClient
from openclaw.models.types import ModelError
from openclaw.profiles.paths import InstancePaths

MAX_QUEUED = 20  # runs waiting behind a busy session
REMEMBERED_RUNS = 1000
REMEMBERED_TEXT = 16 * 1024 * 1024  # characters of replies the remembered runs may hold together
ToolFactory = Callable[[TurnInput, str], list[Tool]]
Prepare = Callable[[], Awaitable[None]]  # made ready before a run's tools are chosen (MCP servers connecting)


def max_concurrent(config: Config) -> int:
    return config.agent_defaults.max_concurrent or min(16, max(8, os.cpu_count() or 1))


class AgentRuntime:
    def __init__(self, paths: InstancePaths, config: Callable[[], Config], env: Mapping[str, str],
                 tools: ToolFactory | None = None, observer: Callable[[Run], None] | None = None,
                 prepare: Prepare | None = None) -> None:
        self.paths = paths
        self._config = config
        self.env = env
        self._tools = tools or (lambda _turn, _agent: [])
        self._observer = observer  # told of every run that ends (the gateway's diagnostics)
        self._prepare = prepare
        self.client = ModelClient(env)
        self._stores: dict[str, SessionStore] = {}
        self._lanes: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._active: dict[str, list[Run]] = {}  # session key -> its running and waiting runs
        self._global = asyncio.Semaphore(max_concurrent(config()))
        self.runs: OrderedDict[str, Run] = OrderedDict()
        self._maintained: dict[str, float] = {}  # agent id -> when its store was last maintained
        self._maintenance: asyncio.Task[Any] | None = None
        self._closing = False

    # -- what there is ---------------------------------------------------------------------------
    def config(self) -> Config:
        return self._config()

    def agent_id(self, requested: str | None) -> str:
        config = self.config()
        ids = [a.id for a in config.agents]
        if requested and requested not in ids:
            raise ModelError("config", f"unknown agent {requested!r} (agents: {', '.join(ids)})")
        return requested or config.default_agent_id

    def store(self, agent_id: str) -> SessionStore:
        if agent_id not in self._stores:
            self._stores[agent_id] = SessionStore(sessions_db_path(self.paths.state_dir, agent_id))
        return self._stores[agent_id]

    def workspace(self, agent_id: str) -> Path:
        return agent_workspace(self.config(), self.paths, dict(self.env), agent_id)

    def tools_for(self, turn_input: TurnInput, agent_id: str) -> list[Tool]:
        """The tools a run of `turn_input` would get (policy and sender applied)."""
        return select(self._tools(turn_input, agent_id), self.config(), agent_id, turn_input.operator)

    def busy(self, session_key: str) -> bool:
        return bool(self._active.get(session_key))

    # -- running ---------------------------------------------------------------------------------
    def submit(self, turn_input: TurnInput) -> Run:
        """Start (or queue) a run; returns at once. A known run id returns the existing run."""
        if turn_input.run_id and turn_input.run_id in self.runs:
            return self.runs[turn_input.run_id]
        agent_id = self.agent_id(turn_input.agent_id)
        run = Run(turn_input, agent_id)
        self._remember(run)
        key = turn_input.session_key
        if self._waiting.get(key, 0) >= MAX_QUEUED:
            run.finish("error", f"session {key} already has {MAX_QUEUED} messages waiting; try again shortly")
            return run
        self._active.setdefault(key, []).append(run)
        run.task = asyncio.ensure_future(self._lane(run))
        return run

    async def _lane(self, run: Run) -> None:
        key = run.session_key
        lane = self._lanes.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        queued = True
        try:
            async with lane:
                self._waiting[key] -= 1
                queued = False
                async with self._global:
                    await self._execute(run)
        except asyncio.CancelledError:
            run.finish("aborted", "aborted")  # stopped while it waited
        finally:
            if queued:
                self._waiting[key] -= 1
            active = self._active.get(key, [])
            if run in active:
                active.remove(run)
            if not active:  # nothing runs or waits in this session any more: forget its lane
                self._active.pop(key, None)
                self._lanes.pop(key, None)
                self._waiting.pop(key, None)
            self._forget_old()  # its reply now counts
            self._maybe_maintain(run.agent_id)
            if self._observer is not None:
                self._observer(run)

    def _maybe_maintain(self, agent_id: str) -> None:
        """Prune the agent's sessions now and then (`session.maintenance`), in the background."""
        now = asyncio.get_running_loop().time()
        last = self._maintained.get(agent_id)
        if self._closing or (last is not None and now - last < maintenance.INTERVAL_S) or (
                self._maintenance is not None and not self._maintenance.done()):
            return
        self._maintained[agent_id] = now
        self._maintenance = asyncio.ensure_future(self.maintain(agent_id))

    async def maintain(self, agent_id: str) -> list[str]:
        try:
            return await maintenance.maintain(self.store(agent_id), self.config(), frozenset(self._active), agent_id)
        except Exception as exc:  # noqa: BLE001 - maintenance never takes a turn down with it
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            logfile.warn(f"session maintenance failed for agent {agent_id}: {exc}", subsystem="sessions")
            return []

    async def _execute(self, run: Run) -> None:
        run.status_phase("preparing_workspace")
        limit = run.turn.timeout_s or self.config().agent_defaults.timeout_s
        try:
            found = await self.store(run.agent_id).find(run.session_key)
            # known from the start, as upstream's lifecycle events carry it; a new session gets this id
            run.session_id = found.session_id if found else (run.turn.session_id or str(uuid.uuid4()))
            run.status_phase("preparing_context")
            run.start()
            plan = await self._plan(run, found)
            async with asyncio.timeout(limit):
                await turn.execute(run, plan, self.store(run.agent_id), self.client)
        except TimeoutError:
            where = "its timeout" if run.turn.timeout_s else "agents.defaults.timeoutSeconds"
            run.finish("timeout", f"the run took longer than {where} ({limit:g}s)")
        except ModelError as exc:
            run.finish("error", str(exc))
        except asyncio.CancelledError:
            run.finish("aborted", "aborted")
            raise
        except Exception as exc:  # noqa: BLE001 - a run's failure is its own, never the gateway's
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            run.finish("error", f"{type(exc).__name__}: {exc}")
        else:
            run.finish("ok")

    async def _plan(self, run: Run, session: Session | None) -> Plan:
        config = self.config()
        override = run.turn.model
        if override is None:
            override = session.model_override if session else None
        refs, known = chain(config, self.env, run.agent_id, override)
        if not refs:
            raise ModelError("config", "no model is configured (set agents.defaults.model)")
        if self._prepare is not None:
            await self._prepare()
        tools = select(self._tools(run.turn, run.agent_id), config, run.agent_id, run.turn.operator)
        runtime = prompt.Runtime(self.paths.name, str(refs[0]), run.agent_id, run.turn.channel)
        workspace = self.workspace(run.agent_id)
        from openclaw.skills.snapshot import for_run  # loaded with the first turn, not at start

        skills = await for_run(self.paths, config, self.env, run.agent_id, workspace)
        memory = await self._memory_sections(run, session, workspace, {t.name for t in tools})
        caps = prompt.caps(config.agent_defaults.bootstrap_max_chars, config.agent_defaults.bootstrap_total_max_chars)
        return Plan(refs, known, workspace, tools, runtime, self.env, sections=skills.sections + memory,
                    tool_env=skills.env, readable=skills.folders, bootstrap=caps)

    async def _memory_sections(self, run: Run, session: Session | None, workspace: Path,
                               tools: set[str]) -> tuple[tuple[str, str], ...]:
        """Memory's part of the prompt; the index is brought up to date in the background."""
        from openclaw.memory.recall import sections
        from openclaw.memory.sessionnote import now_in
        from openclaw.memory.settings import search_settings, user_timezone

        config = self.config()
        if tools & {"memory_search", "memory_get"}:
            from openclaw.memory.registry import index_for

            index_for(self.paths.state_dir, run.agent_id, workspace, config, self.env).schedule()
        today = now_in(user_timezone(config)).date()
        fresh = session is None or session.entries == 0
        return await sections(workspace, tools, run.session_id, fresh, search_settings(config, run.agent_id).citations,
                              today)

    def abort(self, session_key: str) -> list[str]:
        """Stop the session's running run and drop those waiting; their ids."""
        stopped = []
        for run in list(self._active.get(session_key, [])):
            if run.task is not None and not run.task.done():
                run.stop_reason = "rpc"  # stopped on request, as upstream names it
                run.task.cancel()
                stopped.append(run.id)
        return stopped

    def _remember(self, run: Run) -> None:
        self.runs[run.id] = run
        self._forget_old()

    def _forget_old(self) -> None:
        """Finished runs go, oldest first, past REMEMBERED_RUNS or once their replies together pass
        REMEMBERED_TEXT (a repeat of a forgotten run's idempotency key runs it again)."""
        text = sum(len(r.text) for r in self.runs.values())
        while len(self.runs) > REMEMBERED_RUNS or text > REMEMBERED_TEXT:
            oldest = next(iter(self.runs.values()))
            if not oldest.finished:
                break
            text -= len(oldest.text)
            self.runs.popitem(last=False)

    async def close(self) -> None:
        self._closing = True
        for runs in list(self._active.values()):
            for run in runs:
                if run.task is not None:
                    run.task.cancel()
        tasks = [r.task for runs in self._active.values() for r in runs if r.task is not None]
        tasks += [self._maintenance] if self._maintenance is not None else []
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
        for store in self._stores.values():
            await store.close()
        await self.client.close()
        if "openclaw.memory.registry" in sys.modules:  # loaded only once memory was used
            await sys.modules["openclaw.memory.registry"].close_all()
