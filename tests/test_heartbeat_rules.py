"""Heartbeat rules without a gateway: who beats and with which block, cadence and active hours,
how a reply is read, where it goes, and the job declared for upstream's store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openclaw.config.view import Config
from openclaw.heartbeat import declare, reply
from openclaw.heartbeat.settings import heartbeat_agents, heartbeat_for, interval_ms, wanted
from openclaw.heartbeat.target import resolve
from openclaw.profiles.paths import InstancePaths

PATHS = InstancePaths(None, Path("/h"), Path("/h/.openclaw"), Path("/h/.openclaw/openclaw.json"), False)


@pytest.mark.parametrize(("every", "ms"), [("30m", 1_800_000), ("1h30m", 5_400_000), ("90s", 90_000), ("15", 900_000),
                                          (15, 900_000), ("0m", None), (0, None), ("soon", None), ("1s", 1000)])
def test_cadence(every: object, ms: int | None) -> None:
    assert interval_ms(every) == ms


def test_who_beats_follows_upstreams_enrolment() -> None:
    none = Config({"agents": {"entries": {"a": {}, "b": {"default": True}}}})
    assert [(h.agent_id, h.every_ms) for h in heartbeat_agents(none)] == [("b", 1_800_000)]
    defaults = Config({"agents": {"defaults": {"heartbeat": {"every": "1h", "target": "last"}},
                                  "entries": {"a": {}, "b": {}}}})
    assert [h.agent_id for h in heartbeat_agents(defaults)] == ["a", "b"]
    own = Config({"agents": {"defaults": {"heartbeat": {"every": "1h", "target": "last"}},
                             "entries": {"a": {}, "b": {"heartbeat": {"every": "5m"}}}}})
    beats = heartbeat_agents(own)
    assert [(h.agent_id, h.every_ms, h.target) for h in beats] == [("b", 300_000, "last")]  # merged, only b
    chosen = Config({"agents": {"defaults": {"heartbeat": {"agentId": "a"}}, "entries": {"a": {}, "b": {}}}})
    assert [h.agent_id for h in heartbeat_agents(chosen)] == ["a"]
    assert heartbeat_for(own, "a").every_ms == 3_600_000  # not enrolled; a wake still reads its block


def test_an_instance_beats_with_a_block_or_the_rescue_role() -> None:
    assert not wanted(Config({}), PATHS)
    assert not wanted(Config({"agents": {"defaults": {"model": "openai/gpt-5"}}}), PATHS)  # unlike upstream
    assert wanted(Config({"agents": {"defaults": {"heartbeat": {}}}}), PATHS)
    assert wanted(Config({"agents": {"entries": {"ops": {"heartbeat": {"every": "1h"}}}}}), PATHS)
    assert wanted(Config({"rescue": {}}), PATHS)


def test_session_timeout_and_active_hours() -> None:
    config = Config({"agents": {"defaults": {"userTimezone": "Asia/Tokyo"}}})
    beat = heartbeat_for(Config({"agents": {"defaults": {"heartbeat": {"every": "2m"}}}}), "main")
    assert beat.session_key() == "agent:main:main" and beat.timeout_s(config) == 120.0
    assert heartbeat_for(Config({"agents": {"defaults": {"heartbeat": {"every": "2h"}}}}), "x").timeout_s(config) == 600
    office = heartbeat_for(Config({"agents": {"defaults": {"heartbeat": {
        "activeHours": {"start": "09:00", "end": "17:00"}, "session": "ops"}}}}), "main")
    assert office.session_key() == "agent:main:ops"
    assert office.active_at(config, datetime(2026, 12, 2, 1, 0, tzinfo=UTC))  # 10:00 in Tokyo
    assert not office.active_at(config, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # 18:00 in Tokyo
    night = heartbeat_for(Config({"agents": {"defaults": {"heartbeat": {
        "activeHours": {"start": "22:00", "end": "06:00", "timezone": "UTC"}}}}}), "main")
    assert night.active_at(config, datetime(2026, 12, 2, 23, 30, tzinfo=UTC))
    assert not night.active_at(config, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    never = heartbeat_for(Config({"agents": {"defaults": {"heartbeat": {
        "activeHours": {"start": "08:00", "end": "08:00", "timezone": "UTC"}}}}}), "main")
    assert not never.active_at(config, datetime(2026, 12, 2, 8, 0, tzinfo=UTC))


@pytest.mark.parametrize(("text", "silent", "status"), [
    ("", True, "ok-token"), ("HEARTBEAT_OK", False, "ok-token"), ("All calm. HEARTBEAT_OK", False, "ok-token"),
    ("HEARTBEAT_OK " + "x" * 301, False, "sent"), ("Water the fern", False, "sent"), ("   ", False, "ok-empty"),
    ("Note: HEARTBEAT_OK is not at an end here", False, "sent"),
])
def test_a_reply_is_read_as_silent_or_not(text: str, silent: bool, status: str) -> None:
    assert reply.classify(text, silent)[0] == status


def test_the_message_carries_the_checklist_and_events(tmp_path: Path) -> None:
    assert reply.read_checklist(tmp_path) is None
    (tmp_path / "HEARTBEAT.md").write_text("x" * (reply.MAX_CHECKLIST_CHARS + 10))
    checklist = reply.read_checklist(tmp_path)
    assert checklist is not None and checklist.endswith("[checklist cut]")
    text = reply.message(None, "- check mail", ["deploy done"])
    assert text.startswith(reply.DEFAULT_PROMPT) and "- check mail" in text and "- deploy done" in text
    assert reply.message("Only this.", None, []) == "Only this."


def test_where_a_message_goes() -> None:
    config = Config({"commands": {"ownerAllowFrom": ["telegram:-100200", "telegram:4242"]},
                     "channels": {"telegram": {"allowFrom": ["*", "777"]}}})

    def route(block: dict[str, object], last: dict[str, str] | None = None, running: tuple[str, ...] = ("telegram",)):
        return resolve(config, heartbeat_for(Config({"agents": {"defaults": {"heartbeat": block}}}), "main"),
                       list(running), last)

    assert (route({}).channel, route({}).to) == ("telegram", "4242")  # the owner, never the group
    assert route({}, running=()).reason == "no-route"
    assert route({"target": "none"}).reason == "target-none"
    assert route({"target": "telegram", "to": "-5:topic:9"}).to == "-5"
    assert route({"target": "last"}).reason == "no-route"
    last = {"channel": "telegram", "to": "-9", "accountId": "ops", "chatType": "group"}
    assert (route({"target": "last"}, last).to, route({"target": "last"}, last).account) == ("-9", "ops")
    assert route({"directPolicy": "block"}).reason == "dm-blocked"
    plain = Config({"channels": {"telegram": {"allowFrom": ["tg:31337"]}}})
    assert resolve(plain, heartbeat_for(plain, "main"), ["telegram"], None).to == "31337"


def test_the_declared_job_is_upstreams_and_follows_the_config() -> None:
    seed = "device-1"
    config = Config({"agents": {"defaults": {"heartbeat": {"every": "30m"}}}})
    (create,) = declare.plan(config, [], seed)
    job = declare.stored_form(create, None, 1_000_000)
    assert list(job)[:8] == ["id", "declarationKey", "displayName", "agentId", "name", "enabled", "createdAtMs",
                            "schedule"]
    assert job["schedule"] == {"kind": "every", "everyMs": 1_800_000,
                               "anchorMs": declare.phase_ms(seed, "main", 1_800_000)}
    assert job["state"]["nextRunAtMs"] >= 1_000_000 + 1_800_000  # a whole interval first
    assert declare.plan(config, [job], seed) == []  # in step: nothing to do
    off = declare.plan(Config({"agents": {"defaults": {"heartbeat": {"every": "0m"}}}}), [job], seed)
    assert [c.kind for c in off] == ["update"] and off[0].job["enabled"] is False
    assert off[0].job["schedule"]["everyMs"] == 1_800_000  # the stored interval is kept
    gone = declare.plan(Config({"agents": {"entries": {"ops": {"heartbeat": {}}}}}), [job], seed)
    assert sorted(c.kind for c in gone) == ["create", "remove"]
    twin = {**job, "id": "other", "updatedAtMs": 1}
    assert [(c.kind, c.job["id"]) for c in declare.plan(config, [job, twin], seed)] == [("remove", "other")]
    assert declare.phase_ms("a", "main", 1000) == declare.phase_ms("a", "main", 1000) < 1000
