"""The one consumer of the message bus: a command goes to the command registry (the chat
commands, and the operator commands a rescue role registers), everything else to the agent
(`chat.conversation`).

Each message is handled in its own task (at most `MAX_CONCURRENT` at once), so a
slow operation in one chat never holds up another. Every operation (a command
acting on the host), allowed or refused, is audited; operations need no model.

A message is settled (`InboundMessage.settle`: its channel may forget it) once
it is answered: a turn's reply sent, or a short answer given. A message whose
handling a stop cuts short is not settled, so the channel answers it after the
restart. Operations are settled before they run: they act on the host, and one
that stopped this very gateway must not run again at every start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from openclaw import logfile, memguard
from openclaw.channels.messages import STRANGER
from openclaw.chat.commands import CHANNEL, CommandRegistry, parse
from openclaw.chat.conversation import Conversations
from openclaw.config.view import Config

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.channels.bus import MessageBus
    from openclaw.channels.messages import InboundMessage

MAX_CONCURRENT = 32


class Dispatcher:
    def __init__(self, bus: MessageBus, commands: CommandRegistry, config: Callable[[], Config],
                 agents: Callable[[], AgentRuntime]) -> None:
        self.bus = bus
        self.commands = commands
        self.chat = Conversations(bus, commands, config, agents)
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Cut short what is running (not settled: answered after the restart); let the settlements of
        what was answered reach the disk."""
        await self.chat.close()
        for task in [self._loop, *self._tasks]:
            if task is not None:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*(t for t in [self._loop, *self._tasks] if t is not None), return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            msg = await self.bus.receive()
            await self._slots.acquire()
            task = asyncio.ensure_future(self._handle_safely(msg))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _handle_safely(self, msg: InboundMessage) -> None:
        delivery = None
        try:
            delivery = await self.handle(msg)
        except asyncio.CancelledError:
            raise  # stopped: not settled
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
            memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
            logfile.error(f"{msg.channel}/{msg.account}: handling a message failed: {exc!r}", subsystem="dispatch")
        if delivery is None:
            await self._settle(msg)
        else:
            delivery.add_done_callback(lambda task: self._delivered(msg, task))

    def _delivered(self, msg: InboundMessage, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return  # stopped before the reply went out: answered after the restart
        if task.exception() is not None:
            logfile.error(f"{msg.channel}/{msg.account}: delivering a reply failed: {task.exception()!r}",
                          subsystem="dispatch")
        settling = asyncio.ensure_future(self._settle(msg))  # waited for by stop(), never cancelled
        self._settling.add(settling)
        settling.add_done_callback(self._settling.discard)

    @staticmethod
    async def _settle(msg: InboundMessage) -> None:
        if msg.settle is None:
            return
        try:
            await msg.settle()
        except OSError as exc:  # the disk: the message may be answered again after a restart
            logfile.error(f"{msg.channel}/{msg.account}: could not record an answered message: {exc}",
                          subsystem="dispatch")

    async def handle(self, msg: InboundMessage) -> asyncio.Task[None] | None:
        """Answer `msg`; a turn's reply is delivered later by the task returned."""
        cmd = parse(msg.text, msg.bot_username)
        if msg.access == STRANGER:
            if cmd is not None:  # the channel has given them a pairing code; a command they tried is on record
                await self.commands.audit(self.chat.call(msg, cmd), result="refused", reason="not paired")
            return None
        if cmd is None:
            return await self.chat.handle(msg)
        entry = self.commands.match(cmd, CHANNEL)
        if entry is None:
            await self.bus.send(msg.reply(f"unknown command /{cmd.name}; /help lists them"))
            return None
        if entry.operation:
            await self._settle(msg)  # at most once: never run again after a crash or a stop
            if msg.operator:
                await self.bus.typing(msg.channel, msg.account, msg.chat_id, msg.thread_id)
        await self.chat.command(msg, entry, cmd)
        return None
