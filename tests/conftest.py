"""Fixtures: every test gets its own HOME and TMPDIR; gateways are real processes on free ports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from fake_telegram import FakeTelegram
from helpers import Env, Gateway, free_base, make_env
from model_standin import ModelStandin

# Modules whose instances take the port planner's own choices (18789 and the bases it seeds above
# it) or assert that those are free on the host: in a parallel run (pytest-xdist, scripts/test.sh)
# they run one after another on one worker. Every other gateway takes a port from its worker's band.
HOST_PORT_MODULES = {"test_ports_setup", "test_onboard", "test_kubernetes", "test_mixed_host", "test_canvas",
                     "test_sandbox", "test_config_interop"}


# Modules that run by themselves after the parallel run (scripts/test.sh `-m alone`): the pod
# simulation (its own network and mount namespaces, mount points made on the host) lost a pod's
# view of its state volume twice in four parallel runs of the whole suite, never in a serial run.
ALONE_MODULES = {"test_kubernetes"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alone: runs by itself, after the parallel run (scripts/test.sh)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One xdist group per module (its module-scoped gateways are made once), the planner's in one."""
    for item in items:
        module = item.module.__name__ if isinstance(item, pytest.Function) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("host-ports" if module in HOST_PORT_MODULES else module))
        if module in ALONE_MODULES:
            item.add_marker(pytest.mark.alone)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


@pytest.fixture
def base() -> int:
    return free_base()


@pytest.fixture
def gateways() -> Iterator[list[Gateway]]:
    """Collects started gateways and stops every one at teardown, whatever the test did."""
    started: list[Gateway] = []
    yield started
    for gw in started:
        gw.stop()


@pytest.fixture
def started(env: Env, base: int, gateways: list[Gateway]) -> tuple[Env, int, Gateway]:
    """A set-up default-profile gateway, running and healthy."""
    env.provision(None, base)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    return env, base, gw


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, int, Gateway]]:
    """Like `started`, but one for the whole module: for tests that leave the gateway as they found
    it, or change only what no other test of the module reads (a gateway start is ~1 s)."""
    env = make_env(tmp_path_factory.mktemp("gateway"))
    port = free_base()
    env.provision(None, port)
    gw = env.gateway().start()
    try:
        yield env, port, gw.wait_healthy(port)
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def tg() -> Iterator[FakeTelegram]:
    """A Bot API stand-in on a loopback port, shared by a module's tests (each uses its own bots)."""
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    """A Slack Web API + Socket Mode stand-in on a loopback port, shared by a module's tests (each its own app)."""
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dc() -> Iterator[FakeDiscord]:
    """A Discord gateway + REST stand-in on a loopback port, shared by a module's tests (own bots each)."""
    server = FakeDiscord().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def model() -> Iterator[ModelStandin]:
    """A model provider stand-in (OpenAI and Anthropic wire formats) shared by a module's tests."""
    server = ModelStandin().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_real_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In-process library calls see the same isolated home as subprocesses."""
    for key in list(os.environ):
        if key.startswith("OPENCLAW_") or key == "XDG_RUNTIME_DIR":
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
