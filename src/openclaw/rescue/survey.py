"""Every instance on this host as `openclaw gateways` shows it: ports (and which listen), pid,
health, collisions, service. Shared by the CLI, the rescue commands and the Control UI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from openclaw.ports.instances import Instance, check_health, discover_instances
from openclaw.ports.planner import annotate_collisions
from openclaw.ports.sockets import listening_ports
from openclaw.profiles.paths import InstancePaths


def survey(me: InstancePaths) -> list[tuple[Instance, str | None]]:
    """Each instance with its service state (`installed` or None). Blocking: probes health."""
    include = [me] if me.config_path.exists() else []
    instances = discover_instances(me.home, include=include)
    check_health(instances)
    listening = listening_ports()
    annotate_collisions(instances, listening)
    for inst in instances:
        if inst.running and listening is not None:
            inst.listening = {"control": inst.footprint.control in listening,
                              "canvas": inst.footprint.canvas in listening}
    return [(inst, service_state(inst, me.home)) for inst in instances]


def service_state(inst: Instance, home: Path) -> str | None:
    """`installed` when this instance's service definition exists (a file check, no subprocess)."""
    from openclaw.services.lifecycle import definition_exists

    if inst.profile is None and inst.state_dir != home / ".openclaw":
        return None
    return "installed" if definition_exists(inst.paths(home)) else None


def rows(me: InstancePaths) -> list[dict[str, Any]]:
    """`survey` as JSON rows, each marked `self` when it is `me`; in a cluster, the rescue pod's targets."""
    from openclaw.rescue import cluster

    if cluster.active():
        import asyncio

        return asyncio.run(cluster.rows(me.name))
    mine = os.path.abspath(me.state_dir)
    return [{**inst.as_dict(), "service": service, "self": os.path.abspath(inst.state_dir) == mine}
            for inst, service in survey(me)]
