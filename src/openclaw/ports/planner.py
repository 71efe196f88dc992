"""Choosing and checking base ports so no two instances' footprints ever overlap."""

from __future__ import annotations

from dataclasses import dataclass

from openclaw.errors import OpenClawError
from openclaw.ports.footprint import Footprint, check_footprint_fits, footprint_for, format_ports
from openclaw.ports.instances import Collision, Instance
from openclaw.ports.sockets import busy_ports
from openclaw.profiles.names import DEFAULT_PORT, DEV_PORT, DEV_PROFILE

SEARCH_LIMIT = 65535 - 110


@dataclass
class PlanResult:
    base: int
    footprint: Footprint


def collisions_with(fp: Footprint, others: list[Instance]) -> list[Collision]:
    out = []
    for other in others:
        shared = fp.overlap(other.footprint)
        if shared:
            out.append(Collision(other.label, shared))
    return out


def annotate_collisions(instances: list[Instance], listening: dict[int, int | None] | None) -> None:
    """Fill each instance's `collisions`: other instances' footprints, and foreign listeners."""
    owned = set()
    for inst in instances:
        if inst.running:
            owned |= inst.footprint.ports()
    for inst in instances:
        others = [o for o in instances if o is not inst]
        inst.collisions = collisions_with(inst.footprint, others)
        if inst.running or listening is None:
            continue
        core = {inst.footprint.base, inst.footprint.control, inst.footprint.canvas}
        foreign = [p for p in busy_ports(core, listening) if p not in owned]
        for port in foreign:
            inst.collisions.append(Collision("", [port], kind="socket", pid=listening.get(port)))


def seed_bases_besides(profile: str | None) -> list[int]:
    """The default instance's 18789 and `--dev`'s 19001 belong to them: a profile planned first on a
    fresh host must not take them (onboarding the rescue bot before the main one, say)."""
    own = DEFAULT_PORT if profile is None else DEV_PORT if profile == DEV_PROFILE else None
    return [base for base in (DEFAULT_PORT, DEV_PORT) if base != own]


def ephemeral_range() -> tuple[int, int] | None:
    """The ports the kernel hands to outgoing connections (Linux's `ip_local_port_range`): any of
    them may be taken by a client socket at any moment, so a planned footprint stays out of it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            low, high = (int(part) for part in fh.read().split()[:2])
    except (OSError, ValueError):
        return None
    return (low, high) if 0 < low <= high else None


def plan_base(
    others: list[Instance],
    listening: dict[int, int | None] | None,
    start: int = DEFAULT_PORT,
    reserved: list[int] | tuple[int, ...] = (),
) -> PlanResult:
    """The lowest base from `start` whose whole footprint is clear of instances, listeners, the
    footprints of the `reserved` bases and the kernel's ephemeral port range.

    Candidates use derived ports only: a newly planned base moves its ports with it.
    """
    taken: set[int] = set()
    for base in reserved:
        taken |= footprint_for(base).ports()
    for other in others:
        taken |= other.footprint.ports()
    listening_set = set(listening) if listening is not None else None
    ephemeral = ephemeral_range()
    base = start - 1
    while base + 1 < SEARCH_LIMIT:
        base += 1
        fp = footprint_for(base)
        ports = fp.ports()
        if ephemeral and min(ports) <= ephemeral[1] and max(ports) >= ephemeral[0]:
            base = max(base, ephemeral[1])  # past the whole range at once
            continue
        if ports & taken:
            continue
        if listening_set is not None and ports & listening_set:
            continue
        if listening_set is None and busy_ports(ports, None):
            continue
        return PlanResult(base, fp)
    raise OpenClawError(f"no free base port found from {start}; stop or remove an instance and retry")


def check_explicit_port(base: int, fp: Footprint, others: list[Instance], force: bool = False) -> list[Collision]:
    """Refuse a footprint that overlaps another instance, naming it and the ports, unless forced."""
    check_footprint_fits(fp)
    found = collisions_with(fp, others)
    if found and not force:
        first = next(o for o in others if o.label == found[0].other)
        details = "; ".join(
            f"{c.other} ({_where(others, c.other)}): {format_ports(c.ports)} ({_roles(fp, c.ports)})"
            for c in found
        )
        raise OpenClawError(
            f"port {base} collides with {'another instance' if len(found) == 1 else 'other instances'}: "
            f"{details}. Pick a base whose footprint is clear (ports {base}-{max(fp.ports())} are needed; "
            f"{first.label} uses {first.footprint.base}-{max(first.footprint.ports())}), "
            "omit --port to let setup choose one, or pass --force"
        )
    return found


def _where(others: list[Instance], name: str) -> str:
    inst = next(o for o in others if o.label == name)
    return f"{inst.state_dir}, base {inst.base}"


def _roles(fp: Footprint, ports: list[int]) -> str:
    roles = sorted({fp.role_of(p) for p in ports})
    return ", ".join(roles)
