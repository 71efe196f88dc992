"""Bringing a fleet up and down from a launcher process (the CLI or a harness's API).

The launcher makes the members (`plan.py`), writes the fleet's record, starts the supervisor
(`python -m openclaw.fleet.supervisor`) and reads its one `ready` line. Everything after that
goes through the control socket the record names.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openclaw.errors import OpenClawError
from openclaw.fleet.control import FleetUnreachable, request, socket_path
from openclaw.fleet.members import DEFAULT_PREFIX, FleetFiles, member_paths
from openclaw.fleet.plan import MemberPlan, plan_fleet, read_base_config
from openclaw.fleetlink import running_supervisor
from openclaw.fsutil import atomic_write, ensure_private_dir
from openclaw.procutil import pid_alive

READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FleetRequest:
    """What `fleet up` was asked for."""

    count: int
    prefix: str = DEFAULT_PREFIX
    model: str | None = None
    from_config: Path | None = None
    base_port: int | None = None
    limits: dict[str, Any] = field(default_factory=dict)  # MemberLimits.as_dict()
    overrides: dict[str, Any] = field(default_factory=dict)  # config every member gets (limits')


def limits_asked(memory: str | None, open_files: int | None,
                 agent_concurrency: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The limits as the record keeps them, and the config every member gets for them."""
    if memory is None and open_files is None and agent_concurrency is None:
        return {}, {}
    from openclaw.fleet.limits import MemberLimits

    limits = MemberLimits.parse(memory, open_files, agent_concurrency)
    return limits.as_dict(), limits.config_overrides()


def supervisor_alive(files: FleetFiles) -> dict[str, Any] | None:
    """The running supervisor's entry from the record, or None."""
    record = files.read_record()
    return record if record is not None and running_supervisor(record) is not None else None


def refuse_running(files: FleetFiles) -> None:
    running = supervisor_alive(files)
    if running is not None:
        raise OpenClawError(
            f"fleet {files.prefix} is already up (supervisor pid {running['supervisor']['pid']}, "
            f"{len(running.get('members', []))} members); `openclaw fleet down --prefix {files.prefix}` first, "
            "or pick another --prefix")


def prepare(files: FleetFiles, req: FleetRequest, env: Mapping[str, str]) -> tuple[list[MemberPlan], dict[str, Any]]:
    """Make the members and write the record the supervisor starts from."""
    refuse_running(files)
    base = read_base_config(req.from_config, env) if req.from_config else None
    plans = plan_fleet(files.home, env, files.prefix, req.count, req.model, base, req.overrides or None, req.base_port,
                       files.record)
    record = {
        "prefix": files.prefix,
        "home": str(files.home),
        "socket": str(socket_path(files.socket)),
        "log": str(files.log),
        "limits": req.limits,
        "members": [{"name": p.name, "stateDir": str(p.paths.state_dir), "configPath": str(p.paths.config_path),
                     "port": p.port, "footprint": p.footprint.as_dict()} for p in plans],
        "supervisor": None,
    }
    ensure_private_dir(files.directory)
    atomic_write(files.record, json.dumps(record, indent=2) + "\n")
    return plans, record


def supervisor_command(files: FleetFiles, lifeline: bool) -> list[str]:
    return [sys.executable, "-m", "openclaw.fleet.supervisor", str(files.record), *(["--lifeline"] if lifeline else [])]


def parse_ready(line: bytes, files: FleetFiles) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or event.get("event") != "ready":
        raise OpenClawError(f"the fleet supervisor stopped before its members were up; see {files.log}"
                            + _log_tail(files))
    return event


def up(files: FleetFiles, req: FleetRequest, env: Mapping[str, str], timeout: float = READY_TIMEOUT_S,
       lifeline: bool = False) -> tuple[subprocess.Popen[bytes], dict[str, Any], dict[str, Any]]:
    """Start the supervisor, make the members while it loads the stack, let it go and wait for
    `ready`: (the supervisor's process, the record, the ready event). With `lifeline` its stdin stays
    open, held by the caller: when it closes, the fleet goes down."""
    refuse_running(files)
    proc = spawn(files, env, lifeline)
    try:
        _plans, record = prepare(files, req, env)
    except BaseException:
        abandon(proc)
        raise
    return proc, record, go_and_wait(proc, files, timeout, keep_stdin=lifeline)


def spawn(files: FleetFiles, env: Mapping[str, str], lifeline: bool = False) -> subprocess.Popen[bytes]:
    """Start the supervisor in its own session (without a lifeline it outlives this process); it
    loads the gateway stack while the caller makes the members, and waits for `go`."""
    ensure_private_dir(files.directory)
    with open(files.log, "ab") as log:
        return subprocess.Popen(supervisor_command(files, lifeline), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=log, env=dict(env), start_new_session=True)


