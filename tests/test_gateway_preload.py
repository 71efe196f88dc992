"""aiohttp imported in a thread beside a gateway's start: only for a run, and its errors surface."""

from __future__ import annotations

import subprocess

import pytest
from helpers import PY

from openclaw.cli.main import runs_gateway

AIOHTTP_CLOSURE = ("aiohttp", "yarl", "multidict", "aiohappyeyeballs", "propcache", "frozenlist", "aiosignal", "attr")


@pytest.mark.parametrize(("argv", "runs"), [
    (["gateway"], True),
    (["gateway", "run"], True),
    (["gateway", "--port", "19001", "--verbose"], True),
    (["gateway", "--token", "status", "run"], True),  # a flag's value is not a subcommand
    (["gateway", "--bind=lan"], True),
    (["gateway", "status"], False),
    (["gateway", "call", "health"], False),
    (["gateway", "probe"], False),
    (["gateway", "--help"], False),
    (["gateway", "run", "--help"], False),
    (["health"], False),
    ([], False),
])
def test_only_a_gateway_run_starts_the_import_thread(argv: list[str], runs: bool) -> None:
    assert runs_gateway(argv) is runs


def test_the_runner_imports_nothing_of_aiohttp_before_it_joins_the_thread() -> None:
    """What makes the thread safe (see preload): the main thread reaches aiohttp only after join."""
    code = ("import sys, openclaw.gateway.process.runner; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {AIOHTTP_CLOSURE!r}))")
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_an_import_error_in_the_thread_is_raised_by_join() -> None:
    code = """
import sys
sys.modules["aiohttp"] = None  # makes `import aiohttp` fail
from openclaw.gateway.process import preload
preload.start()

try:
    preload.join()
except ImportError as exc:
    print("raised", type(exc).__name__)
"""
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "raised ModuleNotFoundError"
