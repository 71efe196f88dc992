"""Per-member limits of a fleet: parsing, the way memory is held, and real forked members held to them.

Members are forked from the test process as the supervisor forks them (`os.fork`, then
`Enforcer.in_child`), so each limit is seen applied by the kernel: RLIMIT_NOFILE stops opens
with EMFILE, RLIMIT_AS turns an allocation into MemoryError that an armed catch-all ends with
exit 75, a real gateway serves and answers agent turns at the smallest limits `parse` accepts,
and, where this machine offers cgroup v2 with the memory controller, the kernel kills a member
at its `memory.max`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from helpers import PY, Env, free_base, handshake, healthz, wait_for
from websockets.exceptions import ConnectionClosed

from openclaw import memguard
from openclaw.errors import UsageError
from openclaw.fleet import cgroup
from openclaw.fleet.limits import (
    MIN_MEMORY,
    MIN_OPEN_FILES,
    OVER_LIMIT_EXIT,
    Enforcer,
    MemberLimits,
    format_size,
    parse_size,
)

OFF = {cgroup.CGROUP_ENV: "off"}
STANDIN = Path(__file__).resolve().parents[1] / "bench" / "model_standin.py"


# -- parsing --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "size"), [
    ("256M", 256 << 20), ("1G", 1 << 30), ("300MiB", 300 << 20), ("512mb", 512 << 20), ("1.5g", 3 << 29),
    ("268435456", 268435456), (" 2048 K ", 2 << 20), ("64MIB", 64 << 20),
])
def test_sizes_read_as_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_sizes_print_in_the_largest_unit() -> None:
    assert [format_size(n) for n in (256 << 20, 3 << 29, 1536, 12)] == ["256 MiB", "1.5 GiB", "1.5 KiB", "12 B"]


@pytest.mark.parametrize(("args", "message"), [
    (("lots", None, None), "--memory 'lots': expected a size such as 256M"),
    (("-5M", None, None), "--memory '-5M': expected a size"),
    (("32M", None, None), "--memory 32M: a member needs at least 64 MiB"),
    ((None, 10, None), "--open-files 10: a member needs at least 64"),
    ((None, None, 0), "--agent-concurrency 0: expected 1 to 1024"),
    ((None, None, 5000), "--agent-concurrency 5000: expected 1 to 1024"),
])
def test_bad_limits_are_refused_in_one_line(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        MemberLimits.parse(*args)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root may raise its own hard limit")
def test_open_files_above_the_hard_limit_are_refused() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard open-files limit here")
    with pytest.raises(UsageError, match="hard limit"):
        MemberLimits.parse(None, hard + 1, None)


def test_limits_round_trip_the_record_and_become_config() -> None:
    limits = MemberLimits.parse("300MiB", 256, 3)
    assert limits.as_dict() == {"memory": 300 << 20, "openFiles": 256, "agentConcurrency": 3}
    assert MemberLimits.from_dict(json.loads(json.dumps(limits.as_dict()))) == limits
    assert limits.any and not MemberLimits().any and MemberLimits.parse(None, None, None) == MemberLimits()
    assert limits.config_overrides() == {"agents": {"defaults": {"maxConcurrent": 3}}}
    assert MemberLimits.parse("1G", None, None).config_overrides() == {}


def test_the_concurrency_override_bounds_the_agent_runtime() -> None:
    """The override passes the config schema and is what the runtime's run semaphore is sized by."""
    from openclaw.agents.runtime import max_concurrent
    from openclaw.config.validate import validate_config
    from openclaw.config.view import Config

    overrides = MemberLimits.parse(None, None, 2).config_overrides()
    assert validate_config(overrides)[1] == []
    assert max_concurrent(Config(overrides)) == 2


# -- choosing the way -----------------------------------------------------------------------------
def test_no_memory_limit_holds_nothing() -> None:
    enforcer = Enforcer(MemberLimits(open_files=128), {})
    assert (enforcer.backend, enforcer.reason) == ("none", "no memory limit asked")
    assert enforcer.child_env("m") == {}


