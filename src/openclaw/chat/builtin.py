"""The chat commands every surface answers: `/new` (`/reset`), `/stop`, `/model`, `/whoami`, and a
channel's `/start` greeting. They act on the session the chat is in and never reach the model."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from openclaw.chat.commands import CHANNEL, ChatCommand, Command, CommandCall, CommandRegistry, CommandReply

GREETING = "Hi! I'm this host's OpenClaw gateway bot.\n\n"
HELP = Command("help", [], "")
MODEL_HELP = "/model <provider/model> changes it for this session, /model default goes back."


async def _new(call: CommandCall) -> CommandReply:
    call.agents.abort(call.session_key)
    store = call.agents.store(call.agent_id)
    saving = await _session_memory(call)
    session = await store.reset(call.session_key)
    if saving is not None:
        _background(saving)
    return CommandReply("New session started.", session_id=session.session_id)


_saving: set[asyncio.Task[Any]] = set()


def _background(work: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.ensure_future(work)
    _saving.add(task)
    task.add_done_callback(_saving.discard)


async def _session_memory(call: CommandCall) -> Coroutine[Any, Any, Any] | None:
    """The session-memory hook (when configured): the ending session's last messages, read before the
    reset, written to a dated note after it without holding up the reply."""
    from openclaw.memory.settings import hook_settings

    hook = hook_settings(call.config)
    if not hook.enabled:
        return None
    store = call.agents.store(call.agent_id)
    old = await store.find(call.session_key)
    if old is None:
        return None
    messages = [(m.role, m.content) for m in await store.history(old)]
    workspace = call.agents.workspace(call.agent_id)
    reason = f"/{call.command.name}"

    async def save() -> None:
        from openclaw import logfile
        from openclaw.memory import sessionnote

        try:
            path = await asyncio.to_thread(sessionnote.save, workspace, messages, hook.messages, call.session_key,
                                           old.session_id, reason, hook.user_timezone)
        except OSError as exc:
            logfile.warn(f"session-memory: could not save the session: {exc}", subsystem="memory")
            return
        if path is not None:
            logfile.info(f"Session context saved to {path}", subsystem="memory")

    return save()


async def _stop(call: CommandCall) -> CommandReply:
    stopped = call.agents.abort(call.session_key)
    return CommandReply("Stopped." if stopped else "Nothing is running.")


async def _whoami(call: CommandCall) -> CommandReply:
    s = call.sender
    key = call.session_key if call.model_configured else "-"
    name = f" (@{s.name})" if s.name else ""
    return CommandReply(f"You are {s.id}{name} on {s.where}; access: {s.access}; session: {key}")


async def _model(call: CommandCall) -> CommandReply:
    from openclaw.models.catalog import chain
    from openclaw.models.types import ModelError

    store, key = call.agents.store(call.agent_id), call.session_key
    if not call.command.args:
        session = await store.session(key)
        chosen = call.config.model_choice(call.agent_id)
        current = session.model_override or chosen.primary
        fallbacks = list(chosen.fallbacks)
        extra = f" (fallbacks: {', '.join(fallbacks)})" if fallbacks and not session.model_override else ""
        return CommandReply(f"Model: {current}{extra}. {MODEL_HELP}")
    if not call.operator:
        return CommandReply("Only this gateway's owners and allow-listed senders may change the model.", ok=False)
    choice = call.command.args[0]
    if choice == "default":
        await store.set_model(key, None)
        return CommandReply("Back to the default model.")
    try:
        refs, _ = chain(call.config, call.agents.env, call.agent_id, choice)
    except ModelError as exc:
        return CommandReply(str(exc), ok=False)
    await store.set_model(key, str(refs[0]))
    return CommandReply(f"This session now uses {refs[0]}.")


def chat_commands() -> CommandRegistry:
    """A registry holding the chat commands (roles add theirs at startup)."""
    registry = CommandRegistry()

    async def start(call: CommandCall) -> CommandReply:
        lines = [entry.help for entry in registry.entries(CHANNEL) if entry.name != "start"]
        helper = registry.match(HELP, CHANNEL)
        text = (await helper.handler(call.instead(HELP))).text if helper is not None else "\n".join(lines)
        return CommandReply(GREETING + text)

    registry.register(
        ChatCommand("new", "/new or /reset - a fresh conversation", _new, aliases=("reset",)),
        ChatCommand("stop", "/stop - stop the answer being written", _stop),
        ChatCommand("model", "/model [provider/model] - show or change this session's model", _model),
        ChatCommand("whoami", "/whoami - who this gateway thinks you are", _whoami, needs_model=False),
        ChatCommand("start", "/start - a greeting and the commands", start, needs_model=False,
                    surfaces=frozenset({CHANNEL}), accepts=lambda cmd: not cmd.args),
    )
    return registry

