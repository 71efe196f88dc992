"""The work of one run, top-down: prompt, history, model, tools, reply, persisted as it goes.

Each round asks the model; tool calls are run and their results fed back, up
to `MAX_TOOL_ROUNDS`. Every transcript entry is written when it happens (a
`kill -9` loses at most the entry in flight). When the conversation would not
fit the model's context window, older turns are summarised first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openclaw import memguard
from openclaw.agents import compaction, prompt
from openclaw.agents.plan import Plan
from openclaw.agents.run import Run
from openclaw.agents.sessions import Session, SessionStore
from openclaw.agents.tools import Tool, ToolContext, ToolError, clip
from openclaw.agents.transcript import Tokens
from openclaw.models.client import ModelClient
from openclaw.models.types import Completion, Message, ModelError, Request, ToolSpec

MAX_TOOL_ROUNDS = 16


async def execute(run: Run, plan: Plan, store: SessionStore, client: ModelClient) -> None:
    turn = run.turn
    session = await store.open_turn(turn.session_key, turn.chat_type, turn.origin, Message("user", turn.text),
                                    once=turn.resumed, session_id=run.session_id)
    run.session_id = session.session_id
    files = [] if run.turn.light_context else await prompt.workspace_files(plan.workspace, plan.bootstrap)
    system = prompt.build(files, plan.runtime, [t.name for t in plan.tools], plan.sections)
    if turn.extra_system:
        system += "\n\n## Instructions from the caller\n" + turn.extra_system
    history = await store.history(session)
    history = await compaction.fit(history, system, plan, store, session, client)
    tools = {t.name: t for t in plan.tools}
    context = ToolContext(plan.workspace, run.agent_id, run.session_key, turn.operator, plan.env, plan.tool_env,
                          plan.readable)

    async def on_text(delta: str) -> None:
        run.emit("assistant", delta=delta)

    compacted = False
    run.status_phase("starting_model")
    run.requested, run.report = str(plan.refs[0]), _report(plan, system, files)
    run.emit("lifecycle", phase="model", provider=plan.refs[0].provider, model=plan.refs[0].model)
    for round_ in range(MAX_TOOL_ROUNDS + 1):
        offer = tuple(t.spec for t in plan.tools) if round_ < MAX_TOOL_ROUNDS else ()
        try:
            completion = await client.complete(plan.refs, plan.known, _request(system, history, offer, plan), on_text)
        except ModelError as exc:
            if not compaction.overflowed(exc) or compacted:
                raise
            compacted = True  # once per run: a second overflow means the recent turns alone are too long
            history = await _compacted(exc, plan, store, session, client)  # asked again with what it left
            completion = await client.complete(plan.refs, plan.known, _request(system, history, offer, plan), on_text)
        run.usage.add(completion.usage)
        run.model = completion.model
        run.rounds, run.last_usage, run.finish_reason = run.rounds + 1, completion.usage, completion.stop_reason
        run.emit("usage", outputTokens=run.usage.output)
        reply = Message("assistant", completion.text, tuple(completion.tool_calls))
        history.append(reply)
        if not completion.tool_calls:  # the answer: stored with the turn's token counts in one trip
            usage = (run.usage.input, run.usage.output, compaction.estimate(history, system))
            await store.append(session, reply, usage=usage, model=run.model or None, tokens=_tokens(completion))
            run.text, run.silent = ("", True) if prompt.is_silent(completion.text) else (completion.text, False)
            return
        await store.append(session, reply, model=completion.model or None, tokens=_tokens(completion))
        for call in completion.tool_calls:
            run.emit("tool", phase="call", toolCallId=call.id, name=call.name, args=call.arguments)
            result, failed = await _use(tools.get(call.name), call.name, call.arguments, context)
            run.emit("tool", phase="result", toolCallId=call.id, name=call.name, isError=failed,
                     result=result[:2000])
            answer = Message("tool", result, tool_call_id=call.id, name=call.name)
            await store.append(session, answer)
            history.append(answer)
    await store.add_usage(session.key, run.usage.input, run.usage.output, compaction.estimate(history, system),
                          run.model or None)


def _report(plan: Plan, system: str, files: list[tuple[str, str]]) -> dict[str, Any]:
    """What the system prompt was made of, as upstream reports it (`systemPromptReport`)."""
    injected = [{"name": name, "path": str(plan.workspace / name), "missing": False, "injectedChars": len(text)}
                for name, text in files]
    report = {"workspaceDir": str(plan.workspace), "systemPrompt": {"chars": len(system)},
              "injectedWorkspaceFiles": injected, "tools": {"entries": [{"name": t.name} for t in plan.tools]}}
    if plan.sections:
        from openclaw.skills.listing import HEADING, prompt_report

        skills = dict(plan.sections).get(HEADING)
        if skills:
            report["skills"] = prompt_report(skills)
    return report


def _tokens(completion: Completion) -> Tokens:
    return Tokens(completion.usage.input, completion.usage.output)


def _request(system: str, history: list[Message], offer: tuple[ToolSpec, ...], plan: Plan) -> Request:
    return Request("", system, tuple(history), offer, plan.max_tokens)


async def _compacted(exc: ModelError, plan: Plan, store: SessionStore, session: Session,
                     client: ModelClient) -> list[Message]:
    """The history after a forced compaction, for asking again; the provider's error when there is
    nothing to compact."""
    shorter = await compaction.compact(plan, store, session, client)
    if shorter is None:
        raise ModelError("context_overflow", f"{exc} (the current turn alone is too long: nothing older to "
                                             "summarise; start a new session with /new or send less)", exc.status)
    return shorter


async def _use(tool: Tool | None, name: str, args: dict[str, Any], context: ToolContext) -> tuple[str, bool]:
    """(result text, failed): a missing tool or a failing one becomes text the model can read."""
    if tool is None:
        return f"error: no tool named {name!r} is available to you", True
    try:
        return clip(await tool.run(args, context)), False
    except asyncio.CancelledError:
        raise
    except ToolError as exc:
        return f"error: {exc}", True
    except Exception as exc:  # noqa: BLE001 - a broken tool is reported to the model, never crashes the run
        memguard.check(exc)  # a fleet member out of memory ends here (exit 75)
        return f"error: {name} failed: {type(exc).__name__}: {exc}", True
