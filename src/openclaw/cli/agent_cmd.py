"""`openclaw agent --message TEXT`: one turn with the agent, through the gateway or (`--local`) in-process."""

from __future__ import annotations

import uuid
from typing import Any

import click

from openclaw.cli.output import print_json
from openclaw.cli.rpc_common import call, connect, target_from
from openclaw.errors import OpenClawError
from openclaw.profiles.paths import resolve_paths

DEFAULT_WAIT_S = 600
CONNECT_TIMEOUT_MS = 10_000


def _session_key(config: dict[str, Any], agent: str | None, session_key: str | None, to: str | None) -> str | None:
    if session_key:
        return session_key
    if to:
        from openclaw.agents.keys import chat_key
        from openclaw.agents.roster import default_agent_id

        return chat_key(config, agent or default_agent_id(config), "cli", "default", True, to, to)
    return None


def _wait_s(config: dict[str, Any], timeout: int | None) -> int:
    if timeout is not None:
        return timeout
    value = ((config.get("agents") or {}).get("defaults") or {}).get("timeoutSeconds")
    return value if isinstance(value, int) and value > 0 else DEFAULT_WAIT_S


@click.command(help="Send one message to the agent and print its reply.")
@click.option("--message", "-m", required=True, help="What to say.")
@click.option("--agent", "agent_id", help="Agent id (default: the default agent).")
@click.option("--session-id", help="Continue the session with this id.")
@click.option("--session-key", help="Use this session key (e.g. agent:main:main).")
@click.option("--to", help="A recipient: its own session under session.dmScope.")
@click.option("--model", help="A model for this turn only (provider/model).")
@click.option("--local", is_flag=True, help="Run the turn in this process instead of through the gateway.")
@click.option("--timeout", "agent_timeout", type=click.IntRange(0), default=None,
              help="Seconds to wait for the reply, 0 for no limit (default: agents.defaults.timeoutSeconds, else 600).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole response as JSON.")
@click.option("--url", help="Gateway URL, e.g. ws://127.0.0.1:19789 (credentials must be explicit).")
@click.option("--token", help="Gateway token (default: the profile's).")
@click.option("--password", help="Gateway password (default: the profile's).")
def agent(message: str, agent_id: str | None, session_id: str | None, session_key: str | None, to: str | None,
          model: str | None, local: bool, agent_timeout: int | None, as_json: bool, url: str | None, token: str | None,
          password: str | None) -> None:
    from openclaw.config.store import load_valid_config, read_resolved

    paths = resolve_paths()
    config = load_valid_config(paths.config_path).resolved if local else read_resolved(paths.config_path)
    key = _session_key(config, agent_id, session_key, to)
    wait_s = _wait_s(config, agent_timeout)
    if local:
        response = _local(paths, config, message, agent_id, key, session_id, model, wait_s)
    else:
        target = target_from(url, token, password)
        params: dict[str, Any] = {"message": message, "idempotencyKey": str(uuid.uuid4())}
        for name, value in (("agentId", agent_id), ("sessionKey", key), ("sessionId", session_id), ("model", model)):
            if value:
                params[name] = value
        if wait_s:
            params["timeout"] = wait_s
        client = connect(target, CONNECT_TIMEOUT_MS, scopes=["operator.admin", "operator.write", "operator.read"])
        try:
            client.timeout = (wait_s + 30) if wait_s else 10 ** 9
            response = call(client, target, "agent", params, expect_final=True)
        finally:
            client.close()
    _report(response, as_json)


def _report(response: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(response)
    else:
        payloads = (response.get("result") or {}).get("payloads") or []
        for payload in payloads:
            if payload.get("text"):
                click.echo(payload["text"].rstrip())
        if not payloads and response.get("status") == "ok":
            click.echo("(no reply: the agent chose to stay silent)")
    if response.get("status") != "ok":
        raise OpenClawError(f"the agent run ended {response.get('status')}: {response.get('summary')}")


def _local(paths: Any, config: dict[str, Any], message: str, agent_id: str | None, key: str | None,
           session_id: str | None, model: str | None, wait_s: int) -> dict[str, Any]:
    import asyncio
    import os

    from openclaw.agents.keys import main_key
    from openclaw.agents.run import TurnInput
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.runstream import final_payload
    from openclaw.tools import toolset

    env = dict(os.environ)

    async def run() -> dict[str, Any]:
        runtime = AgentRuntime(paths, lambda: config, env, lambda _t, _a: toolset(paths, lambda: config))
        try:
            agent = runtime.agent_id(agent_id)
            session = key
            if session_id and not session:
                found = await runtime.store(agent).by_session_id(session_id)
                session = found.key if found else None
            turn = runtime.submit(TurnInput(session or main_key(config, agent), message, agent, operator=True,
                                            channel="cli", model=model))
            await asyncio.wait_for(turn.done, wait_s or None)
            return final_payload(turn)
        finally:
            await runtime.close()

    from openclaw.models.types import ModelError

    try:
        return asyncio.run(run())
    except ModelError as exc:
        raise OpenClawError(str(exc)) from None
