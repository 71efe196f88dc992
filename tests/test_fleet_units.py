"""The fleet's pieces without a supervisor: the restart policy, names, socket paths, the plan."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from helpers import make_env, port_band

from openclaw.errors import ConfigError, UsageError
from openclaw.fleet.child import member_env
from openclaw.fleet.control import SUN_PATH_MAX, FleetUnreachable, request, socket_path
from openclaw.fleet.member import BACKOFF_MAX_S, Member, describe_status
from openclaw.fleet.members import check_count, check_prefix, member_names
from openclaw.fleet.plan import plan_fleet, read_base_config

EXITED = {0: 0, 1: 1 << 8, 75: 75 << 8, 78: 78 << 8}  # raw waitpid statuses
KILLED = 9  # terminated by SIGKILL


def fresh(now: float = 1000.0) -> Member:
    m = Member("f-1", Path("/s"), Path("/s/openclaw.json"), 20000)
    m.started(111, now)
    return m


def test_statuses_in_words() -> None:
    assert describe_status(EXITED[1]) == "exit 1"
    assert describe_status(KILLED) == "killed by SIGKILL"


def test_exit_0_and_78_are_left_down() -> None:
    m = fresh()
    assert "left down" in m.ended(EXITED[0], None, stopping=False, now=1001)
    assert m.state == "stopped" and m.next_start is None and m.settled
    m = fresh()
    m.ended(EXITED[78], None, stopping=False, now=1001)
    assert m.state == "config-error" and m.next_start is None and m.restarts == 0


def test_a_death_restarts_with_backoff_doubling_to_a_cap() -> None:
    m, now, delays = fresh(), 1000.0, []
    for _ in range(12):
        m.deaths.clear()  # the breaker is another test's
        m.ended(EXITED[1], None, stopping=False, now=now)
        assert m.state == "restarting"
        delays.append(m.next_start - now)  # type: ignore[operator]
        now = m.next_start  # type: ignore[assignment]
        m.started(222, now)
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == BACKOFF_MAX_S


def test_a_member_that_ran_a_minute_starts_its_backoff_over() -> None:
    m = fresh(1000.0)
    m.ended(EXITED[1], None, stopping=False, now=1001)
    m.started(222, 1002)
    m.ended(EXITED[1], None, stopping=False, now=1003)
    assert m.next_start == 1004.0  # 1 s: the second young death
    m.started(333, 1004)
    m.ended(EXITED[1], None, stopping=False, now=1100)
    assert m.next_start == 1100.5


def test_five_deaths_in_two_minutes_trip_the_breaker() -> None:
    m, now = fresh(), 1000.0
    for _ in range(4):
        m.ended(KILLED, None, stopping=False, now=now)
        now += 1
        m.started(222, now)
    line = m.ended(KILLED, None, stopping=False, now=now)
    assert m.state == "failed" and "crash loop" in line and m.settled
    m.reset_breaker()  # `fleet restart NAME`
    assert not m.deaths


def test_over_limit_is_restarted_and_counted() -> None:
    m = fresh()
    m.ended(EXITED[75], "over its memory limit (256 MiB)", stopping=False, now=1001)
    assert m.state == "restarting" and m.over_limit == 1 and m.last_exit == "over its memory limit (256 MiB)"


def test_while_stopping_nothing_restarts() -> None:
    m = fresh()
    m.ended(KILLED, None, stopping=True, now=1001)
    assert m.state == "down" and m.next_start is None


def test_a_requested_restart_is_immediate() -> None:
    m = fresh()
    m.restart_requested = True
    m.ended(EXITED[0], None, stopping=False, now=1001)
    assert m.state == "restarting" and m.next_start == 1001


def test_names_and_counts() -> None:
    assert member_names("eval", 3) == ["eval-1", "eval-2", "eval-3"]
    assert check_prefix(" run_a ") == "run_a"
    for bad in ("dev", "default", "", "a b", "x" * 60, "../x"):
        with pytest.raises(UsageError):
            check_prefix(bad)
    for bad in (0, 501):
        with pytest.raises(UsageError):
            check_count(bad)


def test_a_member_env_names_its_profile_and_nothing_else_s() -> None:
    env = member_env({"PATH": "/bin", "OPENCLAW_STATE_DIR": "/x", "OPENCLAW_GATEWAY_TOKEN": "t",
                      "OPENCLAW_CONFIG_PATH": "/c", "OPENCLAW_PROFILE": "main"}, "f-2", {"MALLOC_ARENA_MAX": "1"})
    assert env == {"PATH": "/bin", "OPENCLAW_PROFILE": "f-2", "MALLOC_ARENA_MAX": "1"}


def test_long_socket_paths_get_a_short_private_one(tmp_path: Path) -> None:
    short = tmp_path / "a.sock"
    assert socket_path(short) == short or len(os.fsencode(short)) > SUN_PATH_MAX
    long = tmp_path / ("d" * 120) / "f.sock"
    chosen = socket_path(long)
    assert len(os.fsencode(chosen)) <= SUN_PATH_MAX and chosen == socket_path(long)
    with pytest.raises(FleetUnreachable, match="no fleet supervisor"):
        request(tmp_path / "none.sock", "status")


def test_a_silent_supervisor_is_reported_within_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen(1)
        with pytest.raises(FleetUnreachable, match="did not answer"):
            request(path, "status", timeout=0.3)


def test_plan_makes_members_with_disjoint_footprints_and_keeps_them(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    low, _ = port_band()
    busy = socket.socket()
    busy.bind(("127.0.0.1", low + 2))  # a listener inside the first footprint pushes the plan past it
    busy.listen(1)
    try:
        plans = plan_fleet(env.home, env.vars, "p", 12, model="stand/m1", start_port=low)
    finally:
        busy.close()
    assert all(low + 2 not in p.footprint.ports() for p in plans)
    spans = [p.footprint.ports() for p in plans]
    assert sum(len(s) for s in spans) == len(set().union(*spans))
    configs = [json.loads(p.paths.config_path.read_text()) for p in plans]
    assert len({c["gateway"]["auth"]["token"] for c in configs}) == 12
    assert all(c["agents"]["defaults"]["model"] == "stand/m1" for c in configs)
    assert all(Path(c["agents"]["defaults"]["workspace"]).is_dir() for c in configs)
    again = plan_fleet(env.home, env.vars, "p", 12, start_port=low)
    assert [p.port for p in again] == [p.port for p in plans] and not any(p.created for p in again)
    assert [json.loads(p.paths.config_path.read_text())["gateway"]["auth"]["token"] for p in again] == \
        [c["gateway"]["auth"]["token"] for c in configs]


def test_a_base_config_never_shares_a_port_token_or_workspace(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    base = tmp_path / "base.json5"
    base.write_text("// shared\n{gateway: {port: 20001, auth: {token: 'same'}}, agents: {defaults: "
                    "{workspace: '/shared', timeoutSeconds: 77}}}")
    data = read_base_config(base, env.vars)
    assert data == {"gateway": {"auth": {}}, "agents": {"defaults": {"timeoutSeconds": 77}}}
    low, _ = port_band()
    plans = plan_fleet(env.home, env.vars, "q", 2, base_config=data, start_port=low + 300)
    configs = [json.loads(p.paths.config_path.read_text()) for p in plans]
    assert configs[0]["gateway"]["auth"]["token"] != configs[1]["gateway"]["auth"]["token"] != "same"
    assert all(c["agents"]["defaults"]["timeoutSeconds"] == 77 for c in configs)
    bad = tmp_path / "bad.json"
    bad.write_text('{"gateway": {"bind": "nowhere"}}')
    with pytest.raises(ConfigError, match=r"gateway\.bind"):
        read_base_config(bad, env.vars)


def test_the_warm_stack_names_modules_that_exist() -> None:
    """A renamed module would stop every supervisor at its start: caught here first."""
    import importlib.util

    from openclaw.fleet.preload import PRELOAD

    missing = [name for name in PRELOAD if importlib.util.find_spec(name) is None]
    assert not missing


def test_the_socket_dir_must_be_private(tmp_path: Path) -> None:
    from openclaw.errors import OpenClawError
    from openclaw.fleet.control import listen

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(OpenClawError, match="not a private directory"):
        listen(tmp_path / "link" / "s.sock")
    sock = listen(tmp_path / "own" / "s.sock")
    sock.close()
