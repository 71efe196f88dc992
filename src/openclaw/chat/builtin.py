"""The chat commands every surface answers: `/new` (`/reset`), `/stop`, `/model`, `/whoami`, and a
channel's `/start` greeting. They act on the session the chat is in and never reach the model."""

from __future__ import annotations

from openclaw.chat.commands import CHANNEL, ChatCommand, Command, CommandCall, CommandRegistry, CommandReply

GREETING = "Hi! I'm this host's OpenClaw gateway bot.\n\n"
HELP = Command("help", [], "")
MODEL_HELP = "/model <provider/model> changes it for this session, /model default goes back."


async def _new(call: CommandCall) -> CommandReply:
    from openclaw.agents.resetnote import capture

    call.agents.abort(call.session_key)
    saving = await capture(call.agents, call.agent_id, call.session_key, f"/{call.command.name}")
    session = await call.agents.store(call.agent_id).reset(call.session_key)
    if saving is not None:
        saving.save_in_background()  # the session-memory hook's note
    return CommandReply("New session started.", session_id=session.session_id)


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

