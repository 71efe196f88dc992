"""One state dir switched between upstream OpenClaw and ours loses nothing and answers no Telegram
update twice (issue 19, item 5).

The state starts as tests/fixtures/upstream-state/<version>/, written by upstream's own CLI and
gateway (scripts/upstream_state_fixtures.py): sessions with transcripts, 4 user cron jobs and a run,
2 paired devices, one approved Telegram sender, one pending request and the update offset. Each
side is checked only through public surfaces (gateway RPCs and the CLI), then writes something new
(a turn, a cron job, an approved and a pending sender) that the next side must show too. Every
side starts with a Telegram update it (or the side before) already handled waiting at the Bot API:
answering it would be answering twice. Without upstream installed only ours is checked.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import FakeTelegram
from helpers import Env, RawWs, connect_params, free_base, make_env, wait_for
from model_standin import ModelStandin
from upstream_driver import BINARY, SLOW, Upstream, parse_json
from upstream_state import CONFIG, install, manifest, versions

VERSION = (versions() or [None])[-1]
pytestmark = pytest.mark.skipif(VERSION is None, reason="no fixture in tests/fixtures/upstream-state")
needs_upstream = pytest.mark.skipif(not BINARY, reason="upstream openclaw CLI not installed")
ADMIN = ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"]
_strangers = itertools.count(610_001)


@dataclass
class Ledger:
    """What must survive every switch, grown by each side's writes."""

    texts: dict[str, list[str]]  # session key -> user texts its history must hold
    messages: dict[str, int]  # session key -> at least this many messages
    jobs: dict[str, str]  # cron job id -> name
    runs: dict[str, int]  # cron job id -> at least this many runs
    devices: set[str]
    approved: list[int]  # Telegram senders who get answers, not codes
    pending: dict[int, str]  # Telegram sender -> pairing code
    last_update: int  # the newest Telegram update some side has handled
    bot_token: str
    bot_id: int
    sides: list[str] = field(default_factory=list)
    # Telegram never reuses a message id in a chat, and upstream drops a (chat, message id) it has
    # dispatched before: ids go on growing across phases, past any in the fixture
    last_message: int = 10_000

    @classmethod
    def from_manifest(cls, data: dict[str, Any]) -> Ledger:
        sessions = data["sessions"]
        telegram = data["telegram"]
        return cls(
            texts={k: s["texts"] for k, s in sessions.items()},
            messages={k: s["messages"] for k, s in sessions.items()},
            jobs={i: j["name"] for i, j in data["cronJobs"].items()}, runs=dict(data["cronRuns"]),
            devices=set(data["devices"]), approved=[int(data["strangers"]["approved"])],
            pending={int(data["strangers"]["pending"]): telegram["pendingCode"]},
            last_update=int(telegram["lastUpdateId"]), bot_token=data["botToken"], bot_id=int(data["botId"]))


class Rpc:
    """One operator connection (token, loopback CLI identity) to whichever gateway runs."""

    def __init__(self, port: int, token: str) -> None:
        self.ws: RawWs = wait_for(lambda: self._connect(port, token), timeout=SLOW, interval=0.5,
                                  what=f"a connection to the gateway on {port}")

    def _connect(self, port: int, token: str) -> RawWs | None:
        """A connected socket, or None while the gateway says it is still starting (retryable)."""
        self.ws = RawWs(port)
        self.ws.recv(timeout=SLOW)  # connect.challenge
        frame = self._request("connect", connect_params(token, scopes=ADMIN))
        if not frame["ok"] and frame["error"].get("retryable"):
            self.ws.close()
            return None
        assert frame["ok"], f"connect -> {frame.get('error')}"
        return self.ws

    def _request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        rid = uuid.uuid4().hex
        self.ws.send({"type": "req", "id": rid, "method": method, "params": params})
        while True:
            frame = self.ws.recv(timeout=SLOW)
            if frame.get("type") == "res" and frame.get("id") == rid:
                return frame

    def __call__(self, method: str, params: dict[str, Any]) -> Any:
        frame = self._request(method, params)
        assert frame["ok"], f"{method} -> {frame.get('error')}"
        return frame["payload"]

    def close(self) -> None:
        self.ws.close()


class Side:
    """One implementation running on the shared state dir."""

    name = ""

    def __init__(self, env: Env, port: int) -> None:
        self.env, self.port = env, port

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cli(self, *args: str) -> str:
        raise NotImplementedError

    def pending(self) -> list[dict[str, Any]]:
        data = parse_json(self.cli("pairing", "list", "telegram", "--json"))
        requests: list[dict[str, Any]] = data["requests"] if isinstance(data, dict) else data
        return requests


class Ours(Side):
    name = "ours"

    def start(self) -> None:
        self.gateway = self.env.gateway().start().wait_healthy(self.port, timeout=60)

    def stop(self) -> None:
        self.gateway.stop()

    def cli(self, *args: str) -> str:
        return self.env.cli(*args, check=True, timeout=120).stdout


