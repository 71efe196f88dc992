"""Operator chat commands (`/status main`, `/rollback main`, ...): run, format a reply.

They are parsed and routed by the chat command registry (`rescue.chatcommands` registers them)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from openclaw.chat.commands import Command
from openclaw.config.store import parse_value
from openclaw.config.view import Config
from openclaw.logtail import format_log_line
from openclaw.rescue import operations as ops
from openclaw.rescue import survey
from openclaw.rescue.operations import Context, RescueError

HELP = """Operator commands (no model needed):
/gateways - every instance on this host
/status <profile> - running, health, port, config
/logs <profile> [lines] - the last log lines
/doctor <profile> - problems and their fixes
/config <profile> get <key>
/config <profile> set <key> <value> - validated and backed up
/rollback <profile> - restore the last-known-good config
/restart <profile>  /start <profile>  /stop <profile>
/help - this list
The default instance answers to main as well as default. With just one other instance on this
host the profile may be left out (except for /stop, which alone stops the assistant's answer).
With a model configured, anything else goes to the assistant:
/new or /reset - a fresh conversation, /stop - stop its answer,
/model [provider/model] - show or change its model, /whoami"""

SUBWORDS = {"config": {"get", "set"}}  # words that can follow a command whose profile was left out


def _target(ctx: Context, cmd: Command) -> tuple[ops.Target, list[str], str]:
    """The instance a command names and the words (and raw text) after that name. The profile may
    be left out when exactly one other instance exists: `/status`, `/logs 50`, `/config get k`."""
    first = cmd.args[0] if cmd.args else ""
    implicit = not first or first.isdigit() or first in SUBWORDS.get(cmd.name, set())
    if implicit and first not in ops.names(ctx.me, ctx.env):
        return ops.resolve_target("", ctx.me, ctx.targets, ctx.env), cmd.args, cmd.raw_args
    rest = cmd.raw_args.split(None, 1)
    return ops.resolve_target(first, ctx.me, ctx.targets, ctx.env), cmd.args[1:], rest[1] if len(rest) > 1 else ""


def _age(ts: float | None) -> str:
    if not ts:
        return "-"
    seconds = int(time.time() - ts)
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


def _gateways(ctx: Context, cmd: Command) -> str:
    lines = []
    for row in survey.rows(ctx.me, ctx.env):
        state = ("healthy" if row["healthy"] else "unhealthy") if row["running"] else "stopped"
        extra = f", pid {row['pid']}" if row["pid"] else ""
        clash = f", COLLIDES: {row['collisions'][0]['other'] or 'a listener'}" if row["collisions"] else ""
        this_bot = " (this bot)" if row["self"] else ""
        lines.append(f"{row['profile']}{this_bot}: {state}, port {row['base']}{extra}{clash}")
    return "\n".join(lines) or "no instances found"


def _status(ctx: Context, cmd: Command) -> str:
    s = ops.status(_target(ctx, cmd)[0])
    state = ("healthy" if s["healthy"] else "not answering") if s["running"] else "stopped"
    lines = [f"{s['profile']}: {state}" + (f" (pid {s['pid']})" if s["pid"] else ""), f"port: {s['port']}",
             f"service: {'installed' if s['service'] else 'none'}"]
    if not s["configExists"]:
        lines.append("config: missing")
    elif s["configValid"]:
        lines.append("config: valid")
    else:
        lines.append("config: INVALID")
        lines += [f"  - {issue}" for issue in s["configIssues"][:5]]
    return "\n".join(lines)


def _logs(ctx: Context, cmd: Command) -> str:
    target, words, _ = _target(ctx, cmd)
    count = int(words[0]) if words and words[0].isdigit() else 20
    lines = ops.logs(target, count)
    return "\n".join(format_log_line(line) for line in lines) or "(no log lines)"


def _doctor(ctx: Context, cmd: Command) -> str:
    report = ops.doctor(_target(ctx, cmd)[0])
    if not report.findings:
        return "no problems found"
    out = []
    for f in report.findings[:10]:
        out += [f"[{f.severity}] {f.what}", f"  fix: {f.fix}"]
    return "\n".join(out)


def _config(ctx: Context, cmd: Command) -> str:
    usage = "usage: /config [profile] get <key>  |  /config [profile] set <key> <value>"
    if not cmd.args:
        return usage
    target, words, raw = _target(ctx, cmd)
    if len(words) < 2 or words[0] not in ("get", "set") or (words[0] == "set" and len(words) < 3):
        return usage
    key = words[1]
    if words[0] == "get":
        value = ops.config_get(target, key)
        return f"{key} = {json.dumps(value, ensure_ascii=False)}"
    raw_value = raw.split(None, 2)[2]
    changed = ops.config_set(target, key, parse_value(raw_value, strict_json=False))
    if not changed:
        return f"{key} already has that value; nothing changed"
    return f"set {key} on {target.name} (previous file kept as openclaw.json.bak)"


def _rollback(ctx: Context, cmd: Command) -> str:
    target = _target(ctx, cmd)[0]
    good = ops.rollback(target)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(good.recorded_at))
    return f"restored {target.name}'s last-known-good config (recorded {when}); /restart {target.name} to apply"


def _lifecycle(op: Callable[[ops.Target], Awaitable[str]]) -> Callable[[Context, Command], Awaitable[str]]:
    async def run(ctx: Context, cmd: Command) -> str:
        return await op(_target(ctx, cmd)[0])

    return run


def _help(ctx: Context, cmd: Command) -> str:
    return HELP


COMMAND_TIMEOUT_S = 120.0  # above the longest step (a start waits 30 s for /healthz, a service call 30 s)

HANDLERS: dict[str, Callable[[Context, Command], Any]] = {
    "gateways": _gateways, "status": _status, "logs": _logs, "doctor": _doctor, "config": _config,
    "rollback": _rollback, "restart": _lifecycle(ops.restart), "start": _lifecycle(ops.start),
    "stop": _lifecycle(ops.stop), "help": _help,
}


async def run(ctx: Context, cmd: Command) -> tuple[bool, str]:
    """(ok, reply). Refusals and failures come back as a readable reply, never an exception."""
    from openclaw.rescue import cluster

    handler = (cluster.HANDLERS if cluster.active(ctx.env) else HANDLERS).get(cmd.name)
    if handler is None:
        return False, f"unknown command /{cmd.name}; /help lists them"
    try:
        # blocking handlers do I/O (files, subprocesses, HTTP probes of instances, possibly this one): off the loop
        work = handler(ctx, cmd) if asyncio.iscoroutinefunction(handler) else asyncio.to_thread(handler, ctx, cmd)
        return True, await asyncio.wait_for(work, COMMAND_TIMEOUT_S)
    except TimeoutError:
        return False, (f"/{cmd.name} did not finish within {COMMAND_TIMEOUT_S:.0f}s; "
                       "/gateways shows where things stand")
    except RescueError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - report, never crash the chat
        return False, f"/{cmd.name} failed: {exc}"


def targets_from(config: Config) -> list[str] | None:
    return config.rescue_targets