def abandon(proc: subprocess.Popen[bytes]) -> None:
    """Close the supervisor's input and wait for it: before `go` it exits without starting anything,
    after it (a lifeline) it stops every member first."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    proc.wait(timeout=30)


def go_and_wait(proc: subprocess.Popen[bytes], files: FleetFiles, timeout: float = READY_TIMEOUT_S,
                keep_stdin: bool = False) -> dict[str, Any]:
    """Tell the supervisor the record is written, and wait for its `ready` line."""
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        if not keep_stdin:
            proc.stdin.close()
    except BrokenPipeError:
        pass  # it died loading: its log says why, and the read below ends at once
    try:
        line = _read_line(proc.stdout, timeout)
    finally:
        proc.stdout.close()
    if line is None and keep_stdin:
        abandon(proc)  # the caller would hold a lifeline to a fleet it never got: it goes down
        raise OpenClawError(f"fleet {files.prefix}: members not all serving after {timeout:g}s; stopped it "
                            f"(log {files.log})")
    if line is None:
        raise OpenClawError(f"fleet {files.prefix}: members not all serving after {timeout:g}s; the fleet stays up "
                            f"(`openclaw fleet status --prefix {files.prefix}`, log {files.log})")
    return parse_ready(line, files)


def _read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    """One line from the supervisor's stdout within `timeout`; b"" when it closed first."""
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return data
            data += chunk
    return data.split(b"\n", 1)[0]


def _log_tail(files: FleetFiles, lines: int = 5) -> str:
    try:
        tail = files.log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("\n" + "\n".join(tail)) if tail else ""


def merge_report(record: dict[str, Any], live: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each member as the record planned it, with the supervisor's view of it when one runs."""
    states = {m["name"]: m for m in (live or {}).get("members", [])}
    out = []
    for m in record.get("members", []):
        state = states.get(m["name"], {})
        out.append({
            "name": m["name"], "profile": m["name"], "stateDir": m["stateDir"], "configPath": m["configPath"],
            "url": f"ws://127.0.0.1:{m['port']}", "httpUrl": f"http://127.0.0.1:{m['port']}",
            "tokenSource": "config:gateway.auth.token", "ports": m.get("footprint") or {"base": m["port"]},
            "pid": state.get("pid"), "state": state.get("state", "down"), "restarts": state.get("restarts", 0),
            "overLimit": state.get("overLimit", 0), "lastExit": state.get("lastExit"),
        })
    return out


def status(files: FleetFiles) -> dict[str, Any]:
    record = files.read_record()
    if record is None:
        raise OpenClawError(f"no fleet {files.prefix} in this HOME ({files.home}); `openclaw fleet up N` makes one")
    live = None
    if supervisor_alive(files) is not None:
        try:
            live = request(Path(record["socket"]), "status")
        except FleetUnreachable:
            live = None
    return {"ok": True, "prefix": files.prefix, "running": live is not None,
            "supervisor": record.get("supervisor") if live is not None else None,
            "limits": record.get("limits") or {}, "limitsBackend": (live or {}).get("limitsBackend"),
            "log": record.get("log"), "members": merge_report(record, live)}


def down(files: FleetFiles, purge: bool = False, timeout: float = 30.0) -> dict[str, Any]:
    """Stop every member (the supervisor stops them in parallel) and wait for the supervisor to go."""
    record = files.read_record()
    running = supervisor_alive(files)
    stopped: list[str] = []
    if running is not None and record is not None:
        answer = request(Path(record["socket"]), "down", timeout=timeout)
        stopped = list(answer.get("stopped") or [])
        pid, marker = running["supervisor"]["pid"], running["supervisor"].get("startMarker")
        deadline = time.monotonic() + 5.0
        while pid_alive(pid, marker) and time.monotonic() < deadline:
            time.sleep(0.01)
    purged = purge_members(files, record) if purge else []
    return {"ok": True, "prefix": files.prefix, "wasRunning": running is not None, "stopped": stopped,
            "purged": purged}


def purge_members(files: FleetFiles, record: dict[str, Any] | None) -> list[str]:
    """Remove the members' state dirs and workspaces, and the fleet's record and log."""
    names = [m["name"] for m in (record or {}).get("members", [])]
    if not names:
        prefix = f".openclaw-{files.prefix}-"
        names = sorted(p.name[len(".openclaw-"):] for p in files.home.glob(f"{prefix}*")
                       if p.name[len(prefix):].isdigit())
    for name in names:
        paths = member_paths(files.home, name)
        shutil.rmtree(paths.state_dir, ignore_errors=True)
        shutil.rmtree(paths.default_workspace, ignore_errors=True)
    for path in (files.record, files.log):
        path.unlink(missing_ok=True)
    return names

