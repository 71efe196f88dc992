"""Output: exactly one JSON document with `--json`, compact tables otherwise (colour on a TTY only)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from openclaw.profiles.env import resolve_home

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def color_enabled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def style(text: str, **kw: Any) -> str:
    return click.style(text, **kw) if color_enabled() else text


def ok_mark(ok: bool | None) -> str:
    if ok is None:
        return style("-", dim=True)
    return style("yes", fg="green") if ok else style("no", fg="red")


def short_path(path: Any) -> str:
    """`~/...` for paths under the effective home; keeps tables narrow."""
    text = str(path)
    home = str(resolve_home(os.environ))
    return "~" + text[len(home):] if text == home or text.startswith(home + os.sep) else text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, no_color=not color_enabled(), soft_wrap=False,
                      width=None if sys.stdout.isatty() else 200)
    tbl = Table(*headers, title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title_justify="left",
                header_style="bold" if color_enabled() else "")
    for row in rows:
        tbl.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(tbl)


def kv(pairs: Sequence[tuple[str, Any]]) -> None:
    """Aligned `Label: value` lines."""
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        click.echo(f"{(key + ':').ljust(width + 1)} {value}")
