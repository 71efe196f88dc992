"""`openclaw fleet`: twenty real members forked from one supervisor, each an ordinary instance with
its own token; a killed member restarted; `fleet down` leaving no process, port or lock; the
Python API driven the way a harness drives it (turns through a stand-in model, a lifeline)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PY, Env, RawWs, connect_params, handshake, healthz, make_env, port_band, port_free, wait_for
from model_standin import ModelStandin, Reply

from openclaw.procutil import pid_alive

COUNT = 20


def standin_config(tmp_path: Path, model: ModelStandin) -> Path:
    """A config members start from: the stand-in model, OpenAI-compatible HTTP on."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps({
        "models": {"providers": {"stand": {"baseUrl": model.openai_url, "apiKey": "k", "timeoutSeconds": 30}}},
        "agents": {"defaults": {"model": "stand/m1"}},
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": True}}}},
    }))
    return base


def fleet_status(env: Env, prefix: str = "fleet") -> dict[str, Any]:
    return env.cli_json("fleet", "status", "--prefix", prefix)


def member(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in status["members"] if m["name"] == name)


def serving_again(env: Env, name: str, old_pid: int, restarts: int) -> dict[str, Any] | None:
    m = member(fleet_status(env), name)
    ok = m["state"] == "serving" and m["pid"] not in (None, old_pid) and m["restarts"] == restarts
    return m if ok else None


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, dict[str, Any]]]:
    env = make_env(tmp_path_factory.mktemp("fleet"))
    low, _ = port_band()
    up = env.cli_json("fleet", "up", str(COUNT), "--base-port", str(low), timeout=120)
    try:
        yield env, up
    finally:
        env.cli("fleet", "down", timeout=60)