class Theirs(Side):
    name = "upstream"

    def __init__(self, env: Env, port: int) -> None:
        super().__init__(env, port)
        assert BINARY
        self.up = Upstream(BINARY, env.home, {"TMPDIR": env.vars["TMPDIR"]})

    def start(self) -> None:
        self.up.run("doctor", "--fix", "--non-interactive")  # what an upstream user runs after switching
        self.up.start(self.port)

    def stop(self) -> None:
        self.up.stop()

    def cli(self, *args: str) -> str:
        return self.up.run(*args).stdout


def _sender(request: dict[str, Any]) -> int:
    return int(request.get("senderId") or request.get("id") or 0)


def _point_at(env: Env, port: int, tg: FakeTelegram, model: ModelStandin) -> None:
    """This run's ports: the gateway's, the Bot API stand-in's, the model stand-in's."""
    path = env.state_dir() / CONFIG
    config = json.loads(path.read_text())
    config["gateway"]["port"] = port
    config["channels"]["telegram"]["apiRoot"] = tg.api_root
    config["models"]["providers"]["local"]["baseUrl"] = model.openai_url
    path.write_text(json.dumps(config, indent=2))


def _history_text(rpc: Rpc, key: str) -> tuple[int, str]:
    messages = rpc("chat.history", {"sessionKey": key, "limit": 1000})["messages"]
    return len(messages), json.dumps(messages, ensure_ascii=False)


def _sessions(rpc: Rpc, ledger: Ledger) -> list[str]:
    keys = {s["key"] for s in rpc("sessions.list", {"limit": 500})["sessions"]}
    problems = [f"session lost: {key}" for key in sorted(set(ledger.texts) - keys)]
    for key, texts in ledger.texts.items():
        try:
            count, body = _history_text(rpc, key)
        except AssertionError as exc:
            problems.append(f"history of {key}: {str(exc).splitlines()[0]}")
            continue
        if count < ledger.messages[key]:
            problems.append(f"{key} has {count} messages, {ledger.messages[key]} expected")
        problems += [f"{key} lost message {t!r}" for t in texts if t not in body]
    return problems


def _cron(rpc: Rpc, ledger: Ledger) -> list[str]:
    jobs = {j["id"] for j in rpc("cron.list", {"includeDisabled": True, "limit": 200})["jobs"]}
    problems = [f"cron job lost: {i} ({ledger.jobs[i]})" for i in sorted(set(ledger.jobs) - jobs)]
    for job, runs in ledger.runs.items():
        try:
            entries = rpc("cron.runs", {"id": job, "limit": 50})["entries"]
        except AssertionError as exc:
            problems.append(f"runs of {job}: {str(exc).splitlines()[0]}")
            continue
        if len(entries) < runs:
            problems.append(f"cron job {job} shows {len(entries)} runs, {runs} expected")
    return problems


def _pairing(side: Side, rpc: Rpc, ledger: Ledger) -> list[str]:
    paired = {d["deviceId"] for d in rpc("device.pair.list", {})["paired"]}
    problems = [f"device lost: {d}" for d in sorted(ledger.devices - paired)]
    codes = {_sender(r): str(r.get("code", "")).upper() for r in side.pending()}
    problems += [f"pending pairing request lost: {s} {c} (listed: {codes})" for s, c in ledger.pending.items()
                 if codes.get(s) != c.upper()]
    return problems


@contextmanager
def connected(side: Side) -> Iterator[Rpc]:
    """A connection for a few calls in a row (one held across minutes of CLI turns misses pings)."""
    rpc = Rpc(side.port, side.env.config()["gateway"]["auth"]["token"])
    try:
        yield rpc
    finally:
        rpc.close()


def verify(side: Side, ledger: Ledger) -> None:
    """Everything in the ledger is visible on this side; every loss is listed at once."""
    problems: list[str] = []
    with connected(side) as rpc:
        for check in (lambda: _sessions(rpc, ledger), lambda: _cron(rpc, ledger),
                      lambda: _pairing(side, rpc, ledger)):
            try:
                problems += check()
            except AssertionError as exc:
                problems.append(str(exc).splitlines()[0])
    where = f"{side.name} after {' -> '.join(ledger.sides) or 'the fixture'}"
    assert not problems, f"{where}:\n" + "\n".join(problems)


def _seen(model: ModelStandin, text: str) -> bool:
    """Some turn put `text` before the model: the update carrying it was handled by the agent."""
    return any(text in json.dumps(seen.body) for seen in model.requests())


def _code_for(side: Side, sender: int) -> str:
    found = wait_for(lambda: next((str(r["code"]) for r in side.pending() if _sender(r) == sender), None),
                     timeout=SLOW, interval=0.5, what=f"a pairing request from {sender} on {side.name}")
    return str(found)


def _answered(side: Side, tg: FakeTelegram, model: ModelStandin, ledger: Ledger, sender: int, text: str) -> None:
    wait_for(lambda: _seen(model, text) and tg.messages_to(ledger.bot_token, sender), timeout=SLOW, interval=0.2,
             what=f"{side.name} to answer {text!r} from approved sender {sender}")