def test_cgroups_off_means_rlimit() -> None:
    enforcer = Enforcer(MemberLimits(memory_bytes=256 << 20), OFF)
    assert enforcer.backend == "rlimit"
    assert enforcer.reason == "OPENCLAW_FLEET_CGROUP=off: RLIMIT_AS, 256 MiB beyond the shared stack"
    assert enforcer.child_env("m") == {"MALLOC_ARENA_MAX": "1"}


def test_no_user_bus_means_rlimit_and_says_why(tmp_path: Path) -> None:
    no_bus = {"PATH": os.environ["PATH"], "XDG_RUNTIME_DIR": str(tmp_path)}
    enforcer = Enforcer(MemberLimits(memory_bytes=1 << 30), no_bus)
    assert enforcer.backend == "rlimit"
    assert enforcer.reason.endswith(": RLIMIT_AS, 1 GiB beyond the shared stack")
    assert enforcer.reason.startswith(("no user systemd bus", "no busctl on PATH"))


def test_a_dir_that_is_no_cgroup_falls_back_to_rlimit(tmp_path: Path) -> None:
    enforcer = Enforcer(MemberLimits(memory_bytes=128 << 20), {cgroup.CGROUP_ENV: str(tmp_path)})
    assert enforcer.backend == "rlimit"
    assert enforcer.reason.startswith(f"OPENCLAW_FLEET_CGROUP={tmp_path} is not a cgroup v2 directory: RLIMIT_AS")


def test_a_cgroup_without_the_memory_controller_falls_back_to_rlimit() -> None:
    here = own_cgroup()
    if here is None or not (here / "cgroup.procs").exists():
        pytest.skip("no cgroup v2 hierarchy mounted here")
    if "memory" in cgroup.controllers(here):
        pytest.skip(f"{here} has the memory controller (the cgroup test below covers it)")
    enforcer = Enforcer(MemberLimits(memory_bytes=128 << 20), {cgroup.CGROUP_ENV: str(here)})
    assert enforcer.backend == "rlimit"
    assert f"OPENCLAW_FLEET_CGROUP={here} has no memory controller (it offers: " in enforcer.reason


def test_unit_names_never_nest_a_slice() -> None:
    assert cgroup.unit_escape("fleet-01") == "fleet\\x2d01"
    assert cgroup.unit_escape("a.b_c:d") == "a.b_c:d"


# -- memguard -------------------------------------------------------------------------------------
def test_memguard_unarmed_does_nothing() -> None:
    assert not memguard.armed()
    memguard.check(MemoryError())  # an ordinary gateway lives on


def test_memguard_sees_memory_errors_behind_others() -> None:
    try:
        try:
            raise MemoryError
        except MemoryError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert memguard.out_of_memory(outer)
    assert not memguard.out_of_memory(ValueError("no"))


# -- real members ---------------------------------------------------------------------------------
# A member is forked by a lean parent process, as the supervisor forks it: one thread, the gateway
# stack imported. The test process is not one: pytest-xdist's workers run threads, each with a
# malloc arena whose reserved address space a forked member could grow into unseen by RLIMIT_AS.
LEAN_PARENT = ("import json, sys; sys.path.insert(0, {tests!r}); import test_fleet_limits as t; "
               "t.lean_parent(json.loads(sys.argv[1]))")


def lean_parent(spec: dict[str, Any]) -> None:
    """In the lean parent: import what the supervisor imports, fork the member, say its pid, wait for
    its end, say its raw wait status."""
    from openclaw.fleet.preload import preload

    preload()
    gc.freeze()
    enforcer = Enforcer(MemberLimits(**spec["limits"]), spec["env"])
    pid = os.fork()
    if pid == 0:
        member(enforcer, spec)
    print(json.dumps({"pid": pid}), flush=True)
    print(json.dumps({"status": os.waitpid(pid, 0)[1]}), flush=True)


