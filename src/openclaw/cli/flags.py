"""Flags shared by commands that talk to a gateway; only click, so a command module can declare
them without importing the client (`openclaw gateway` runs a server and never needs it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def rpc_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--url/--token/--password/--timeout` for commands that talk to a gateway."""
    func = click.option("--timeout", type=click.IntRange(100, 600_000), default=10_000, show_default=True,
                        help="Timeout in ms.")(func)
    func = click.option("--password", help="Gateway password (default: the profile's).")(func)
    func = click.option("--token", help="Gateway token (default: the profile's).")(func)
    func = click.option("--url", help="Gateway URL, e.g. ws://127.0.0.1:19789 (credentials must be explicit).")(func)
    return func
