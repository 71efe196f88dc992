"""Every instance on this host as `openclaw gateways` shows it: ports (and which listen), pid,
health, collisions, service; and the port neighbours (gateways other HOMEs run here), shown for
what they occupy only. Shared by the CLI, the rescue commands and the Control UI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openclaw.ports.instances import Instance, check_health, discover_instances
from openclaw.ports.planner import annotate_collisions
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.paths import InstancePaths


def survey(me: InstancePaths, env: Mapping[str, str]) -> tuple[list[tuple[Instance, str | None]], list[Instance]]:
    """(each of this HOME's instances with its service state (`installed` or None), the port
    neighbours). Blocking: probes health."""
    include = [me] if me.config_path.exists() else []
    found = discover_instances(me.home, env, include=include, neighbours=True)
    instances = [i for i in found if not i.neighbour]
    check_health(instances)
    listening = listening_ports()
    annotate_collisions(found, listening)
    for inst in found:
        if inst.running and listening is not None:
            fp = inst.footprint
            inst.listening = {"base": fp.base in listening, "control": fp.control in listening,
                              "canvas": fp.canvas in listening}
    return [(inst, service_state(inst, me.home, env)) for inst in instances], [i for i in found if i.neighbour]


def service_state(inst: Instance, home: Path, env: Mapping[str, str]) -> str | None:
    """`installed` when this instance's service definition exists (a file check, no subprocess)."""
    from openclaw.services.lifecycle import definition_exists

    if inst.profile is None and inst.state_dir != home / ".openclaw":
        return None
    return "installed" if definition_exists(inst.paths(home), env) else None


def listing(me: InstancePaths, env: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """`survey` as JSON rows: `instances` (each marked `self` when it is `me`) and `neighbours`;
    in a cluster, the rescue pod's targets (no neighbours)."""
    from openclaw.rescue import cluster

    if cluster.active(env):
        import asyncio

        return {"instances": asyncio.run(cluster.rows(me.name, env)), "neighbours": []}
    mine = os.path.abspath(me.state_dir)
    instances, neighbours = survey(me, env)
    return {"instances": [{**inst.as_dict(), "service": service, "self": os.path.abspath(inst.state_dir) == mine}
                          for inst, service in instances],
            "neighbours": [n.as_dict() for n in neighbours]}


def rows(me: InstancePaths, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """This HOME's instances only (what the rescue commands may act on)."""
    return listing(me, env)["instances"]
