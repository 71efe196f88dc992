"""The fleet's supervisor: a warm parent that forks every member and keeps them up.

It imports the gateway stack once (no config, no secrets, no event loop, no threads), freezes
the heap so the pages stay shared, and forks one member per profile; each member resets what it
inherited (signals, descriptors, random state), loads its own config and serves as an ordinary
gateway in its own process group. The supervisor is one thread around one `select`: member
deaths (SIGCHLD), the members' "serving" notes (a pipe), the control socket, the launcher's
lifeline, and restart timers. A member that dies is restarted with backoff, one that dies five
times in two minutes is left down (crash loop), exit 0 (stopped on purpose) and 78 (its config is
wrong) are left down, and one over its limit is restarted and reported. SIGTERM stops all members
in parallel.

Run as `python -m openclaw.fleet.supervisor RECORD [--lifeline]`; the launcher (`openclaw
fleet up`, `openclaw.fleet.Fleet`) starts it first, makes the members and writes RECORD while the
stack loads here, then writes `go` on stdin and reads one JSON line from stdout: `ready`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openclaw.fleet.child import SUPERVISOR_SIGNALS, run_member
from openclaw.fleet.control import MAX_CLIENTS, REQUEST_TIMEOUT_S, Conversation, listen, peer_is_us
from openclaw.fleet.member import Member
from openclaw.fleet.preload import preload
from openclaw.fsutil import atomic_write

STOP_GRACE_S = 10.0


class Supervisor:
    def __init__(self, record_path: Path, lifeline: bool, env: Mapping[str, str]) -> None:
        self.env = dict(env)  # what every member starts from (each gets its own profile in it)
        self.record_path = record_path
        self.record: dict[str, Any] = json.loads(record_path.read_text())
        self.lifeline = lifeline
        self.selector = selectors.DefaultSelector()
        self.members = [Member.from_record(m) for m in self.record["members"]]
        self.by_pid: dict[int, Member] = {}
        self.stopping = False
        self.stop_deadline: float | None = None
        self.reported_ready = False
        self.began = time.monotonic()
        self.waiting_down: list[Conversation] = []
        self.reading: list[Conversation] = []  # connections whose request is not in yet (deadline each)
        self.enforcer = _enforcer(self.record.get("limits") or {}, self.env)
        self.ready_r, self.ready_w = os.pipe()
        self.ready_buffer = b""
        self.wake_r, self.wake_w = os.pipe()
        self.control = listen(Path(self.record["socket"]))

    # -- top level ----------------------------------------------------------------------------
    def run(self) -> int:
        self._install_signals()
        self._publish()
        self.began = time.monotonic()
        gc.collect()
        gc.freeze()  # everything imported so far stays on pages the members share
        for member in self.members:
            self._start(member)
        _log(f"{len(self.members)} members forked in {time.monotonic() - self.began:.2f} s")
        try:
            while not (self.stopping and not self.by_pid):
                self._step()
        except Exception as exc:  # noqa: BLE001 - a supervisor bug stops the fleet cleanly, never orphans it
            _log(f"supervisor failed: {type(exc).__name__}: {exc}; stopping every member")
            self._stop_plainly()
            self._finish()
            return 1
        self._finish()
        return 0

    def _stop_plainly(self) -> None:
        """Without the loop: SIGTERM every member, wait for them, SIGKILL what is left."""
        self.stopping = False  # stop_all signals again, whatever it had done
        self.stop_all()
        deadline = time.monotonic() + STOP_GRACE_S
        while self.by_pid and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for pid in list(self.by_pid):
            _signal_group(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.by_pid.clear()

    def _step(self) -> None:
        now = time.monotonic()
        for event_key, _mask in self.selector.select(self._timeout(now)):
            handler = event_key.data
            handler(event_key.fileobj)
        self._reap()
        self._drop_slow_readers(time.monotonic())
        self._due(time.monotonic())
        self._maybe_ready()

    def _timeout(self, now: float) -> float:
        moments = [m.next_start for m in self.members if m.next_start is not None and not self.stopping]
        if self.stop_deadline is not None:
            moments.append(self.stop_deadline)
        moments += [c.deadline for c in self.reading]
        return max(0.0, min(moments) - now) if moments else 5.0

    # -- members ------------------------------------------------------------------------------
    def _start(self, member: Member) -> None:
        member.next_start = None
        me = os.getpid()
        # Signals stay blocked across the fork: until the member has put back the default handlers,
        # a stop meant for it would otherwise run the supervisor's handler in the member (and stop
        # its siblings instead of it).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISOR_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the member: never returns
            run_member(member, self.env, self.ready_w, self.enforcer, me, keep=(self.ready_w,))
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        member.started(pid)
        self.by_pid[pid] = member
        if self.enforcer is not None:
            self.enforcer.place(member.name, pid)

    def _reap(self) -> None:
        while self.by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            member = self.by_pid.pop(pid, None)
            if member is not None:
                self._ended(member, status)

    def _ended(self, member: Member, status: int) -> None:
        over = self.enforcer.over_limit(member.name, status) if self.enforcer is not None else None
        verdict = member.ended(status, over, stopping=self.stopping, now=time.monotonic())
        _log(f"{member.name}: {verdict}")
        if member.state in ("failed", "stopped", "config-error") and self.enforcer is not None:
            self.enforcer.release(member.name)

    def _due(self, now: float) -> None:
        if self.stopping:
            if self.stop_deadline is not None and now >= self.stop_deadline:
                for member in self.by_pid.values():
                    _signal_group(member.pid, signal.SIGKILL)
                self.stop_deadline = None
            return
        for member in self.members:
            if member.next_start is not None and now >= member.next_start:
                self._start(member)

    def _on_ready_note(self, _fileobj: Any) -> None:
        self.ready_buffer += os.read(self.ready_r, 65536)
        *lines, self.ready_buffer = self.ready_buffer.split(b"\n")
        for line in lines:
            pid = int(line) if line.strip().isdigit() else None
            member = self.by_pid.get(pid) if pid is not None else None
            if member is not None:
                member.serving()

    def _maybe_ready(self) -> None:
        if self.reported_ready or not all(m.settled for m in self.members):
            return
        self.reported_ready = True
        serving = sum(m.state == "serving" for m in self.members)
        took = time.monotonic() - self.began
        _log(f"{serving} of {len(self.members)} members serving {took:.2f} s after the first fork")
        _emit({"event": "ready", "members": [m.status() for m in self.members], "pid": os.getpid()})
        os.dup2(2, 1)  # the launcher has what it waited for; later output goes to the log

    # -- stopping -----------------------------------------------------------------------------
    def stop_all(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        _log(f"stopping {len(self.by_pid)} members")
        for member in self.members:
            member.next_start = None
        for member in self.by_pid.values():
            _signal_group(member.pid, signal.SIGTERM)
        self.stop_deadline = time.monotonic() + STOP_GRACE_S

    def restart(self, name: str) -> dict[str, Any]:
        member = next((m for m in self.members if m.name == name), None)
        if member is None:
            return {"ok": False, "error": f"no member {name} in this fleet"}
        if self.stopping:
            return {"ok": False, "error": "the fleet is stopping"}
        member.reset_breaker()
        if member.pid is not None and member.pid in self.by_pid:
            member.restart_requested = True
            _signal_group(member.pid, signal.SIGTERM)
        else:
            member.next_start = time.monotonic()
        return {"ok": True, "member": member.status()}

    def _finish(self) -> None:
        for conversation in self.waiting_down:
            conversation.answer({"ok": True, "stopped": [m.name for m in self.members]})
        if self.enforcer is not None:
            self.enforcer.close()
        self.control.close()
        with contextlib.suppress(OSError):
            Path(self.record["socket"]).unlink()
        self.record["supervisor"] = None
        atomic_write(self.record_path, json.dumps(self.record, indent=2) + "\n")
        _log("fleet down")

    # -- control ------------------------------------------------------------------------------
    def _on_accept(self, _fileobj: Any) -> None:
        try:
            conn, _ = self.control.accept()
        except OSError:
            return
        if not peer_is_us(conn):
            conn.close()
            return
        if len(self.reading) >= MAX_CLIENTS:  # the oldest silent one makes room: a flood never locks out status
            oldest = self.reading[0]
            self._done_reading(oldest)
            oldest.answer({"ok": False, "error": f"more than {MAX_CLIENTS} connections waiting; dropped"})
        conn.setblocking(False)
        conversation = Conversation(conn)
        self.reading.append(conversation)
        self.selector.register(conn, selectors.EVENT_READ, self._on_client_data(conversation))

    def _done_reading(self, conversation: Conversation) -> None:
        self.selector.unregister(conversation.conn)
        self.reading.remove(conversation)

    def _drop_slow_readers(self, now: float) -> None:
        for conversation in [c for c in self.reading if now >= c.deadline]:
            self._done_reading(conversation)
            conversation.answer({"ok": False, "error": f"no whole request within {REQUEST_TIMEOUT_S:g}s"})

    def _on_client_data(self, conversation: Conversation) -> Any:
        def handle(_fileobj: Any) -> None:
            try:
                req = conversation.feed()
            except (OSError, ValueError) as exc:
                self._done_reading(conversation)
                conversation.answer({"ok": False, "error": f"bad request: {exc}"})
                return
            if req is None:
                return
            self._done_reading(conversation)
            self._answer(conversation, req)
        return handle

    def _answer(self, conversation: Conversation, req: dict[str, Any]) -> None:
        op = req["op"]
        if op == "status":
            conversation.answer(self.status())
        elif op == "restart":
            conversation.answer(self.restart(str(req.get("name"))))
        elif op == "down":
            self.waiting_down.append(conversation)
            self.stop_all()
        else:
            conversation.answer({"ok": False, "error": f"unknown op {op!r} (status, restart, down)"})

    def status(self) -> dict[str, Any]:
        return {"ok": True, "prefix": self.record["prefix"], "pid": os.getpid(), "stopping": self.stopping,
                "limits": self.record.get("limits") or {}, "limitsBackend": self._backend(),
                "members": [m.status() for m in self.members]}

    def _backend(self) -> dict[str, str] | None:
        if self.enforcer is None:
            return None
        return {"backend": self.enforcer.backend, "reason": self.enforcer.reason}

    # -- plumbing -----------------------------------------------------------------------------
    def _install_signals(self) -> None:
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.ready_r, False)
        signal.set_wakeup_fd(self.wake_w)
        for sig in SUPERVISOR_SIGNALS:
            signal.signal(sig, self._on_signal)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self._drain_wake)
        self.selector.register(self.ready_r, selectors.EVENT_READ, self._on_ready_note)
        self.selector.register(self.control, selectors.EVENT_READ, self._on_accept)
        if self.lifeline:
            self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, self._on_lifeline)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if signum != signal.SIGCHLD:
            self.stop_all()

    def _drain_wake(self, _fileobj: Any) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.wake_r, 4096)

    def _on_lifeline(self, fileobj: Any) -> None:
        if not os.read(fileobj, 4096):  # the launcher is gone: so is the fleet
            self.selector.unregister(fileobj)
            _log("lifeline closed")
            self.stop_all()

    def _publish(self) -> None:
        from openclaw.procutil import self_marker

        self.record["supervisor"] = {"pid": os.getpid(), "startMarker": self_marker(), "startedAt": time.time()}
        atomic_write(self.record_path, json.dumps(self.record, indent=2) + "\n")


def _enforcer(limits: dict[str, Any], env: Mapping[str, str]) -> Any:
    if not any(v is not None for v in limits.values()):
        return None
    from openclaw.fleet.limits import Enforcer, MemberLimits

    return Enforcer(MemberLimits.from_dict(limits), env)


def _signal_group(pid: int | None, sig: int) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _emit(event: dict[str, Any]) -> None:
    """To the launcher; one that gave up waiting (closed its end) changes nothing for the fleet."""
    with contextlib.suppress(OSError):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def _log(line: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} fleet: {line}\n")
    sys.stderr.flush()


def wait_for_go() -> bool:
    """The launcher writes the record while this process loads the stack, then `go` on stdin;
    end of input first means it gave up (its plan failed): nothing to start."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            return False
        line += chunk
    return line.strip() == b"go"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m openclaw.fleet.supervisor RECORD [--lifeline]  (then `go` on stdin)",
              file=sys.stderr)
        return 64
    started = time.monotonic()
    preload()
    _log(f"gateway stack loaded in {time.monotonic() - started:.2f} s")
    if not wait_for_go():
        return 0
    supervisor = Supervisor(Path(args[0]), "--lifeline" in args[1:], os.environ)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
