"""Footprints, the host-wide planner, `setup` and `gateways`."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import Env, Gateway, free_base, make_env, port_free

from openclaw.config.view import Config
from openclaw.errors import ConfigError, OpenClawError
from openclaw.ports.footprint import footprint_for, format_ports, parse_env_port, resolve_base_port
from openclaw.ports.instances import discover_instances
from openclaw.ports.planner import check_explicit_port, plan_base


def test_footprint_derivation_and_overrides() -> None:
    fp = footprint_for(18789)
    assert (fp.base, fp.control, fp.canvas, fp.cdp_start, fp.cdp_end) == (18789, 18791, 18793, 18800, 18899)
    assert len(fp.ports()) == 103
    fp = footprint_for(19789, Config({"browser": {"controlPort": 20000, "profiles": {"x": {"cdpPort": 30000}}},
                                      "canvasHost": {"port": 21000}}))
    assert (fp.control, fp.canvas, fp.cdp_start, fp.cdp_end, fp.extra_cdp) == (20000, 21000, 20009, 20108, (30000,))
    fp = footprint_for(19789, Config({"browser": {"cdpPortRangeStart": 40000}}))
    assert (fp.cdp_start, fp.cdp_end) == (40000, 40099)


def test_port_precedence() -> None:
    cfg = Config({"gateway": {"port": 19789}})
    assert resolve_base_port(1234, cfg, None, {"OPENCLAW_GATEWAY_PORT": "5555"}) == (1234, "flag")
    assert resolve_base_port(None, cfg, None, {"OPENCLAW_GATEWAY_PORT": "127.0.0.1:5555"}) == (5555, "env")
    assert resolve_base_port(None, cfg, None, {"OPENCLAW_GATEWAY_PORT": "[::1]:5556"}) == (5556, "env")
    assert resolve_base_port(None, cfg, "rescue", {}) == (19789, "config")
    assert resolve_base_port(None, Config({}), None, {}) == (18789, "default")
    assert resolve_base_port(None, None, "dev", {}) == (19001, "default")
    with pytest.raises(ConfigError):
        parse_env_port("http://nope")


def test_format_ports() -> None:
    assert format_ports([3, 1, 2, 7, 9, 10]) == "1-3, 7, 9-10"


def _make_instance(home: Path, name: str, port: int, extra: str = "") -> None:
    state = home / (".openclaw" if name == "default" else f".openclaw-{name}")
    state.mkdir(parents=True)
    (state / "openclaw.json").write_text(f'{{"gateway": {{"mode": "local", "port": {port}}}{extra}}}')


def test_planner_skips_instances_and_listening_sockets(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _make_instance(home, "main", 18789)
    others = discover_instances(home, os.environ)
    assert [i.name for i in others] == ["main"]
    assert plan_base(others, {}).base == 18900  # first base whose whole footprint clears 18789..18899
    assert plan_base(others, {18905: None}).base == 18900  # 18905 is not in 18900's footprint
    assert plan_base(others, {18902: None}).base == 18901  # a listener on the control port moves it
    assert plan_base(others, {18950: None}).base == 18940  # one inside the CDP range moves it past
    assert plan_base([], {18789: 1}).base == 18790


def test_explicit_port_overlap_names_instance_and_ports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _make_instance(home, "main", 18789)
    others = discover_instances(home, os.environ)
    with pytest.raises(OpenClawError) as info:
        check_explicit_port(18850, footprint_for(18850), others)
    message = str(info.value)
    assert "main" in message and str(home / ".openclaw-main") in message
    assert "18850, 18852, 18854, 18861-18899" in message and "CDP" in message
    assert "--force" in message
    assert check_explicit_port(18850, footprint_for(18850), others, force=True)


def test_setup_creates_everything_and_is_idempotent(env: Env, base: int) -> None:
    first = env.setup("rescue", base)
    state = env.state_dir("rescue")
    assert first["configStatus"] == "created" and first["port"] == base and first["portSource"] == "flag"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(env.config_path("rescue").stat().st_mode) == 0o600
    cfg = env.config("rescue")
    assert cfg["gateway"]["mode"] == "local" and cfg["gateway"]["port"] == base
    token = cfg["gateway"]["auth"]["token"]
    assert len(token) >= 32
    workspace = Path(cfg["agents"]["defaults"]["workspace"])
    assert workspace == env.home / ".openclaw" / "workspace-rescue"
    assert sorted(p.name for p in workspace.iterdir()) == ["AGENTS.md", "IDENTITY.md", "SOUL.md", "USER.md"]

    (workspace / "SOUL.md").write_text("my own soul\n")
    env.cli("--profile", "rescue", "config", "set", "logging.level", "debug", check=True)
    again = env.setup("rescue")
    assert again["configStatus"] == "unchanged" and again["port"] == base and again["portSource"] == "config"
    cfg2 = env.config("rescue")
    assert cfg2["gateway"]["auth"]["token"] == token and cfg2["logging"]["level"] == "debug"
    assert (workspace / "SOUL.md").read_text() == "my own soul\n"


def test_setup_plans_distinct_footprints(env: Env) -> None:
    main = env.setup("main")
    rescue = env.setup("rescue")
    assert main["portSource"] == rescue["portSource"] == "planned"
    a, b = main["footprint"], rescue["footprint"]
    ports_a = {a["base"], a["control"], a["canvas"], *range(a["cdpRange"][0], a["cdpRange"][1] + 1)}
    ports_b = {b["base"], b["control"], b["canvas"], *range(b["cdpRange"][0], b["cdpRange"][1] + 1)}
    assert not ports_a & ports_b
    assert b["base"] > a["base"]


def test_setup_avoids_a_listening_socket(env: Env) -> None:
    # a listener inside the footprint setup would otherwise choose must push the base past it
    first = env.setup("probe")["footprint"]
    env.cli("--profile", "probe", "config", "unset", "gateway.port", check=True)
    busy = first["cdpRange"][0] + 10
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", busy))
        sock.listen()
        fp = env.setup("main")["footprint"]
    assert fp["base"] != first["base"]
    assert busy not in {fp["base"], fp["control"], fp["canvas"]}
    assert not fp["cdpRange"][0] <= busy <= fp["cdpRange"][1]


def test_setup_refuses_overlapping_explicit_port(env: Env, base: int) -> None:
    env.setup("main", base)
    proc = env.cli("--profile", "rescue", "setup", "--port", str(base + 20))
    assert proc.returncode == 1
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "main" in message and str(base + 20) in message and "--force" in message
    assert not env.config_path("rescue").exists()
    forced = env.cli("--profile", "rescue", "setup", "--port", str(base + 20), "--force", check=True)
    assert "overlaps main" in forced.stderr


def test_setup_workspace_flag_and_json(env: Env, base: int, tmp_path: Path) -> None:
    result = env.setup("ops", base, "--workspace", str(tmp_path / "ws"))
    assert result["workspaceDir"] == str(tmp_path / "ws")
    assert (tmp_path / "ws" / "AGENTS.md").exists()


def test_setup_on_invalid_config_exits_78(env: Env) -> None:
    env.write_config({"gateway": {"prot": 1}}, "bad")
    proc = env.cli("--profile", "bad", "setup")
    assert proc.returncode == 78 and "gateway.prot" in proc.stderr


def test_gateways_lists_instances_and_collisions(env: Env, base: int) -> None:
    env.setup("main", base)
    env.setup("rescue", base + 50, "--force")
    data = env.cli_json("gateways")["instances"]
    by_name = {i["profile"]: i for i in data}
    assert set(by_name) == {"main", "rescue"}
    main = by_name["main"]
    assert main["base"] == base and main["control"] == base + 2 and main["canvas"] == base + 4
    assert main["cdpRange"] == [base + 11, base + 110]
    assert main["running"] is False and main["pid"] is None
    assert main["collisions"][0]["other"] == "rescue"
    assert by_name["rescue"]["collisions"][0]["other"] == "main"
    text = env.cli("gateways", check=True).stdout
    assert "main" in text and "rescue" in text and "overlaps" in text


def test_the_seeds_bases_stay_theirs(env: Env) -> None:
    """A profile set up first on a fresh host leaves 18789 to the default instance and 19001 to --dev."""
    seeds = footprint_for(18789).ports() | footprint_for(19001).ports()
    for name in ("rescue", "work"):
        fp = env.setup(name)["footprint"]
        assert not seeds & footprint_for(fp["base"]).ports(), (name, fp["base"])
    if all(port_free(p) for p in (18789, 18791, 18793)):  # unless this machine runs something there
        assert env.setup(None)["footprint"]["base"] == 18789
    if all(port_free(p) for p in (19001, 19003, 19005)):
        assert env.setup("dev")["footprint"]["base"] == 19001


def _stale_entries(runtime: Path, home: Path, live_pid: int) -> list[Path]:
    """Registry entries no gateway stands behind: a dead pid, a recycled pid (another start marker),
    and a live pid with no marker at all (it cannot be told from a recycled one)."""
    from openclaw.procutil import start_marker

    dead = subprocess.Popen(["sleep", "30"])
    dead_marker = start_marker(dead.pid)
    dead.kill()
    dead.wait()
    entries = {"dead": {"pid": dead.pid, "startMarker": dead_marker},
               "recycled": {"pid": live_pid, "startMarker": "1"}, "unmarked": {"pid": live_pid}}
    out = []
    (runtime / "gateways").mkdir(parents=True, exist_ok=True)
    for name, ident in entries.items():
        state = home / f".openclaw-{name}"
        record = {**ident, "profile": name, "home": str(home), "stateDir": str(state),
                  "configPath": str(state / "openclaw.json"), "port": 1000 + len(out)}
        out.append(runtime / "gateways" / f"stale-{name}.json")
        out[-1].write_text(json.dumps(record))
    return out


def test_gateways_of_another_home_are_port_neighbours_and_dead_entries_are_dropped(
        tmp_path: Path, gateways: list[Gateway]) -> None:
    """Two HOMEs share one runtime dir (one registry): each lists its own instances, the other's
    running gateway only as a port neighbour; stale entries and a dead gateway's state lock vanish."""
    runtime = tmp_path / "runtime"
    mine, theirs = make_env(tmp_path / "mine"), make_env(tmp_path / "theirs")
    for env in (mine, theirs):
        env.vars["OPENCLAW_RUNTIME_DIR"] = str(runtime)
    base = free_base()
    mine.setup(None, base)
    mine.setup("old", base + 200)
    theirs.setup(None, base + 400)
    for env, port in ((mine, base), (theirs, base + 400)):
        gateways.append(env.gateway().start())
        gateways[-1].wait_healthy(port)
    ours, other = gateways
    bystander = subprocess.Popen(["sleep", "60"])  # alive, but no gateway
    try:
        stale = _stale_entries(runtime, mine.home, bystander.pid)
        old_lock = mine.state_dir("old") / "tmp" / f"openclaw-{os.getuid()}" / "gateway.state.lock"
        old_lock.parent.mkdir(parents=True, exist_ok=True)  # what a kill -9 leaves, its pid since recycled
        old_lock.write_text(json.dumps({"pid": bystander.pid, "port": base + 200, "startMarker": "1",
                                        "role": "gateway"}))
        listing = mine.cli_json("gateways")
        by_name = {i["profile"]: i for i in listing["instances"]}
        assert set(by_name) == {"default", "old"}
        assert by_name["default"]["pid"] == ours.pid and by_name["default"]["healthy"]
        assert by_name["old"]["running"] is False and by_name["old"]["pid"] is None
        [neighbour] = listing["neighbours"]
        assert neighbour["neighbour"] and neighbour["pid"] == other.pid and neighbour["base"] == base + 400
        assert neighbour["home"] == str(theirs.home) and neighbour["stateDir"] == str(theirs.state_dir())
        assert not any(p.exists() for p in stale[:2])  # dead and recycled: removed as found
        text = mine.cli("gateways", check=True).stdout
        assert "Port neighbours" in text and str(theirs.home) in text and str(other.pid) in text
        seen_from_there = theirs.cli_json("gateways")
        assert [i["profile"] for i in seen_from_there["instances"]] == ["default"]
        assert [n["pid"] for n in seen_from_there["neighbours"]] == [ours.pid]
        # a plan still steers clear of the neighbour's ports
        clash = mine.cli("--profile", "work", "setup", "--port", str(base + 400))
        assert clash.returncode != 0 and f"default of HOME {theirs.home}" in clash.stderr
        # only this HOME's instances become pods
        report = mine.cli_json("deploy", "kubernetes", "--all", "--image", "registry.test/oc:1.0",
                               "--out", str(tmp_path / "k8s"))
        assert sorted(r["name"] for r in report["instances"]) == ["main", "old"]
    finally:
        bystander.kill()
        bystander.wait()
