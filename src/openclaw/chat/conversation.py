"""Channel messages: plain text is a turn for the agent, a command is answered by the registry.

A message becomes a run in its chat's session (`agent:main:main` for DMs by
default, one per group); while it runs the chat shows the typing hint; the
reply goes back through the bus, split by the channel. A silent (`NO_REPLY`)
run sends nothing; a failed one says why in a direct chat and stays quiet in
a group. A chat command (`chat.builtin`) acts on the same session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from openclaw import logfile
from openclaw.chat.commands import NO_MODEL, ChatCommand, Command, CommandCall, CommandRegistry, Sender

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.bus import MessageBus
    from openclaw.channels.messages import InboundMessage
    from openclaw.config.view import Config

TYPING_EVERY_S = 4.0  # Telegram shows "typing" for about five seconds per request


class Conversations:
    def __init__(self, bus: MessageBus, commands: CommandRegistry, config: Callable[[], Config],
                 agents: Callable[[], AgentRuntime]) -> None:
        self.bus = bus
        self.commands = commands
        self._config = config
        self._agents = agents
        self._deliveries: set[asyncio.Task[None]] = set()

    def model_configured(self) -> bool:
        return self._config().model_choice().primary is not None

    def session_key(self, msg: InboundMessage, runtime: AgentRuntime) -> str:
        from openclaw.agents.keys import chat_key

        return chat_key(self._config(), runtime.agent_id(None), msg.channel, msg.account, msg.direct,
                        msg.sender_id, msg.chat_id, msg.thread_id,
                        "channel" if msg.chat_type == "channel" else "group")

    def turn_key(self, msg: InboundMessage, runtime: AgentRuntime) -> str:
        """The session a plain message runs in: one the channel named for it, else its chat's."""
        from openclaw.agents.keys import named_key

        return named_key(runtime.agent_id(None), msg.session) if msg.session else self.session_key(msg, runtime)

    def call(self, msg: InboundMessage, cmd: Command) -> CommandCall:
        """`cmd` as the registry answers it: sent by this chat's sender, in this chat's session."""
        sender = Sender(msg.sender_id, f"{msg.channel}/{msg.account}", msg.access, msg.sender_name,
                        channel=msg.channel, account=msg.account)
        return CommandCall(cmd, sender, self._config(), self._agents if self.model_configured() else None,
                           lambda runtime: self.session_key(msg, runtime))

    async def handle(self, msg: InboundMessage) -> asyncio.Task[None] | None:
        """Answer a plain message; a turn's reply is delivered later by the task returned (None: answered)."""
        if not self.model_configured():
            await self.bus.send(msg.reply(NO_MODEL))
            return None
        return self._answer(msg)

    async def command(self, msg: InboundMessage, entry: ChatCommand, cmd: Command) -> None:
        reply = await self.commands.run(entry, self.call(msg, cmd))
        await self.bus.send(msg.reply(reply.text))

    def _answer(self, msg: InboundMessage) -> asyncio.Task[None]:
        from openclaw.agents.run import TurnInput

        runtime = self._agents()
        run = runtime.submit(TurnInput(
            self.turn_key(msg, runtime), msg.text, operator=msg.operator, channel=msg.channel,
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
            await self.bus.typing(msg.channel, msg.account, msg.chat_id, msg.thread_id)
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

    async def close(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
