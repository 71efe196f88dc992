"""Entry point: root flags first (they decide every path), then a lazily loaded click app."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from openclaw import __version__
from openclaw.errors import EXIT_USAGE, OpenClawError, UsageError
from openclaw.profiles.env import apply_root_options, scan_root_flags


def _fail(message: str, code: int, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"ok": False, "error": {"type": "cli_error", "message": message}}))
    else:
        print(message, file=sys.stderr)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = scan_root_flags(args)
        apply_root_options(opts, os.environ)
    except UsageError as exc:
        print(f"[openclaw] {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    rest = opts.argv
    if rest[:1] in (["-V"], ["--version"], ["-v"]):
        print(f"openclaw {__version__} (openclaw-python)")
        return
    import click

    from openclaw.cli.app import cli

    as_json = "--json" in rest[: rest.index("--")] if "--" in rest else "--json" in rest
    try:
        code = cli.main(args=rest, prog_name="openclaw", standalone_mode=False)
    except OpenClawError as exc:
        _fail(str(exc), exc.exit_code, as_json)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "openclaw"
        _fail(f"{where}: {exc.format_message()} (see '{where} --help')", EXIT_USAGE, as_json)
    except click.exceptions.Abort:
        _fail("aborted", 130, False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code, as_json)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: one line by default, the traceback on request
        if os.environ.get("OPENCLAW_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set OPENCLAW_DEBUG=1 for the traceback)", 1, as_json)
    sys.exit(code if isinstance(code, int) else 0)
