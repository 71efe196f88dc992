"""The rescue bot's operations when it runs as a pod: its targets are StatefulSets, not state dirs.

`openclaw deploy kubernetes` gives a rescue instance's pod `OPENCLAW_KUBERNETES_TARGETS` (name ->
StatefulSet and Service URL) and a Role that may only read and patch those StatefulSets. Here,
`/restart` does what `kubectl rollout restart` does and waits for the new pod to be ready;
`/stop` and `/start` scale to 0 and 1. The targets' files live on their own volumes, out of this
pod's reach, so the file-based operations (logs, doctor, config, rollback) say where to go instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.rescue.operations import RescueError

if TYPE_CHECKING:
    from openclaw.chat.commands import Command
    from openclaw.rescue.kubeapi import KubeAPI
    from openclaw.rescue.operations import Context

TARGETS_ENV = "OPENCLAW_KUBERNETES_TARGETS"
NAMESPACE_ENV = "OPENCLAW_KUBERNETES_NAMESPACE"
ROLLOUT_WAIT_S = 100.0  # under the command's own 120 s limit; an image pull on a cold node fits
POLL_S = 1.0
PROBE_TIMEOUT_S = 2.0

HELP = """Operator commands (no model needed; this bot runs in Kubernetes):
/gateways - every instance this bot looks after, with its pod's state
/status <name> - replicas, readiness, revision, last restart
/restart <name> - restart its pod (like kubectl rollout restart) and wait until ready
/stop <name>  /start <name> - scale its StatefulSet to 0 or 1
/logs, /doctor, /config, /rollback work on the host only: in the cluster use
kubectl logs / kubectl exec statefulset/openclaw-<name> -- openclaw ...
/help - this list"""


@dataclass(frozen=True)
class ClusterTarget:
    name: str
    statefulset: str
    url: str


def active(env: Mapping[str, str]) -> bool:
    return bool(env.get(TARGETS_ENV))


def cluster_targets(env: Mapping[str, str]) -> dict[str, ClusterTarget]:
    raw = env.get(TARGETS_ENV) or "{}"
    try:
        data = json.loads(raw)
        return {str(k): ClusterTarget(str(k), str(v["statefulSet"]), str(v["url"]).rstrip("/"))
                for k, v in data.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RescueError(f"{TARGETS_ENV} is not valid JSON of name -> {{statefulSet, url}}; re-render the "
                          "manifests with openclaw deploy kubernetes") from None


def allowed_targets(env: Mapping[str, str], ctx: Context | None) -> dict[str, ClusterTarget]:
    """The rendered targets, within `rescue.targets` as the pod's config says now (it may have
    been narrowed since rendering; the Role stays the outer bound)."""
    targets = cluster_targets(env)
    allowed = None if ctx is None else ctx.targets
    if allowed is None:
        return targets
    names = set(allowed) | ({"main"} if "default" in allowed else set())
    return {k: v for k, v in targets.items() if k in names}


def resolve(name: str, targets: dict[str, ClusterTarget]) -> ClusterTarget:
    wanted = (name or "").strip()
    if not wanted and len(targets) == 1:
        return next(iter(targets.values()))
    found = targets.get(wanted) or (targets.get("main") if wanted == "default" else None)
    if found is None:
        known = ", ".join(sorted(targets)) or "none"
        if not wanted:
            raise RescueError(f"name an instance, e.g. /status {next(iter(sorted(targets)), 'main')} (known: {known})")
        raise RescueError(f"{wanted} is not among this rescue bot's targets (known: {known})")
    return found


async def ready(url: str) -> bool:
    """The target's own readiness, through its Service."""
    import aiohttp

    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(f"{url}/readyz") as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


def _api(env: Mapping[str, str]) -> KubeAPI:
    from openclaw.rescue.kubeapi import KubeAPI, KubeError

    try:
        return KubeAPI.in_cluster(env)
    except KubeError as exc:
        raise RescueError(str(exc)) from None


