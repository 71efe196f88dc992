"""Channel messages that are not operator commands: the agent answers them.

A message becomes a run in its chat's session (`agent:main:main` for DMs by
default, one per group); while it runs the chat shows the typing hint; the
reply goes back through the bus, split by the channel. A silent (`NO_REPLY`)
run sends nothing; a failed one says why in a direct chat and stays quiet in
a group. `/new` and `/reset` start a fresh session, `/stop` aborts,
`/model [ref]` shows or (owners) sets the session's model, `/whoami` tells a
sender what the gateway knows of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openclaw import logfile

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.base import InboundMessage
    from openclaw.channels.bus import MessageBus
    from openclaw.config.view import Config
    from openclaw.rescue.commands import Command

CHAT_COMMANDS = {"new", "reset", "stop", "model", "whoami"}
TYPING_EVERY_S = 4.0  # Telegram shows "typing" for about five seconds per request
NO_MODEL = ("No model is configured for this gateway yet, so I can't chat. "
            "Operator commands work without one: /help")


class Conversations:
    def __init__(self, bus: MessageBus, config: Callable[[], Config],
                 agents: Callable[[], AgentRuntime]) -> None:
        self.bus = bus
        self._config = config
        self._agents = agents
        self._deliveries: set[asyncio.Task[None]] = set()

    def model_configured(self) -> bool:
        return self._config().model_choice().primary is not None

    def session_key(self, msg: InboundMessage) -> str:
        from openclaw.agents.keys import chat_key

        runtime = self._agents()
        return chat_key(self._config(), runtime.agent_id(None), msg.channel, msg.account, msg.direct,
                        msg.sender_id, msg.chat_id)

    async def handle(self, msg: InboundMessage, cmd: Command | None) -> asyncio.Task[None] | None:
        """Answer `msg`; a turn's reply is delivered later by the task returned (None: answered)."""
        if cmd is not None:
            await self._command(msg, cmd)
        elif not self.model_configured():
            await self.bus.send(msg.reply(NO_MODEL))
        else:
            return self._answer(msg)
        return None

    def _answer(self, msg: InboundMessage) -> asyncio.Task[None]:
        from openclaw.agents.run import TurnInput

        runtime = self._agents()
        run = runtime.submit(TurnInput(
            self.session_key(msg), msg.text, operator=msg.operator, channel=msg.channel,
            chat_type="direct" if msg.direct else "group",
            origin={"channel": msg.channel, "accountId": msg.account, "from": msg.sender_id,
                    "to": str(msg.chat_id), "chatType": msg.chat_type}, resumed=msg.resumed,
        ))
        task = asyncio.ensure_future(self._deliver(msg, run))  # not under the dispatcher's slots: runs can be long
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
        return task

    async def _deliver(self, msg: InboundMessage, run: Run) -> None:
        while not run.finished:
            await self.bus.typing(msg.channel, msg.account, msg.chat_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(run.done), TYPING_EVERY_S)
        if run.status == "ok":
            if run.text and not run.silent:
                await self.bus.send(msg.reply(run.text))
        elif run.status != "aborted":
            logfile.warn(f"agent run {run.id} for {run.session_key} ended {run.status}: {run.error}",
                         subsystem="agent")
            if msg.direct:
                await self.bus.send(msg.reply(f"Sorry, I couldn't answer that: {run.error}"))

    async def _command(self, msg: InboundMessage, cmd: Command) -> None:
        if cmd.name == "whoami":
            key = self.session_key(msg) if self.model_configured() else "-"
            await self.bus.send(msg.reply(f"You are {msg.sender_id}" + (f" (@{msg.sender_name})" if msg.sender_name else "")
                                          + f" on {msg.channel}/{msg.account}; access: {msg.access}; session: {key}"))
            return
        if not self.model_configured():
            await self.bus.send(msg.reply(NO_MODEL))
            return
        runtime, key = self._agents(), self.session_key(msg)
        store = runtime.store(runtime.agent_id(None))
        if cmd.name in ("new", "reset"):
            runtime.abort(key)
            await store.reset(key)
            await self.bus.send(msg.reply("New session started."))
        elif cmd.name == "stop":
            stopped = runtime.abort(key)
            await self.bus.send(msg.reply("Stopped." if stopped else "Nothing is running."))
        elif cmd.name == "model":
            await self._model(msg, cmd, runtime, store, key)

    async def _model(self, msg: InboundMessage, cmd: Command, runtime: AgentRuntime, store: Any, key: str) -> None:
        from openclaw.models.catalog import chain
        from openclaw.models.types import ModelError

        session = await store.session(key)
        if not cmd.args:
            chosen = self._config().model_choice(runtime.agent_id(None))
            primary, fallbacks = chosen.primary, list(chosen.fallbacks)
            current = session.model_override or primary
            extra = f" (fallbacks: {', '.join(fallbacks)})" if fallbacks and not session.model_override else ""
            await self.bus.send(msg.reply(f"Model: {current}{extra}. /model <provider/model> changes it "
                                          "for this session, /model default goes back."))
            return
        if not msg.operator:
            await self.bus.send(msg.reply("Only this gateway's owners and allow-listed senders may change the model."))
            return
        choice = cmd.args[0]
        if choice == "default":
            await store.set_model(key, None)
            await self.bus.send(msg.reply("Back to the default model."))
            return
        try:
            refs, _ = chain(self._config(), runtime.env, runtime.agent_id(None), choice)
        except ModelError as exc:
            await self.bus.send(msg.reply(str(exc)))
            return
        await store.set_model(key, str(refs[0]))
        await self.bus.send(msg.reply(f"This session now uses {refs[0]}."))

    async def close(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
