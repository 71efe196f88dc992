"""`openclaw agent --message TEXT`: one turn with the agent, through the gateway or (`--local`) in-process.

Like upstream: a completed turn exits 0, an error, timeout or abort exits 1 after
the reply (or JSON) is printed; Ctrl-C aborts an accepted run on the gateway;
`--local` takes the state dir's lock, so it never runs beside a gateway.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from openclaw.cli.output import print_json
from openclaw.config.view import Config
from openclaw.errors import OpenClawError, UsageError
from openclaw.profiles.paths import InstancePaths, resolve_paths

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime

DEFAULT_WAIT_S = 600  # this command's deadline when agents.defaults.timeoutSeconds is unset
CONNECT_TIMEOUT_MS = 10_000
MAX_MESSAGE_FILE = 4 * 1024 * 1024
UNSCOPED_KEYS = ("global", "unknown")


def read_message(message: str | None, message_file: str | None) -> str:
    if (message is None) == (message_file is None):
        raise UsageError("pass exactly one of --message or --message-file")
    if message is not None:
        return message
    path = Path(message_file or "")
    try:
        if path.stat().st_size > MAX_MESSAGE_FILE:
            raise UsageError(f"--message-file {path}: larger than 4 MiB")
        return path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except OSError as exc:
        raise UsageError(f"--message-file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--message-file {path}: not UTF-8 text") from None


def session_key_for(config: Config, agent: str | None, session_key: str | None, to: str | None) -> str | None:
    """The session a turn goes to: `--session-key` (a bare key is scoped to the agent), else the
    recipient's under `session.dmScope`, else None (the gateway uses the agent's main session)."""
    for flag, value in (("--agent", agent), ("--session-key", session_key), ("--to", to)):
        if value is not None and not value.strip():
            raise UsageError(f"{flag} is blank; leave it out or give a value")
    if session_key:
        if session_key.startswith("agent:"):
            owner = session_key.split(":")[1]
            if agent and agent != owner:
                raise UsageError(f"--agent {agent} does not match the session key's agent ({owner})")
            return session_key
        if session_key in UNSCOPED_KEYS and not agent:
            return session_key
        return f"agent:{agent or config.default_agent_id}:{session_key}"
    if to:
        from openclaw.agents.keys import chat_key

        return chat_key(config, agent or config.default_agent_id, "cli", "default", True, to, to)
    return None


def _wait_s(config: Config, timeout: int | None) -> int:
    if timeout is not None:
        return timeout
    value = config.get("agents", "defaults", "timeoutSeconds")
    return value if isinstance(value, int) and value > 0 else DEFAULT_WAIT_S


@click.command(help="Send one message to the agent and print its reply.")
@click.option("--message", "-m", help="What to say.")
@click.option("--message-file", help="Read the message from this UTF-8 file (at most 4 MiB).")
@click.option("--agent", "agent_id", help="Agent id (default: the default agent).")
@click.option("--session-id", help="The session with this id; if none has it, a new one (agent:<id>:explicit:<id>).")
@click.option("--session-key", help="Use this session (agent:<id>:<key>, or a bare key scoped to the agent).")
@click.option("--to", "-t", help="A recipient: its own session under session.dmScope.")
@click.option("--model", help="A model for this turn only (provider/model).")
@click.option("--local", is_flag=True, help="Run the turn in this process (the gateway must not be running).")
@click.option("--timeout", "agent_timeout", type=click.IntRange(0), default=None,
              help="Seconds to wait for the reply, 0 for no limit (default: agents.defaults.timeoutSeconds, else 600).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole response as JSON.")
@click.option("--url", help="Gateway URL, e.g. ws://127.0.0.1:19789 (credentials must be explicit).")
@click.option("--token", help="Gateway token (default: the profile's).")
@click.option("--password", help="Gateway password (default: the profile's).")
def agent(message: str | None, message_file: str | None, agent_id: str | None, session_id: str | None,
          session_key: str | None, to: str | None, model: str | None, local: bool, agent_timeout: int | None,
          as_json: bool, url: str | None, token: str | None, password: str | None) -> None:
    from openclaw.config.store import load_valid_config, read_view

    text = read_message(message, message_file)
    paths = resolve_paths(os.environ)
    config = (load_valid_config(paths.config_path, os.environ).view() if local
              else read_view(paths.config_path, os.environ))
    key = session_key_for(config, agent_id, session_key, to)
    wait_s = _wait_s(config, agent_timeout)
    request = {"message": text, "agentId": agent_id, "sessionKey": key, "sessionId": session_id, "model": model}
    if local:
        response = _local(paths, config, request, wait_s)
    else:
        response = _through_gateway(url, token, password, request, wait_s)
    _report(response, as_json)


def _through_gateway(url: str | None, token: str | None, password: str | None, request: dict[str, Any],
                     wait_s: int) -> dict[str, Any]:
    from openclaw.cli.rpc_common import connect, target_from
    from openclaw.client.rpc import GatewayCallError, GatewayUnreachable

    target = target_from(url, token, password)
    params = {k: v for k, v in request.items() if v} | {"idempotencyKey": str(uuid.uuid4())}
    if wait_s:
        params["timeout"] = wait_s
    client = connect(target, CONNECT_TIMEOUT_MS, scopes=["operator.admin", "operator.write", "operator.read"])
    client.timeout = (wait_s + 30) if wait_s else 10 ** 9
    try:
        reply = client.call("agent", params, expect_final=True)
        if not isinstance(reply, dict):
            raise OpenClawError("the gateway's answer to the turn is not an object")
        return reply
    except KeyboardInterrupt:
        _abort(client, params)
        raise SystemExit(130) from None
    except GatewayCallError as exc:
        raise OpenClawError(f"the gateway refused the turn: {exc}") from None
    except GatewayUnreachable as exc:
        accepted = (client.accepted or {}).get("runId")
        if not accepted:
            from openclaw.cli.rpc_common import down_error

            raise down_error(target, exc) from None
        raise OpenClawError(f"lost the gateway after it accepted run {accepted} ({exc.reason}); it may still "
                            "finish: check `openclaw gateway status` and `openclaw sessions` before retrying") from None
    finally:
        client.close()


def _abort(client: Any, params: dict[str, Any]) -> None:
    """Ctrl-C: stop the run we started, so it does not go on answering nobody."""
    accepted = client.accepted or {}
    if not accepted.get("runId"):
        return
    client.timeout = 5
    try:
        client.call("chat.abort", {"sessionKey": params.get("sessionKey") or accepted.get("sessionKey") or "main",
                                   "runId": accepted["runId"], **({"agentId": params["agentId"]}
                                                                  if params.get("agentId") else {})})
        click.echo(f"aborted run {accepted['runId']}", err=True)
    except Exception:  # noqa: BLE001 - best effort on the way out
        click.echo(f"could not abort run {accepted['runId']}; it may still finish", err=True)


def _report(response: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(response)
    else:
        payloads = (response.get("result") or {}).get("payloads") or []
        for payload in payloads:
            if payload.get("text"):
                click.echo(payload["text"].rstrip())
        if not payloads and response.get("status") == "ok":
            click.echo("(no reply: the agent chose to stay silent)", err=True)
    if response.get("status") != "ok":
        if as_json:
            raise SystemExit(1)  # the response above is the whole report: stdout stays one JSON document
        raise OpenClawError(f"the agent run ended {response.get('status')}: {response.get('summary')}")


def _local(paths: InstancePaths, config: Config, request: dict[str, Any], wait_s: int) -> dict[str, Any]:
    import asyncio
    import os

    from openclaw.models.types import ModelError

    lock = _state_lock(paths)
    try:
        return asyncio.run(_local_turn(paths, config, dict(os.environ), request, wait_s))
    except ModelError as exc:
        raise OpenClawError(str(exc)) from None
    finally:
        lock.release(remove=True)


def _state_lock(paths: InstancePaths) -> Any:
    """The gateway's state-dir lock: one runtime writes this instance's sessions at a time."""
    import json
    import os

    from openclaw.fsutil import FileLock, ensure_private_dir
    from openclaw.procutil import self_marker
    from openclaw.profiles.lockfiles import read_owner, state_lock_path

    ensure_private_dir(paths.lock_dir)
    lock = FileLock(state_lock_path(paths))
    if not lock.try_acquire():
        pid = (read_owner(lock.path) or {}).get("pid", "unknown")
        raise OpenClawError(f"the gateway (pid {pid}) owns {paths.state_dir}; run without --local to use it, "
                            "or stop it first (openclaw gateway stop)")
    lock.write(json.dumps({"pid": os.getpid(), "startMarker": self_marker(), "role": "agent --local",
                           "stateDir": str(paths.state_dir)}) + "\n")
    return lock


async def _local_command(
    runtime: AgentRuntime, config: Config, agent: str, key: str, text: str
) -> dict[str, Any] | None:
    """A chat command (`/new`, `/whoami`, ...) answered as the gateway answers it; None for a turn."""
    from openclaw.chat.builtin import chat_commands
    from openclaw.chat.commands import AGENT, CommandCall, Sender
    from openclaw.gateway.state.chatcommands import agent_result

    registry = chat_commands()
    found = registry.lookup(text, AGENT)
    if found is None:
        return None
    call = CommandCall(found[1], Sender("cli", "cli (--local)", "operator"), config, lambda: runtime,
                       lambda _runtime: key, agent)
    reply = await registry.run(found[0], call)
    session = await runtime.store(agent).find(key)
    return agent_result(str(uuid.uuid4()), reply, session.session_id if session else None)


async def _local_turn(paths: InstancePaths, config: Config, env: dict[str, str], request: dict[str, Any],
                      wait_s: int) -> dict[str, Any]:
    from openclaw.agents.run import TurnInput
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.state.agentresult import final_payload
    from openclaw.gateway.state.runstream import turn_session
    from openclaw.tools import toolset

    mcp = None
    if config.part("mcp", "servers"):  # this run's own MCP servers, stopped with it
        from openclaw.mcp.manager import McpManager

        mcp = McpManager(paths, lambda: config, env)
    runtime = AgentRuntime(paths, lambda: config, env,
                           lambda _t, _a: toolset(paths, lambda: config, env, mcp=(lambda: mcp) if mcp else None),
                           prepare=mcp.ready if mcp else None)
    try:
        agent, key, new_id = await turn_session(runtime, request["agentId"], request["sessionKey"],
                                                request["sessionId"])
        answered = await _local_command(runtime, config, agent, key, request["message"])
        if answered is not None:
            return answered
        turn = runtime.submit(TurnInput(key, request["message"], agent, operator=True,
                                        channel="cli", model=request["model"], timeout_s=wait_s or None,
                                        session_id=new_id))
        await turn.done
        return final_payload(turn)
    finally:
        await runtime.close()
        if mcp is not None:
            await mcp.close()
