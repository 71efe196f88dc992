"""The pure pieces behind the limits: frame-header scanning, host and origin parsing, the rate
limiter's bounds, JSON checks, the state-dir rule. Fast, in-process, exhaustive where it matters."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from openclaw.gateway.auth import RateLimiter
from openclaw.gateway.protocol import cap, decode_frame, encode_json, json_problem
from openclaw.gateway.transport.browserrules import origin_allowed
from openclaw.gateway.transport.wsguard import PreauthGuard
from openclaw.locality import is_loopback_name, parse_origin, split_host_header
from openclaw.profiles.isolation import state_dir_problem


def frame(opcode: int, payload_len: int, fin: bool = True, masked: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    mask = 0x80 if masked else 0
    if payload_len < 126:
        head = struct.pack("!BB", first, mask | payload_len)
    elif payload_len < 1 << 16:
        head = struct.pack("!BBH", first, mask | 126, payload_len)
    else:
        head = struct.pack("!BBQ", first, mask | 127, payload_len)
    return head + (b"\0\0\0\0" if masked else b"") + b"x" * min(payload_len, 70_000)


class Inner:
    def __init__(self) -> None:
        self.fed = b""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""

    def feed_eof(self) -> None:
        pass


def scan(stream: bytes, chunk: int, limit: int = 65_536) -> tuple[bool, bytes]:
    inner, tripped = Inner(), []
    guard = PreauthGuard(inner, limit, lambda: tripped.append(True))
    for i in range(0, len(stream), chunk):
        guard.feed_data(stream[i : i + chunk])
    return bool(tripped), inner.fed


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000, 1 << 20])
def test_guard_passes_small_frames_untouched_however_they_arrive(chunk: int) -> None:
    stream = frame(0x1, 10) + frame(0x9, 4) + frame(0x1, 300) + frame(0x2, 65_536) + frame(0x1, 0)
    tripped, fed = scan(stream, chunk)
    assert not tripped and fed == stream


@pytest.mark.parametrize("chunk", [1, 5, 64 * 1024])
def test_guard_trips_on_the_header_of_a_large_frame(chunk: int) -> None:
    stream = frame(0x1, 20) + frame(0x1, 65_537)[:100]  # the header declares it; a few bytes follow
    tripped, fed = scan(stream, chunk)
    assert tripped and len(fed) < 100 + len(frame(0x1, 20))


def test_guard_counts_fragments_of_one_message_and_ignores_control_frames() -> None:
    ok = frame(0x1, 30_000, fin=False) + frame(0x9, 10) + frame(0x0, 30_000)
    assert not scan(ok, 4096)[0]
    too_big = frame(0x1, 40_000, fin=False) + frame(0x9, 10) + frame(0x0, 30_000)
    assert scan(too_big, 4096)[0]
    assert not scan(frame(0x1, 40_000) + frame(0x1, 40_000), 4096)[0]  # two messages, each fine


def test_guard_discards_everything_after_tripping() -> None:
    inner, hits = Inner(), []
    guard = PreauthGuard(inner, 100, lambda: hits.append(1))
    guard.feed_data(frame(0x1, 1000))
    guard.feed_data(b"more" * 1000)
    assert hits == [1] and inner.fed == b""


@pytest.mark.parametrize("host,loopback", [
    ("localhost", True), ("LOCALHOST.", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
    ("[::1]", True), ("127.0.0.1.evil.example", False), ("evil.example", False), ("0.0.0.0", False),
    ("", False), (None, False), ("localhost.evil.example", False), ("::ffff:8.8.8.8", False),
])
def test_loopback_names(host: str | None, loopback: bool) -> None:
    assert is_loopback_name(host) is loopback


def test_host_headers_and_origins() -> None:
    assert split_host_header("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert split_host_header("[::1]:80") == ("::1", 80)
    assert split_host_header("Example.COM") == ("example.com", None)
    for bad in ("", "a b:1", "user@host", "host/path", "host:99999", "host:x"):
        assert split_host_header(bad) is None, bad
    assert parse_origin("http://LOCALHOST:1234") == ("http", "localhost", 1234)
    assert parse_origin("https://ui.example") == ("https", "ui.example", 443)
    for bad in ("null", "file:///etc", "http://", "http://a@b", "http://x/path", "javascript:alert(1)"):
        assert parse_origin(bad) is None, bad


@pytest.mark.parametrize("origin,host,allowed_list,mode,ok", [
    ("http://127.0.0.1:5", "127.0.0.1:5", [], "none", True),
    ("http://localhost:5", "127.0.0.1:5", [], "none", True),
    ("http://evil.example:5", "evil.example:5", [], "none", False),  # DNS rebinding
    ("http://evil.example:5", "evil.example:5", [], "token", True),  # same origin, secret required anyway
    ("http://evil.example:6", "evil.example:5", [], "token", False),
    ("https://ui.example", "127.0.0.1:5", ["https://UI.example/"], "none", True),
    ("https://ui.example:444", "127.0.0.1:5", ["https://ui.example"], "none", False),
    ("http://127.0.0.1.evil.example", "127.0.0.1:5", [], "token", False),
    ("null", "127.0.0.1:5", [], "token", False),
])
def test_origin_rules(origin: str, host: str, allowed_list: list[str], mode: str, ok: bool) -> None:
    assert origin_allowed(origin, host, allowed_list, mode) is ok


def test_rate_limiter_keys_and_bounds() -> None:
    assert RateLimiter.key("2001:db8::1") == RateLimiter.key("2001:db8::ffff") == "2001:db8::/64"
    assert RateLimiter.key("::ffff:192.0.2.7") == "192.0.2.7"
    limiter = RateLimiter(max_attempts=3, max_clients=100)
    for _ in range(3):
        limiter.failure("192.0.2.1")
    assert limiter.locked_for_ms("192.0.2.1") > 0
    for i in range(10_000):
        limiter.failure(f"198.51.{i // 256}.{i % 256}")
    assert len(limiter) <= 100


def test_frames_and_errors_are_bounded() -> None:
    assert decode_frame("[" * 100 + "]" * 100)[1] == "nesting deeper than 64 levels"
    assert decode_frame("[" * 100_000)[1] is not None
    assert decode_frame('{"a": NaN}')[1].startswith("invalid JSON")
    assert json_problem({"k\ud800": 1}) == "invalid Unicode (lone surrogate)"
    assert json_problem({"a": [{"b": "fine ✓"}]}) is None
    assert encode_json({"id": "\ud800"}) == b'{"id":"\\ud800"}'
    long = cap("x" * 10_000)
    assert len(long) <= 2000 and long.endswith("(8040 more characters)")


def test_state_dir_rule(tmp_path: Path) -> None:
    state, other = tmp_path / ".openclaw", tmp_path / ".openclaw-rescue"
    for d in (state / "workspace" / "canvas", state / "credentials", other):
        d.mkdir(parents=True)
    dirs = [state, other]
    assert state_dir_problem(state / "workspace" / "canvas", dirs) is None
    assert state_dir_problem(state / "workspace-rescue", dirs) is None
    assert state_dir_problem(tmp_path / "elsewhere", dirs) is None
    assert "inside" in (state_dir_problem(state / "credentials", dirs) or "")
    assert "inside" in (state_dir_problem(other, dirs) or "")
    assert "contains" in (state_dir_problem(tmp_path, dirs) or "")
    (tmp_path / "link").symlink_to(other)
    assert "inside" in (state_dir_problem(tmp_path / "link" / "x", dirs) or "")
