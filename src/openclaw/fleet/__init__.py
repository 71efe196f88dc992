"""Fleets: many isolated gateways on one host, forked from one warm supervisor.

`openclaw fleet up N` and, for harnesses, `async with Fleet(N) as fleet:` make N ordinary
instances (profiles PREFIX-1..N) and keep them running; see `api.Fleet`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Fleet", "FleetMember"]


def __getattr__(name: str) -> Any:  # the API loads on first use: `openclaw fleet status` needs none of it
    if name in __all__:
        from openclaw.fleet import api

        return getattr(api, name)
    raise AttributeError(name)
