"""Chat commands: one parser and one registry for every surface (channels, the Control UI's chat,
the `agent` method, the OpenAI-compatible API).

A message whose text starts with `/name` (or Telegram's `/name@bot`) is a command when the
registry knows the name on that surface; it is answered by its handler and never reaches the
model. The chat commands themselves (`chat.builtin`) and any a role adds at startup (the rescue
bot's operator commands) live in the same registry; each entry says who may run it, whether it
needs a model, and whether it acts on the host (run at most once, audited).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.config.view import Config

Access = Literal["anyone", "operator"]
Surface = Literal["channel", "webchat", "agent", "http"]  # channel messages, chat.send, `agent`, /v1
CHANNEL: Surface = "channel"
WEBCHAT: Surface = "webchat"
AGENT: Surface = "agent"
HTTP: Surface = "http"
EVERY_SURFACE: frozenset[Surface] = frozenset({CHANNEL, WEBCHAT, AGENT, HTTP})
NO_MODEL = ("No model is configured for this gateway yet, so I can't chat. "
            "Operator commands work without one: /help")
REFUSED = "Sorry, only this gateway's owners and allow-listed senders may run operator commands."


@dataclass(frozen=True)
class Command:
    """What a message asked for: `/name args...`."""
    name: str
    args: list[str]
    raw_args: str  # everything after the command, for values with spaces


def parse(text: str, bot_username: str | None = None) -> Command | None:
    """`/name[@bot] args...`; None for plain text or a command addressed to another bot."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, _, rest = stripped.partition(" ")
    name, _, at = head[1:].partition("@")
    if at and bot_username and at.lower() != bot_username.lower():
        return None
    return Command(name.lower(), rest.split(), rest.strip())


@dataclass(frozen=True)
class Sender:
    """Who sent a command, as its surface knows them (what `/whoami` reports)."""
    id: str
    where: str  # `telegram/default`, `webchat`, `gateway`, `http`
    access: str  # operator | chat | stranger
    name: str = ""
    channel: str = ""  # for the audit: the channel and account a command came through
    account: str = ""


class CommandCall:
    """One command being answered: the parsed command, its sender, and (lazily: the agent stack
    loads only when a command needs it) the agent runtime and the session the chat is in."""

    def __init__(self, command: Command, sender: Sender, config: Config,
                 agents: Callable[[], AgentRuntime] | None, session: Callable[[AgentRuntime], str],
                 agent: str | None = None) -> None:
        self.command, self.sender, self.config = command, sender, config
        self._agents, self._session, self._agent = agents, session, agent

    def instead(self, command: Command) -> CommandCall:
        """The same sender and chat asking for another command (`/start` shows what `/help` does)."""
        return CommandCall(command, self.sender, self.config, self._agents, self._session, self._agent)

    @property
    def operator(self) -> bool:
        return self.sender.access == "operator"

    @property
    def model_configured(self) -> bool:
        return self._agents is not None

    @cached_property
    def agents(self) -> AgentRuntime:
        if self._agents is None:
            raise RuntimeError("no model is configured: check model_configured first")
        return self._agents()

    @cached_property
    def agent_id(self) -> str:
        return self.agents.agent_id(self._agent)

    @cached_property
    def session_key(self) -> str:
        return self._session(self.agents)


@dataclass(frozen=True)
class CommandReply:
    text: str
    ok: bool = True
    session_id: str | None = None  # the session the chat is in after the command (set by /new)


Handler = Callable[[CommandCall], Awaitable[CommandReply]]
Auditor = Callable[[CommandCall, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True)
class ChatCommand:
    name: str
    help: str  # one line: `/name <args> - what it does`
    handler: Handler
    aliases: tuple[str, ...] = ()
    access: Access = "anyone"  # operator: owners and allow-listed senders (on a channel), operators elsewhere
    needs_model: bool = True
    surfaces: frozenset[Surface] = EVERY_SURFACE
    # Acts on the host (another instance): answered at most once (never again after a crash or a
    # stop), shown as typing while it runs, and audited whether it runs or is refused.
    operation: bool = False
    # Two commands may share a name when they take different arguments (`/stop` vs `/stop <profile>`).
    accepts: Callable[[Command], bool] | None = field(default=None, compare=False)


class CommandRegistry:
    """The commands this gateway answers; later registrations of a name are tried first."""

    def __init__(self) -> None:
        self._entries: list[ChatCommand] = []
        self._auditor: Auditor | None = None

    def register(self, *commands: ChatCommand) -> None:
        self._entries[:0] = reversed(commands)

    def audit_with(self, auditor: Auditor) -> None:
        """Where operations (and refused attempts) are recorded."""
        self._auditor = auditor

    def entries(self, surface: Surface) -> list[ChatCommand]:
        """In registration order: what a help text lists."""
        return [entry for entry in reversed(self._entries) if surface in entry.surfaces]

    def match(self, command: Command, surface: Surface) -> ChatCommand | None:
        for entry in self._entries:
            if (surface in entry.surfaces and command.name in (entry.name, *entry.aliases)
                    and (entry.accepts is None or entry.accepts(command))):
                return entry
        return None

    def lookup(
        self, text: str, surface: Surface, bot_username: str | None = None
    ) -> tuple[ChatCommand, Command] | None:
        """The registered command `text` invokes on `surface`, or None (plain text, or a name this
        surface does not know)."""
        command = parse(text, bot_username)
        entry = self.match(command, surface) if command is not None else None
        return (entry, command) if entry is not None and command is not None else None

    async def run(self, entry: ChatCommand, call: CommandCall) -> CommandReply:
        """Answer `call`: who may run it and whether a model is needed are checked here; an
        operation is audited, allowed or not."""
        if entry.needs_model and not call.model_configured:
            return CommandReply(NO_MODEL, ok=False)
        if entry.access == "operator" and not call.operator:
            if entry.operation:
                await self.audit(call, result="refused", reason="not an owner or allow-listed sender")
            return CommandReply(REFUSED, ok=False)
        reply = await entry.handler(call)
        if entry.operation:
            await self.audit(call, result="ok" if reply.ok else "failed", reply=reply.text[:500])
        return reply

    async def audit(self, call: CommandCall, **fields: str) -> None:
        if self._auditor is not None:
            record = {"command": f"/{call.command.name}", "args": call.command.raw_args[:200], **fields}
            await self._auditor(call, record)