def test_twenty_members_serve_each_with_its_own_token(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, up = fleet
    members = up["members"]
    assert [m["name"] for m in members] == [f"fleet-{i}" for i in range(1, COUNT + 1)]
    assert all(m["state"] == "serving" for m in members), members
    ports = [m["ports"]["base"] for m in members]
    assert len(set(ports)) == COUNT
    footprints = [set(range(m["ports"]["base"], m["ports"]["cdpRange"][1] + 1)) for m in members]
    assert sum(len(f) for f in footprints) == len(set().union(*footprints)), "footprints overlap"
    tokens = [env.token(m["profile"]) for m in members]
    assert len(set(tokens)) == COUNT
    for m, token in zip(members, tokens, strict=True):
        assert healthz(m["ports"]["base"]), m["name"]
        ws, _ = handshake(m["ports"]["base"], token)
        ws.close()
        assert m["url"] == f"ws://127.0.0.1:{m['ports']['base']}" and m["tokenSource"] == "config:gateway.auth.token"
    ws = RawWs(members[1]["ports"]["base"])  # fleet-2 refuses fleet-1's token
    ws.challenge()
    res = ws.request("connect", connect_params(tokens[0]))
    ws.close()
    assert not res["ok"] and res["error"]["code"] in ("INVALID_REQUEST", "UNAUTHORIZED"), res
    supervisor = up["supervisor"]
    assert pid_alive(supervisor["pid"]) and all(m["pid"] != supervisor["pid"] for m in members)
    status = Path(f"/proc/{supervisor['pid']}/status").read_text()
    assert "\nThreads:\t1\n" in status, "the supervisor forks: it must never start a thread"


def test_members_are_ordinary_instances(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, up = fleet
    listed = {i["profile"]: i for i in env.cli_json("gateways")["instances"]}
    for m in up["members"]:
        entry = listed[m["name"]]
        assert entry["running"] and entry["healthy"] and entry["base"] == m["ports"]["base"], entry
        assert not entry["collisions"], entry
    status = env.cli_json("--profile", "fleet-3", "status")
    assert status["gateway"]["reachable"] is True, status
    # a member is its own process group (its tools' processes stop with it), not the supervisor's
    pid = member(fleet_status(env), "fleet-3")["pid"]
    assert os.getpgid(pid) == pid


def test_the_rescue_bot_operates_members_and_they_stay_supervised(fleet: tuple[Env, dict[str, Any]],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The rescue bot's `/restart` on a member restarts it in place; `/stop` leaves it down and
    `/start` has its supervisor start it again (never a second, unsupervised gateway beside it)."""
    import asyncio
    import tempfile

    from openclaw.profiles.paths import paths_for_state_dir
    from openclaw.rescue.operations import Target, restart, start, stop

    env, _ = fleet
    monkeypatch.setenv("HOME", env.vars["HOME"])
    monkeypatch.setenv("TMPDIR", env.vars["TMPDIR"])
    monkeypatch.setattr(tempfile, "tempdir", None)
    target = Target("fleet-4", paths_for_state_dir(env.state_dir("fleet-4"), env.home), env.vars)
    before = member(fleet_status(env), "fleet-4")
    said = asyncio.run(restart(target))
    assert said.startswith("fleet-4 restarted") and "healthy" in said, said
    after = member(fleet_status(env), "fleet-4")
    assert after["pid"] == before["pid"] and after["state"] == "serving" and after["restarts"] == before["restarts"]
    assert asyncio.run(stop(target)).startswith("fleet-4 stopped")
    wait_for(lambda: member(fleet_status(env), "fleet-4")["state"] == "stopped", timeout=30, interval=0.05,
             what="fleet-4 left down by its supervisor")
    said = asyncio.run(start(target))
    assert said.startswith("fleet-4 started") and "healthy" in said, said
    again = member(fleet_status(env), "fleet-4")
    assert again["state"] == "serving" and again["pid"] not in (None, before["pid"]), again
    assert f"pid {again['pid']}" in said  # the gateway serving is the supervisor's member


def test_a_killed_member_is_restarted_by_the_supervisor(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, _ = fleet
    before = member(fleet_status(env), "fleet-5")
    os.kill(before["pid"], signal.SIGKILL)
    after = wait_for(lambda: serving_again(env, "fleet-5", before["pid"], before["restarts"] + 1),
                     timeout=30, interval=0.1, what="fleet-5 restarted")
    assert after["lastExit"] == "killed by SIGKILL"
    assert healthz(after["ports"]["base"])
    ws, _ = handshake(after["ports"]["base"], env.token("fleet-5"))  # same profile, same token after the restart
    ws.close()


def test_restart_on_request_and_a_member_stopped_on_purpose(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, _ = fleet
    before = member(fleet_status(env), "fleet-7")
    env.cli("fleet", "restart", "fleet-7", check=True)
    wait_for(lambda: serving_again(env, "fleet-7", before["pid"], before["restarts"] + 1),
             timeout=30, interval=0.1, what="fleet-7 restarted on request")
    # stopped by someone else (an operator, the rescue bot): exit 0 is left down, not fought
    pid = member(fleet_status(env), "fleet-8")["pid"]
    os.kill(pid, signal.SIGTERM)
    stopped = wait_for(lambda: (m := member(fleet_status(env), "fleet-8"))["state"] == "stopped" and m,
                       timeout=30, interval=0.1, what="fleet-8 left down")
    assert stopped["lastExit"] == "exit 0" and stopped["pid"] is None
    env.cli("fleet", "restart", "fleet-8", check=True)
    wait_for(lambda: member(fleet_status(env), "fleet-8")["state"] == "serving", timeout=30, interval=0.1,
             what="fleet-8 started again")
    bad = env.cli("fleet", "restart", "fleet-99")
    assert bad.returncode == 1 and "no member fleet-99" in bad.stderr


def test_the_control_socket_refuses_nonsense(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, _ = fleet
    record = next((env.root / "tmp").glob("openclaw-*/fleets/*.json"))
    path = json.loads(record.read_text())["socket"]
    for payload in (b"not json\n", b"[1,2]\n", b'{"op": "explode"}\n', b"x" * 20000):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(path)
            sock.sendall(payload)
            answer = json.loads(sock.makefile().readline())
        assert answer["ok"] is False and answer["error"], answer
    with socket.socket(socket.AF_UNIX) as slow:  # says nothing: told so at its deadline, then closed
        slow.settimeout(15)
        slow.connect(path)
        slow.sendall(b'{"op": "sta')
        assert json.loads(slow.makefile().readline()) == {"ok": False, "error": "no whole request within 5s"}
    silent = [socket.socket(socket.AF_UNIX) for _ in range(20)]  # more than the supervisor hears at once
    try:
        for i, sock in enumerate(silent):
            sock.settimeout(15)
            try:
                sock.connect(path)
            except (BlockingIOError, ConnectionError):  # the backlog is full: refused, as it should be
                assert i > 0
        assert fleet_status(env)["running"] is True  # a silent client never blocks the others for long
        answer = json.loads(silent[0].makefile().readline())  # the oldest is dropped, or told at its deadline
        assert answer["ok"] is False and answer["error"] in (
            "no whole request within 5s", "more than 16 connections waiting; dropped"), answer
    finally:
        for sock in silent:
            sock.close()
    assert fleet_status(env)["running"] is True


def test_up_refuses_a_second_supervisor(fleet: tuple[Env, dict[str, Any]]) -> None:
    env, _ = fleet
    again = env.cli("fleet", "up", "2")
    assert again.returncode == 1 and "fleet fleet is already up" in again.stderr


def test_down_leaves_no_process_port_or_lock(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    low, _ = port_band()
    up = env.cli_json("fleet", "up", "4", "--prefix", "t", "--base-port", str(low + 600))
    pids = [m["pid"] for m in up["members"]] + [up["supervisor"]["pid"]]
    ports = [p for m in up["members"] for p in (m["ports"]["base"], m["ports"]["control"], m["ports"]["canvas"])]
    down = env.cli_json("fleet", "down", "--prefix", "t")
    assert down["wasRunning"] and sorted(down["stopped"]) == sorted(m["name"] for m in up["members"])
    assert not any(pid_alive(pid) for pid in pids)
    assert all(port_free(p) for p in ports)
    for m in up["members"]:
        lock_dir = Path(m["stateDir"]) / "tmp"
        assert not list(lock_dir.rglob("gateway.state.lock")), m["name"]
    assert not list((env.root / "tmp").rglob("*.sock"))
    listed = env.cli_json("gateways")["instances"]
    assert listed and not any(i["running"] for i in listed)
    status = env.cli_json("fleet", "status", "--prefix", "t")
    assert status["running"] is False and all(m["state"] == "down" for m in status["members"])
    purged = env.cli_json("fleet", "down", "--prefix", "t", "--purge")
    assert not purged["wasRunning"] and len(purged["purged"]) == 4
    assert not list(env.home.glob(".openclaw-t-*")) and not list((env.home / ".openclaw").glob("workspace-t-*"))


def test_a_supervisor_killed_outright_takes_its_members_with_it(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    low, _ = port_band()
    up = env.cli_json("fleet", "up", "3", "--prefix", "k", "--base-port", str(low + 900))
    pids = [m["pid"] for m in up["members"]]
    ports = [m["ports"]["base"] for m in up["members"]]
    os.kill(up["supervisor"]["pid"], signal.SIGKILL)
    wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=30, what="members gone with their supervisor")
    assert all(port_free(p) for p in ports)
    assert not any(i["running"] for i in env.cli_json("gateways")["instances"])
    again = env.cli_json("fleet", "up", "3", "--prefix", "k")  # and the fleet comes back on the same ports
    try:
        assert [m["ports"]["base"] for m in again["members"]] == ports
    finally:
        env.cli("fleet", "down", "--prefix", "k")


def test_a_launcher_that_stops_waiting_leaves_a_working_fleet(tmp_path: Path) -> None:
    """`fleet up --timeout` gave up (it closed its end before `ready`): the supervisor carries on."""
    from openclaw.fleet import launch
    from openclaw.fleet.members import fleet_files

    env = make_env(tmp_path)
    low, _ = port_band()
    files = fleet_files("g", env.home)
    proc = launch.spawn(files, env.vars)
    try:
        launch.prepare(files, launch.FleetRequest(2, "g", base_port=low + 1400), env.vars)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdout.close()  # gone before `ready`
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        wait_for(lambda: all(m["state"] == "serving" for m in fleet_status(env, "g")["members"]),
                 timeout=30, interval=0.1, what="members serving without their launcher")
        assert all(healthz(m["ports"]["base"]) for m in fleet_status(env, "g")["members"])
    finally:
        down = env.cli_json("fleet", "down", "--prefix", "g")
        proc.wait(timeout=30)
    assert down["wasRunning"] and proc.returncode == 0


def test_a_member_with_a_broken_config_is_refused_or_reported_and_left_down(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    low, _ = port_band()
    env.cli_json("fleet", "up", "2", "--prefix", "b", "--base-port", str(low + 1200))
    try:
        config = env.config("b-2")
        config["gateway"]["bind"] = "nowhere"
        env.write_config(config, "b-2")  # broken under a running member: its restart cannot serve
        env.cli("fleet", "restart", "b-2", "--prefix", "b", check=True)
        broken = wait_for(lambda: (m := member(fleet_status(env, "b"), "b-2"))["state"] == "config-error" and m,
                          timeout=30, interval=0.1, what="b-2 reported with a config error")
        assert broken["lastExit"] == "exit 78" and broken["pid"] is None
        assert member(fleet_status(env, "b"), "b-1")["state"] == "serving"
        assert "gateway.bind" in (env.state_dir("b-2") / "logs" / "fleet-console.log").read_text()
    finally:
        env.cli_json("fleet", "down", "--prefix", "b")
    again = env.cli("fleet", "up", "2", "--prefix", "b")  # and `fleet up` refuses it before starting anything
    assert again.returncode == 78 and "b-2" in again.stderr and "gateway.bind" in again.stderr
    assert fleet_status(env, "b")["running"] is False


HARNESS = textwrap.dedent("""
    import asyncio, json, sys, urllib.request
    from openclaw.fleet import Fleet

    async def main(base_port, config):
        async with Fleet(3, prefix="h", base_port=base_port, from_config=config) as fleet:
            out = {"members": [m.name for m in fleet.members], "pids": [m.pid for m in fleet.members]}
            m = fleet["h-2"]
            body = json.dumps({"model": "openclaw", "messages": [{"role": "user", "content": "hi"}]}).encode()
            req = urllib.request.Request(m.http_url + "/v1/chat/completions", data=body, method="POST",
                                         headers={"Authorization": "Bearer " + m.token,
                                                  "Content-Type": "application/json"})
            reply = await asyncio.to_thread(lambda: json.loads(urllib.request.urlopen(req, timeout=30).read()))
            out["reply"] = reply["choices"][0]["message"]["content"]
            wrong = urllib.request.Request(m.http_url + "/v1/chat/completions", data=body, method="POST",
                                           headers={"Authorization": "Bearer " + fleet["h-1"].token,
                                                    "Content-Type": "application/json"})
            try:
                await asyncio.to_thread(urllib.request.urlopen, wrong, None, 30)
                out["wrong"] = 200
            except urllib.error.HTTPError as exc:
                out["wrong"] = exc.code
            await fleet.restart("h-3")
            status = await fleet.status()
            out["states"] = [x["state"] for x in status["members"]]
            if sys.argv[3] == "vanish":
                print(json.dumps(out), flush=True)
                import os; os._exit(0)  # the harness dies inside the block: the lifeline ends the fleet
        print(json.dumps(out), flush=True)

    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
""")


@pytest.mark.parametrize("ending", ["exit", "vanish"])
def test_the_python_api_as_a_harness_uses_it(tmp_path: Path, model: ModelStandin, ending: str) -> None:
    env = make_env(tmp_path)
    low, _ = port_band()
    base = standin_config(tmp_path, model)
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    offset = 1600 if ending == "exit" else 2000
    proc = subprocess.run([PY, str(script), str(low + offset), str(base), ending], env=env.vars,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["members"] == ["h-1", "h-2", "h-3"] and all(out["pids"])
    assert out["reply"] and out["wrong"] == 401
    assert out["states"][:2] == ["serving", "serving"]
    wait_for(lambda: not any(pid_alive(p) for p in out["pids"]), timeout=30, what="members gone after the harness")
    record = json.loads(next((env.root / "tmp").glob("openclaw-*/fleets/h-*.json")).read_text())
    wait_for(lambda: json.loads(next((env.root / "tmp").glob("openclaw-*/fleets/h-*.json")).read_text())
             ["supervisor"] is None, timeout=30, what="supervisor gone")
    assert record["prefix"] == "h"


def test_a_harness_that_runs_out_of_patience_gets_no_fleet_left_running(tmp_path: Path) -> None:
    import asyncio

    from openclaw.errors import OpenClawError
    from openclaw.fleet import Fleet

    env = make_env(tmp_path)  # the same HOME and TMPDIR this test process has
    low, _ = port_band()
    fleet = Fleet(2, prefix="p", base_port=low + 2800, env=env.vars, timeout=0.001)
    with pytest.raises(OpenClawError, match=r"members not all serving after 0\.001s; stopped it"):
        asyncio.run(fleet.up())
    status = fleet_status(env, "p")
    assert status["running"] is False and all(m["pid"] is None for m in status["members"])
    # a stop that reached a member while it was being forked stopped that member, none needed SIGKILL
    assert "SIGKILL" not in Path(status["log"]).read_text()
    assert not any(i["running"] for i in env.cli_json("gateways")["instances"])


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    for args, needle in ((["fleet", "up", "0"], "0"), (["fleet", "up", "2", "--prefix", "dev"], "invalid fleet prefix"),
                         (["fleet", "up", "600"], "1 to 500 members"), (["fleet", "status"], "no fleet fleet"),
                         (["fleet", "restart", "fleet-1"], "fleet fleet is not running")):
        proc = env.cli(*args)
        assert proc.returncode != 0 and needle in proc.stderr, (args, proc.stderr)
    missing = env.cli("fleet", "up", "2", "--from-config", str(tmp_path / "nope.json"))
    assert missing.returncode == 78 and "no such file" in missing.stderr
    assert sys.executable


def _turn(port: int, token: str, text: str) -> int:
    body = json.dumps({"model": "openclaw", "user": "limits", "messages": [{"role": "user", "content": text}]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body,
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return 0  # the member went away mid-answer
    finally:
        conn.close()


def test_a_member_over_its_memory_is_restarted_and_reported(tmp_path: Path, model: ModelStandin) -> None:
    """A provider that streams without end: the member's reply outgrows its memory limit, the member
    (not the host, not its neighbour) ends, and the supervisor restarts it and says why."""
    env = make_env(tmp_path)
    low, _ = port_band()
    base = standin_config(tmp_path, model)
    up = env.cli_json("fleet", "up", "2", "--prefix", "m", "--memory", "96M", "--open-files", "256",
                      "--agent-concurrency", "2", "--from-config", str(base), "--base-port", str(low + 2400),
                      extra_env={"OPENCLAW_FLEET_CGROUP": "off"})
    try:
        assert up["limits"] == {"memory": 96 << 20, "openFiles": 256, "agentConcurrency": 2}
        assert env.config("m-1")["agents"]["defaults"]["maxConcurrent"] == 2
        status = fleet_status(env, "m")
        assert status["limitsBackend"]["backend"] == "rlimit", status
        first, second = (member(status, n) for n in ("m-1", "m-2"))
        port, token = first["ports"]["base"], env.token("m-1")
        assert _turn(port, token, "hello") == 200
        model.script(Reply(text="x" * (160 << 20), chunk=4 << 20))
        assert _turn(port, token, "tell me everything") != 200
        after = wait_for(lambda: (m := member(fleet_status(env, "m"), "m-1"))["overLimit"] == 1
                         and m["state"] == "serving" and m, timeout=60, interval=0.1, what="m-1 restarted")
        assert after["restarts"] == 1 and "memory" in after["lastExit"], after
        assert _turn(port, token, "hello again") == 200
        neighbour = member(fleet_status(env, "m"), "m-2")
        assert neighbour["pid"] == second["pid"] and neighbour["restarts"] == 0
        log = Path(json.loads(next((env.root / "tmp").glob("openclaw-*/fleets/m-*.json")).read_text())["log"])
        assert "m-1: ran out of memory" in log.read_text()
    finally:
        env.cli("fleet", "down", "--prefix", "m")