def member(enforcer: Enforcer, spec: dict[str, Any]) -> NoReturn:
    """The forked member: its console to its log, its own environment, its limits, then its body."""
    code = 99
    try:
        out = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        if spec.get("member_env"):
            os.environ.clear()
            os.environ.update({**spec["member_env"], **enforcer.child_env(spec["name"])})
            tempfile.tempdir = None  # the member's TMPDIR (its runtime dir), not the parent's
        enforcer.in_child(spec["name"])
        code = BODIES[spec["body"]](spec)
    except BaseException:  # noqa: BLE001 - told in the log, which the test shows
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def open_until_refused(spec: dict[str, Any]) -> int:
    opened = []
    try:
        while True:
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        highest = max(opened)
        for fd in opened:
            os.close(fd)
        Path(spec["report"]).write_text(json.dumps({"errno": exc.errno, "highest": highest,
                                                    "limit": resource.getrlimit(resource.RLIMIT_NOFILE)}))
    return 0


def run_a_hungry_tool(spec: dict[str, Any]) -> int:
    """An agent turn's tool call (through the turn's armed catch-all) to a tool that eats memory."""
    from openclaw.agents import turn
    from openclaw.agents.tools import Tool, ToolContext
    from openclaw.models.types import ToolSpec

    held: list[bytes] = []

    async def hog(_args: dict[str, Any], _ctx: ToolContext) -> str:
        while True:  # a megabyte at a time, written, as a runaway buffer grows
            held.append(b"x" * (1 << 20))

    tool = Tool(ToolSpec("hog", "eats memory", {"type": "object"}), hog)
    context = ToolContext(Path(spec["log"]).parent, "main", "k", True)
    text, failed = asyncio.run(turn._use(tool, "hog", {}, context))
    print(f"the member lived on: {text!r} failed={failed}")
    return 0


def serve(spec: dict[str, Any]) -> int:
    from openclaw.gateway.process.runner import run_gateway
    from openclaw.gateway.settings import RunOptions
    from openclaw.profiles.paths import paths_for_state_dir

    paths = paths_for_state_dir(Path(spec["state_dir"]), Path(spec["home"]))
    return run_gateway(paths, RunOptions(), dict(os.environ))


def grow_once_placed(spec: dict[str, Any]) -> int:
    with open(spec["go"], "rb") as go:  # a FIFO: opens once the test has placed this member
        go.read(1)
    held = [b"x" * (1 << 20) for _ in range(4 * (spec["limits"]["memory_bytes"] >> 20))]
    print(f"the member lived on with {len(held)} MiB")
    return 0


BODIES: dict[str, Callable[[dict[str, Any]], int]] = {
    "files": open_until_refused, "hog": run_a_hungry_tool, "serve": serve, "grow": grow_once_placed}