def telegram(side: Side, tg: FakeTelegram, model: ModelStandin, ledger: Ledger, label: str) -> None:
    """Every approved sender is answered by the agent (not asked to pair); a new sender is approved
    and another left pending."""
    token, last = ledger.bot_token, ledger.last_update
    while len(ledger.pending) >= 2:  # both keep at most 3 pending per account: approve the oldest (often
        sender, code = next(iter(ledger.pending.items()))  # written by the other side) to make room
        side.cli("pairing", "approve", "telegram", code)
        del ledger.pending[sender]
        ledger.approved.append(sender)
    texts = {sender: f"fresh from {sender} on {label}" for sender in ledger.approved}
    for sender, text in texts.items():
        last = max(last, tg.send_user_message(token, sender, text))
    for sender, text in texts.items():
        _answered(side, tg, model, ledger, sender, text)
    newcomer, waiting = next(_strangers), next(_strangers)
    last = max(last, tg.send_user_message(token, newcomer, f"let me in {label}"))
    last = max(last, tg.send_user_message(token, waiting, f"waiting {label}"))
    code = _code_for(side, newcomer)
    ledger.pending[waiting] = _code_for(side, waiting)
    side.cli("pairing", "approve", "telegram", code)
    last = max(last, tg.send_user_message(token, newcomer, f"approved now {label}"))
    _answered(side, tg, model, ledger, newcomer, f"approved now {label}")
    ledger.approved.append(newcomer)
    ledger.last_update = last


def write(side: Side, ledger: Ledger, label: str) -> None:
    """A turn on a new session and a new cron job."""
    key, text = f"agent:main:rt-{label}", f"a turn on {label}"
    side.cli("agent", "--session-key", key, "--message", text)
    ledger.texts[key], ledger.messages[key] = [text], 2
    name = f"rt-{label}"
    side.cli("cron", "add", "--name", name, "--every", "2h", "--message", f"job of {label}")
    with connected(side) as rpc:
        jobs = {j["name"]: j["id"] for j in rpc("cron.list", {"includeDisabled": True, "limit": 200})["jobs"]}
    ledger.jobs[jobs[name]] = name


def phase(side: Side, tg: FakeTelegram, model: ModelStandin, ledger: Ledger, label: str) -> None:
    """Start `side` on the state with the last handled update re-offered, check, write, stop."""
    bot = tg.add_bot(ledger.bot_token, "fixture_bot")
    bot.id = ledger.bot_id
    bot.next_message = ledger.last_message
    handled, replayed = ledger.last_update, f"replayed on {label}"
    bot.next_update = handled - 1  # the last handled update, offered again as Telegram would after a switch
    assert tg.send_user_message(ledger.bot_token, ledger.approved[0], replayed) == handled
    _point_at(side.env, side.port, tg, model)
    started = time.monotonic()
    side.start()
    try:
        verify(side, ledger)
        telegram(side, tg, model, ledger, label)
        write(side, ledger, label)
        verify(side, ledger)
        refetched = [p["offset"] for p in bot.polls if p["offset"] <= handled]
        assert not refetched, f"{side.name} fetched update {handled} again (getUpdates offsets {refetched})"
        assert not _seen(model, replayed), f"{side.name} answered update {handled} a second time"
    finally:
        side.stop()
        ledger.last_message = bot.next_message
    ledger.sides.append(f"{side.name} ({time.monotonic() - started:.0f}s)")


@pytest.fixture
def state(tmp_path: Path) -> Iterator[tuple[Env, Ledger]]:
    assert VERSION
    env = make_env(tmp_path)
    install(VERSION, env.home)
    yield env, Ledger.from_manifest(manifest(VERSION))


@pytest.mark.timeout(600)
def test_ours_takes_over_upstream_state(state: tuple[Env, Ledger], tg: FakeTelegram, model: ModelStandin) -> None:
    env, ledger = state
    side = Ours(env, free_base())
    phase(side, tg, model, ledger, "ours-1")
    phase(side, tg, model, ledger, "ours-2")  # and keeps what it wrote itself


@pytest.mark.upstream
@needs_upstream
@pytest.mark.timeout(1800)  # one upstream phase: doctor, a gateway start, Telegram and CLI turns (Node is slow)
def test_upstream_reads_its_own_fixture(state: tuple[Env, Ledger], tg: FakeTelegram, model: ModelStandin) -> None:
    """The fixture, relocated to this test's HOME, is whole for upstream itself."""
    env, ledger = state
    phase(Theirs(env, free_base()), tg, model, ledger, "upstream-0")


@pytest.mark.upstream
@needs_upstream
@pytest.mark.timeout(5400)  # five phases, two of them upstream's
def test_round_trip_twice(state: tuple[Env, Ledger], tg: FakeTelegram, model: ModelStandin) -> None:
    """upstream (the fixture) -> ours -> upstream -> ours -> upstream -> ours."""
    env, ledger = state
    port = free_base()
    for n in (1, 2):
        phase(Ours(env, port), tg, model, ledger, f"ours-{n}")
        phase(Theirs(env, port), tg, model, ledger, f"upstream-{n}")
    phase(Ours(env, port), tg, model, ledger, "ours-3")
