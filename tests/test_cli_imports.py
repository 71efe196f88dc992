"""Client commands must not import the server, validation or crypto stacks they do not use."""

from __future__ import annotations

import subprocess

import pytest
from helpers import PY, Env

HEAVY = ("aiohttp", "pydantic", "cryptography", "rich", "psutil", "json5", "websockets")


def imported_modules(env: Env, *args: str) -> set[str]:
    proc = subprocess.run([PY, "-X", "importtime", "-m", "openclaw", *args], env=env.vars,
                          capture_output=True, text=True, timeout=60)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def top_level(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["health", "--url", "ws://127.0.0.1:9"], set()),
        (["gateway", "call", "health", "--url", "ws://127.0.0.1:9"], set()),
        (["logs", "--url", "ws://127.0.0.1:9"], set()),
        (["config", "get", "gateway"], set()),
        (["config", "file"], set()),
        (["--version"], set()),
        (["models", "list"], {"rich"}),  # tables
        (["models", "status"], {"rich"}),
        (["sessions"], {"rich"}),
        (["agent", "-m", "hi", "--url", "ws://127.0.0.1:9", "--token", "t"], set()),
        (["gateway", "--help"], set()),  # no server (and no aiohttp import begun in a thread) for help
        (["gateway", "status", "--url", "ws://127.0.0.1:9"], {"rich"}),
        (["skills", "list"], {"rich"}),  # no gateway on port 9: the local report
        (["skills", "check", "--json"], set()),
        (["memory", "status"], set()),  # keyword search needs no HTTP client
        (["memory", "search", "tea"], set()),
    ],
)
def test_client_commands_stay_light(env: Env, args: list[str], allowed: set[str]) -> None:
    env.write_config({"gateway": {"mode": "local", "port": 9}})
    loaded = top_level(imported_modules(env, *args))
    assert not (loaded & set(HEAVY)) - allowed, sorted(loaded & set(HEAVY))


def test_version_does_not_even_load_click(env: Env) -> None:
    assert "click" not in top_level(imported_modules(env, "--version"))


def test_validation_loads_pydantic_only_when_needed(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local"}})
    assert "pydantic" in top_level(imported_modules(env, "config", "validate"))
    assert "pydantic" not in top_level(imported_modules(env, "config", "get", "gateway.mode"))


def test_a_ws_url_does_not_load_tls(env: Env) -> None:
    env.write_config({"gateway": {"mode": "local", "port": 9}})
    loaded = imported_modules(env, "health", "--url", "ws://127.0.0.1:9")
    assert not loaded & {"ssl", "importlib.metadata"}, sorted(loaded & {"ssl", "importlib.metadata"})