class Forked:
    """A member forked by a lean parent: its pid at once, its raw wait status when it has ended."""

    def __init__(self, tmp_path: Path, name: str, body: str, limits: MemberLimits, env: dict[str, str],
                 **extra: Any) -> None:
        self.name, self.log = name, tmp_path / f"{name}.log"
        spec = {"name": name, "body": body, "env": env, "log": str(self.log), **extra,
                "limits": {"memory_bytes": limits.memory_bytes, "open_files": limits.open_files,
                           "agent_concurrency": limits.agent_concurrency}}
        code = LEAN_PARENT.format(tests=str(Path(__file__).parent))
        self.parent = subprocess.Popen([PY, "-c", code, json.dumps(spec)], stdout=subprocess.PIPE, text=True)
        assert self.parent.stdout is not None
        self.pid = int(json.loads(self.parent.stdout.readline())["pid"])
        self.enforcer = Enforcer(limits, env)  # the supervisor's view of it, for over_limit

    def running(self) -> bool:
        return self.parent.poll() is None  # the parent leaves as soon as the member has ended

    def status(self) -> int:
        assert self.parent.stdout is not None
        line = self.parent.stdout.readline()
        self.parent.wait(timeout=30)
        assert line, f"the lean parent died:\n{self.output()}"
        return int(json.loads(line)["status"])

    def stop(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        return self.status()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def proc_limit(pid: int, label: str) -> tuple[str, str]:
    """(soft, hard) of one line of /proc/PID/limits ('Max open files', 'Max address space')."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(label):
            soft, hard = line[len(label):].split()[:2]
            return soft, hard
    raise AssertionError(f"no {label!r} in /proc/{pid}/limits")


def test_open_files_stop_at_the_limit(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    forked = Forked(tmp_path, "files", "files", MemberLimits.parse(None, MIN_OPEN_FILES, None), {},
                    report=str(report))
    status = forked.status()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, forked.output()
    seen = json.loads(report.read_text())
    assert seen == {"errno": errno.EMFILE, "highest": MIN_OPEN_FILES - 1, "limit": [MIN_OPEN_FILES, MIN_OPEN_FILES]}
    assert forked.enforcer.over_limit("files", status) is None


def test_a_member_out_of_memory_exits_75_and_is_named(tmp_path: Path) -> None:
    """A tool that eats memory in a member: the agent turn's catch-all meets the MemoryError, and
    memguard ends the member instead of telling the model 'error: hog failed'."""
    forked = Forked(tmp_path, "hog", "hog", MemberLimits.parse("64M", None, None), OFF)
    status = forked.status()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == OVER_LIMIT_EXIT, forked.output()
    line = forked.output().strip()
    assert line.startswith("fleet member hog (memory limit 64 MiB, rlimit): out of memory; exiting 75"), line
    assert "(in test_fleet_limits.run_a_hungry_tool" in line and len(line.splitlines()) == 1
    assert forked.enforcer.over_limit("hog", status) == "ran out of memory at its limit (64 MiB, rlimit)"
    assert forked.enforcer.over_limit("hog", 1 << 8) is None  # an ordinary failure is not the limit's


@pytest.fixture
def standin() -> Iterator[str]:
    """The stand-in model in its own process."""
    proc = subprocess.Popen([PY, str(STANDIN)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def agent_turn(ws: Any, req_id: str, session: str, text: str) -> dict[str, Any]:
    ws.send({"type": "req", "id": req_id, "method": "agent",
             "params": {"message": text, "idempotencyKey": req_id, "sessionKey": session, "deliver": False}})
    while True:
        msg = ws.recv(timeout=30)
        if msg.get("id") == req_id and not (msg.get("ok") and msg["payload"].get("status") == "accepted"):
            return msg


def overrides_as_pairs(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in tree.items():
        if isinstance(value, dict):
            pairs += overrides_as_pairs(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", json.dumps(value)))
    return pairs


def gateway_member(env: Env, tmp_path: Path, name: str, limits: MemberLimits) -> tuple[Forked, int]:
    """A provisioned profile's gateway, forked and held to `limits` (RLIMIT_AS), healthy: (member, port)."""
    port = env.config(name)["gateway"]["port"]
    forked = Forked(tmp_path, name, "serve", limits, OFF, member_env={**env.vars, "OPENCLAW_PROFILE": name},
                    state_dir=str(env.state_dir(name)), home=str(env.home))

    def up() -> bool:
        if not forked.running():
            raise AssertionError(f"the member ended ({forked.status():#x}):\n{forked.output()}")
        return healthz(port)

    try:
        wait_for(up, 30, what=f"member {name} healthy")
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(forked.pid, signal.SIGKILL)
        raise
    return forked, port


def test_a_gateway_member_serves_at_the_smallest_limits(env: Env, tmp_path: Path, standin: str) -> None:
    """The floor: a member held to the least memory (RLIMIT_AS) and open files `parse` accepts starts,
    answers /healthz and agent turns, with its concurrency from the override, and stops cleanly."""
    limits = MemberLimits(MIN_MEMORY, MIN_OPEN_FILES, 2)
    env.provision("floor", free_base())
    env.use_model(standin, profile="floor")
    env.set_config(*overrides_as_pairs(limits.config_overrides()), profile="floor")
    forked, port = gateway_member(env, tmp_path, "floor", limits)
    try:
        assert proc_limit(forked.pid, "Max open files") == (str(MIN_OPEN_FILES), str(MIN_OPEN_FILES))
        soft, hard = proc_limit(forked.pid, "Max address space")
        assert soft == hard and int(soft) - MIN_MEMORY < 1 << 30  # the shared stack + 64 MiB
        ws, _ = handshake(port, env.token("floor"), scopes=["operator.write", "operator.read"])
        lanes = ws.request("diagnostics.lanes", {}, req_id="lanes")
        assert lanes["payload"]["lanes"][0]["maxConcurrent"] == 2
        for i in range(20):
            final = agent_turn(ws, f"t{i}", f"agent:main:s{i % 4}", "hello " * 500)
            assert final["ok"] and final["payload"]["status"] == "ok", final
        ws.ws.close()
        assert healthz(port)
    finally:
        status = forked.stop()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, forked.output()
    assert forked.enforcer.over_limit("floor", status) is None
    assert "out of memory" not in forked.output()


def test_a_gateway_member_past_its_limit_ends_and_is_named(env: Env, tmp_path: Path) -> None:
    """A client's 24 MB frame (within the protocol's 25 MB) cannot be read within 32 MiB: the member
    does not drop the connection and serve on, it exits 75 and the supervisor can say why."""
    env.provision("small", free_base())
    forked, port = gateway_member(env, tmp_path, "small", MemberLimits(memory_bytes=32 << 20))  # below the floor
    try:
        ws, _ = handshake(port, env.token("small"), scopes=["operator.write", "operator.read"])
        with contextlib.suppress(OSError, ConnectionClosed):  # the connection goes with the member
            ws.send({"type": "req", "id": "big", "method": "health", "params": {"pad": "x" * (24 << 20)}})
            ws.recv(timeout=30)
        status = forked.status()
    finally:
        if forked.running():
            forked.stop()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == OVER_LIMIT_EXIT, forked.output()
    assert "fleet member small (memory limit 32 MiB, rlimit): out of memory; exiting 75" in forked.output()
    assert forked.enforcer.over_limit("small", status) == "ran out of memory at its limit (32 MiB, rlimit)"


# -- cgroup v2 ------------------------------------------------------------------------------------
def own_cgroup() -> Path | None:
    """This process's directory in the cgroup v2 hierarchy, if one is mounted."""
    mount = cgroup.unified_mount()
    if mount is None:
        return None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return mount / line[3:].lstrip("/")
    return None


@pytest.fixture
def cgroup_dir() -> Iterator[Path]:
    """A fresh child of this process's cgroup with the memory controller, or a skip saying what is missing."""
    here = own_cgroup()
    if here is None:
        pytest.skip("no cgroup v2 hierarchy mounted here")
    if "memory" not in cgroup.controllers(here):
        offered = " ".join(sorted(cgroup.controllers(here))) or "none"
        v1 = "; memory is on cgroup v1 here" if Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() else ""
        pytest.skip(f"cgroup v2 at {here} has no memory controller (it offers: {offered}{v1})")
    made = here / f"openclaw-test-{uuid.uuid4().hex[:8]}"
    try:
        made.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot make a cgroup under {here}: {exc.strerror}")
    try:
        yield made
    finally:
        for child in made.glob("openclaw-*"):
            with contextlib.suppress(OSError):
                child.rmdir()
        with contextlib.suppress(OSError):
            made.rmdir()


def test_the_kernel_stops_a_member_at_its_cgroup_limit(cgroup_dir: Path, tmp_path: Path) -> None:
    """The supervisor's side (this process) places the member in its cgroup; the member then grows to
    four times its limit and the kernel ends it there."""
    env = {cgroup.CGROUP_ENV: str(cgroup_dir)}
    probe = Enforcer(MemberLimits.parse("64M", None, None), env)
    if probe.backend != "cgroup":
        pytest.skip(f"the cgroup way is not usable here: {probe.reason}")
    go = tmp_path / "go"
    os.mkfifo(go)
    forked = Forked(tmp_path, "big", "grow", MemberLimits.parse("64M", None, None), env, go=str(go))
    forked.enforcer.place("big", forked.pid)
    assert str(forked.pid) in (cgroup_dir / "openclaw-big" / "cgroup.procs").read_text().split()
    assert (cgroup_dir / "openclaw-big" / "memory.max").read_text().strip() == str(64 << 20)
    with open(go, "wb") as start:
        start.write(b"!")
    status = forked.status()
    reason = forked.enforcer.over_limit("big", status)
    assert reason in ("killed by the kernel at its memory limit (64 MiB, cgroup)",
                      "ran out of memory at its limit (64 MiB, cgroup)"), (status, forked.output())
    forked.enforcer.release("big")
    assert not (cgroup_dir / "openclaw-big").exists()
    forked.enforcer.close()
