"""Chat commands on the gateway's own surfaces (`chat.send`, the `agent` method, `/v1`): a message
the command registry knows is answered by it, as a run that finishes at once with the answer as its
reply, so each surface keeps its usual shape and the model is never asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw.agents.run import Run
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.chat.commands import ChatCommand, Command, CommandRegistry, CommandReply, Sender, Surface
    from openclaw.gateway.state.context import GatewayContext


def make_registry() -> CommandRegistry:
    """The gateway's command registry with the chat commands; the services make it on first use
    (a gateway starts without the chat package)."""
    from openclaw.chat.builtin import chat_commands

    return chat_commands()


def find(gateway: GatewayContext, text: str, surface: Surface) -> tuple[ChatCommand, Command] | None:
    if not text.lstrip().startswith("/"):
        return None  # plain text (nearly every message): no need to load the registry
    return gateway.services.commands().lookup(text, surface)


def sender(who: str, where: str) -> Sender:
    """A caller of a gateway surface: one the gateway let in as an operator."""
    from openclaw.chat.commands import Sender

    return Sender(who, where, "operator")


async def answer(gateway: GatewayContext, found: tuple[ChatCommand, Command], who: Sender,
                 runtime: AgentRuntime, agent_id: str, key: str) -> CommandReply:
    """Run a command in session `key` of `agent_id` (the caller has a model: `runtime_for` said so)."""
    from openclaw.chat.commands import CommandCall

    entry, command = found
    call = CommandCall(command, who, gateway.settings.config, lambda: runtime, lambda _runtime: key, agent_id)
    return await gateway.services.commands().run(entry, call)


def answered_run(text: str, reply: CommandReply, agent_id: str, key: str, channel: str, run_id: str | None) -> Run:
    """A run for the command `text`, not yet started: `play` streams `reply` as its answer."""
    from openclaw.agents.run import Run, TurnInput

    run = Run(TurnInput(key, text, agent_id, operator=True, channel=channel, run_id=run_id), agent_id)
    run.session_id = reply.session_id
    return run


def play(run: Run, reply: CommandReply) -> Run:
    """Start, stream and finish `run` with `reply` (listeners see the events of a one-delta turn)."""
    run.start()
    run.text = reply.text
    run.emit("assistant", delta=reply.text)
    run.finish("ok")
    return run


def agent_result(run_id: str, reply: CommandReply, session_id: str | None) -> dict[str, Any]:
    """The `agent` method's answer to a command: its reply as a status notice, no model, no usage."""
    return {"runId": run_id, "status": "ok", "summary": "completed",
            "result": {"payloads": [{"text": reply.text, "isStatusNotice": True}],
                       "meta": {"durationMs": 0, "agentMeta": {"sessionId": reply.session_id or session_id}}}}
