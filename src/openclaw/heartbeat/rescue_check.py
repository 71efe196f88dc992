"""A rescue instance's heartbeat: look at each instance it may act on (`rescue.targets`) with the
rescue operations and say, in one short line each, what is wrong and the command that fixes it.
Nothing wrong: nothing to say, and no model is needed to find that out."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from openclaw.config.view import Config
from openclaw.profiles.paths import InstancePaths
from openclaw.rescue import operations as ops

MAX_FINDINGS = 10
CHECK_TIMEOUT_S = 30.0  # every target's health probe has its own shorter limit


def _host_findings(me: InstancePaths, allowed: list[str] | None, env: Mapping[str, str]) -> list[str]:
    """Blocking: reads the targets' configs and registry records, probes their health."""
    from openclaw.ports.instances import discover_instances

    out = []
    mine = os.path.abspath(me.state_dir)
    for inst in discover_instances(me.home, env):
        if os.path.abspath(inst.state_dir) == mine or not ops.may_target(inst, allowed):
            continue
        s = ops.status(ops.Target(inst.name, inst.paths(me.home), env))
        name = s["profile"]
        if not s["configExists"]:
            continue  # a state dir without a config is no gateway to watch
        if not s["configValid"]:
            issue = s["configIssues"][0] if s["configIssues"] else "see /doctor"
            out.append(f"{name}: config is invalid ({issue}). Fix: /rollback {name}, or /config {name} set <key> "
                       f"<value>; on the host: openclaw --profile {name} config validate")
        elif not s["running"]:
            out.append(f"{name}: gateway is stopped. Fix: /start {name} (on the host: "
                       f"openclaw --profile {name} gateway start)")
        elif not s["healthy"]:
            out.append(f"{name}: gateway runs (pid {s['pid']}) but does not answer on port {s['port']}. "
                       f"Fix: /restart {name}; see /logs {name}")
    return out[:MAX_FINDINGS]


async def _cluster_findings(me: InstancePaths, env: Mapping[str, str]) -> list[str]:
    from openclaw.rescue import cluster

    out = []
    for row in await cluster.rows(me.name, env):
        if row.get("self"):
            continue
        name = row["profile"]
        if row.get("error"):
            out.append(f"{name}: cannot be checked ({row['error']}). See /status {name}")
        elif not row.get("running"):
            out.append(f"{name}: no pod is ready. Fix: /start {name}")
        elif not row.get("healthy"):
            out.append(f"{name}: its pod runs but the gateway does not answer. Fix: /restart {name}")
    return out[:MAX_FINDINGS]


async def findings(me: InstancePaths, config: Config, env: Mapping[str, str]) -> list[str]:
    """What is wrong with this rescue instance's targets ([] when all are healthy)."""
    from openclaw.rescue import cluster

    if cluster.active(env):
        work = _cluster_findings(me, env)
    else:
        work = asyncio.to_thread(_host_findings, me, config.rescue_targets, env)
    try:
        return await asyncio.wait_for(work, CHECK_TIMEOUT_S)
    except TimeoutError:
        return [f"the check of this bot's targets took longer than {CHECK_TIMEOUT_S:g}s; see /gateways"]


def report(found: list[str]) -> str:
    """The message for the operator: one line per problem."""
    head = "Rescue check: something needs attention." if len(found) == 1 else \
        f"Rescue check: {len(found)} things need attention."
    return "\n".join([head, *(f"- {line}" for line in found)])