async def _kube(t: ClusterTarget, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """An API call about one target; its failure as a reply naming that target."""
    from openclaw.rescue.kubeapi import KubeError

    try:
        return await call
    except KubeError as exc:
        raise RescueError(f"{t.name}: {exc}") from None


async def _state(api: KubeAPI, t: ClusterTarget) -> dict[str, Any]:
    return summarize(await _kube(t, api.get_statefulset(t.statefulset)))


async def _patch(api: KubeAPI, t: ClusterTarget, patch: dict[str, Any]) -> None:
    await _kube(t, api.patch_statefulset(t.statefulset, patch))


def summarize(sts: dict[str, Any]) -> dict[str, Any]:
    spec, st = sts.get("spec") or {}, sts.get("status") or {}
    annotations = (((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {})
    from openclaw.rescue.kubeapi import RESTARTED_AT

    generation = int((sts.get("metadata") or {}).get("generation") or 0)
    return {"replicas": int(spec.get("replicas", 1)), "ready": int(st.get("readyReplicas") or 0),
            "updated": int(st.get("updatedReplicas") or 0), "revision": st.get("updateRevision"),
            "current": st.get("currentRevision"), "restartedAt": annotations.get(RESTARTED_AT),
            "settled": int(st.get("observedGeneration") or 0) >= generation}


def rolled_out(s: dict[str, Any]) -> bool:
    """Every replica on the newest revision and ready (what `kubectl rollout status` waits for)."""
    return bool(s["settled"] and s["ready"] == s["replicas"] and s["updated"] == s["replicas"]
                and s["current"] == s["revision"])


async def _wait(api: KubeAPI, t: ClusterTarget, done: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + ROLLOUT_WAIT_S
    while True:
        s = await _state(api, t)
        if done(s) and (s["replicas"] == 0 or await ready(t.url)):
            return s
        if time.monotonic() > deadline:
            raise RescueError(f"{t.name} is not {what} after {ROLLOUT_WAIT_S:.0f}s ({s['ready']}/{s['replicas']} "
                              f"ready); /status {t.name} shows progress, kubectl describe pod {t.statefulset}-0 why")
        await asyncio.sleep(POLL_S)


async def _status_line(t: ClusterTarget, s: dict[str, Any]) -> str:
    answering = s["replicas"] > 0 and await ready(t.url)
    state = "stopped (0 replicas)" if s["replicas"] == 0 else ("ready" if answering else "not ready")
    return f"{t.name}: {state}, {s['ready']}/{s['replicas']} pods ready, statefulset/{t.statefulset}"


async def rows(me_name: str, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The targets as `openclaw gateways` rows (the Control UI's Instances view), plus this pod."""
    from urllib.parse import urlsplit

    api, targets = _api(env), allowed_targets(env, None)

    def row(**fields: Any) -> dict[str, Any]:  # a pod has no host ports, paths or collisions to show
        return {"control": "-", "canvas": "-", "cdpRange": [], "collisions": [], "stateDir": "-", "configPath": "-",
                **fields}

    async def one(t: ClusterTarget) -> dict[str, Any]:
        base = row(profile=t.name, base=urlsplit(t.url).port, pid=None, self=False,
                   service=f"statefulset/{t.statefulset}")
        try:
            s = await _state(api, t)
        except RescueError as exc:
            return {**base, "running": None, "healthy": None, "error": str(exc)}
        return {**base, "running": s["ready"] > 0, "healthy": s["replicas"] > 0 and await ready(t.url)}

    me = row(profile=me_name, base=None, pid=os.getpid(), self=True, running=True, healthy=True, service="this pod")
    return [me, *await asyncio.gather(*(one(t) for t in targets.values()))]


async def gateways(ctx: Context, cmd: Command) -> str:
    api, targets = _api(ctx.env), allowed_targets(ctx.env, ctx)

    async def line(t: ClusterTarget) -> str:
        return await _status_line(t, await _state(api, t))

    lines = await asyncio.gather(*(line(t) for t in targets.values()), return_exceptions=True)
    return "\n".join(str(line) for line in lines) or "this rescue bot has no targets"


async def status(ctx: Context, cmd: Command) -> str:
    api, t = _api(ctx.env), resolve(cmd.args[0] if cmd.args else "", allowed_targets(ctx.env, ctx))
    s = await _state(api, t)
    lines = [await _status_line(t, s), f"revision: {s['revision'] or '-'}"
             + ("" if s["current"] == s["revision"] else f" (rolling out from {s['current']})")]
    if s["restartedAt"]:
        lines.append(f"last restart: {s['restartedAt']}")
    return "\n".join(lines)


async def restart(ctx: Context, cmd: Command) -> str:
    from openclaw.rescue.kubeapi import RESTARTED_AT

    api, t = _api(ctx.env), resolve(cmd.args[0] if cmd.args else "", allowed_targets(ctx.env, ctx))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    await _patch(api, t, {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}})
    s = await _wait(api, t, lambda s: rolled_out(s) and s["replicas"] > 0, "ready")
    return f"{t.name} restarted (statefulset/{t.statefulset}, revision {s['revision']}) and is ready"


def _scaler(replicas: int) -> Callable[[Context, Command], Any]:
    async def run(ctx: Context, cmd: Command) -> str:
        api, t = _api(ctx.env), resolve(cmd.args[0] if cmd.args else "", allowed_targets(ctx.env, ctx))
        if (await _state(api, t))["replicas"] == replicas:
            return f"{t.name} is already {'running' if replicas else 'stopped'}"
        await _patch(api, t, {"spec": {"replicas": replicas}})
        if replicas == 0:
            await _wait(api, t, lambda s: s["settled"] and s["ready"] == 0, "stopped")
            return f"{t.name} stopped (statefulset/{t.statefulset} scaled to 0)"
        await _wait(api, t, rolled_out, "ready")
        return f"{t.name} started (statefulset/{t.statefulset} scaled to 1) and is ready"

    return run


async def host_only(ctx: Context, cmd: Command) -> str:
    targets = allowed_targets(ctx.env, ctx)
    t = targets.get(cmd.args[0]) if cmd.args else (next(iter(targets.values())) if len(targets) == 1 else None)
    sts = t.statefulset if t else "openclaw-<name>"
    raise RescueError(f"/{cmd.name} reads an instance's files, which are on its own volume in the cluster: use "
                      f"kubectl logs statefulset/{sts}, or kubectl exec statefulset/{sts} -- openclaw {cmd.name}")


async def show_help(ctx: Context, cmd: Command) -> str:
    return HELP


HANDLERS: dict[str, Callable[[Context, Command], Any]] = {
    "gateways": gateways, "status": status, "restart": restart, "start": _scaler(1), "stop": _scaler(0),
    "logs": host_only, "doctor": host_only, "config": host_only, "rollback": host_only, "help": show_help,
}
