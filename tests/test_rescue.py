"""The rescue bot end to end: main breaks and stops; its owner repairs it from Telegram."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator

import pytest
from fake_telegram import FakeTelegram
from helpers import Env, Gateway, healthz, wait_for
from model_standin import ModelStandin, Reply

from openclaw.ports.registry import running_gateways

OWNER, STRANGER = 4242, 6666


class Chat:
    """The owner's DM with the rescue bot."""

    def __init__(self, tg: FakeTelegram, token: str, user: int) -> None:
        self.tg, self.token, self.user = tg, token, user

    def say(self, text: str, timeout: float = 45) -> str:
        before = len(self.tg.messages_to(self.token, self.user))
        self.tg.send_user_message(self.token, self.user, text)
        wait_for(lambda: len(self.tg.messages_to(self.token, self.user)) > before, timeout=timeout,
                 what=f"a reply to {text!r}")
        return self.tg.messages_to(self.token, self.user)[-1]


def main_pid(env: Env) -> int | None:
    state = str(env.state_dir("main"))
    return next((r["pid"] for r in running_gateways() if r["stateDir"] == state), None)


@pytest.fixture
def hosts(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> Iterator[tuple[Env, int, Chat, Gateway]]:
    token = "5000:RESCUE-bot-token"
    if token not in tg.bots:
        tg.add_bot(token, "rescue_bot")
    env.provision("main", base)
    env.provision("rescue", base + 200)
    env.set_config(("channels.telegram", json.dumps({"botToken": token, "apiRoot": tg.api_root})), profile="rescue")
    main = env.gateway("main").start()
    rescue = env.gateway("rescue").start()
    gateways += [main, rescue]
    main.wait_healthy(base)
    rescue.wait_healthy(base + 200)
    chat = Chat(tg, token, OWNER)
    code = chat.say("hello").split("pairing code is ")[1].split()[0]
    env.cli("--profile", "rescue", "pairing", "approve", "telegram", code, check=True)
    try:
        yield env, base, chat, main
    finally:  # the rescue bot may have started a main gateway of its own
        pid = main_pid(env)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            wait_for(lambda: main_pid(env) is None, what="main stopped")


def test_owner_repairs_main_through_the_rescue_bot(hosts: tuple[Env, int, Chat, Gateway], tg: FakeTelegram) -> None:
    env, base, chat, main = hosts
    listing = chat.say("/gateways")
    assert f"main: healthy, port {base}" in listing and "rescue (this bot): healthy" in listing

    # main is broken by an invalid edit, stops, and cannot start again
    config = env.config("main")
    config["gateway"]["bind"] = "everywhere"
    env.config_path("main").write_text(json.dumps(config))
    assert main.stop() == 0
    assert env.cli("--profile", "main", "gateway").returncode == 78

    status = chat.say("/status main")
    assert status.startswith("main: stopped") and "config: INVALID" in status and "gateway.bind" in status
    doctor = chat.say("/doctor main")
    assert "[error]" in doctor and "gateway.bind" in doctor and "fix:" in doctor
    assert chat.say("/config main get gateway.port") == f"gateway.port = {base}"
    refused = chat.say("/config main set gateway.port not-a-port")
    assert refused.startswith("refused, nothing written") and "gateway" in refused
    assert env.config("main")["gateway"]["bind"] == "everywhere"  # untouched
    blocked = chat.say("/restart main")
    assert "config is invalid" in blocked and "/rollback" in blocked

    rolled = chat.say("/rollback main")
    assert rolled.startswith("restored main's last-known-good config")
    assert "bind" not in env.config("main")["gateway"] or env.config("main")["gateway"]["bind"] != "everywhere"
    restarted = chat.say("/restart main")
    assert restarted.startswith("main started") and "healthy" in restarted
    assert healthz(base) and main_pid(env) is not None
    assert "main: healthy" in chat.say("/status main")
    assert "listening on ws://127.0.0.1" in chat.say("/logs main 5")

    stopped = chat.say("/stop main")
    assert stopped.startswith("main stopped")
    wait_for(lambda: not healthz(base), what="main down")
    assert chat.say("/start main").startswith("main started")
    assert healthz(base)
    assert chat.say("/start main").startswith("main is already running")

    audit = [json.loads(line) for line in (env.state_dir("rescue") / "logs/rescue-audit.log").read_text().splitlines()]
    commands = [a["command"] for a in audit if a["result"] == "ok"]
    for expected in ("/gateways", "/status", "/doctor", "/rollback", "/restart", "/logs", "/stop", "/start"):
        assert expected in commands
    assert all(a["sender"] == str(OWNER) for a in audit)


def test_strangers_and_targets(hosts: tuple[Env, int, Chat, Gateway], tg: FakeTelegram) -> None:
    env, _, chat, _ = hosts
    pid = main_pid(env)
    stranger = Chat(tg, chat.token, STRANGER)
    assert "pairing code is" in stranger.say("/restart main")
    assert main_pid(env) == pid  # nothing restarted
    assert chat.say("/status rescue").startswith("rescue is this gateway itself")
    assert "no instance named nope" in chat.say("/status nope")
    env.cli("--profile", "rescue", "config", "set", "rescue.targets", '["other"]', check=True)
    wait_for(lambda: "not in rescue.targets" in chat.say("/status main"), timeout=20, what="targets applied")
    assert chat.say("/frobnicate").startswith("unknown command /frobnicate")
    help_text = chat.say("/help")
    assert "/rollback <profile>" in help_text and "/config <profile> set <key> <value>" in help_text


def test_the_rescue_bot_repairs_main_when_asked_in_plain_words(hosts: tuple[Env, int, Chat, Gateway],
                                                               model: ModelStandin) -> None:
    env, base, chat, main = hosts
    config = env.config("main")
    config["gateway"]["bind"] = "everywhere"
    env.config_path("main").write_text(json.dumps(config))
    assert main.stop() == 0
    env.use_model(model.openai_url, "stand/rescuer", profile="rescue")
    log = env.state_dir("rescue") / "logs" / "gateway.log"
    wait_for(lambda: any("config hot reload applied (" in line and "agents.defaults.model" in line  # with the
                         for line in log.read_text().splitlines()), what="model applied")  # provider, or alone
    steps = [("rescue_status", {"profile": "main"}), ("rescue_doctor", {"profile": "main"}),
             ("rescue_rollback", {"profile": "main"}), ("rescue_start", {"profile": "main"})]
    model.script(*[Reply(tool_calls=[step], model="rescuer") for step in steps],
                 Reply(text="main had an invalid gateway.bind; I restored its last good config and it runs again.",
                       model="rescuer"))
    answer = chat.say("main is down, can you fix it?", timeout=120)
    assert answer.startswith("main had an invalid gateway.bind")
    assert healthz(base) and env.config("main")["gateway"].get("bind") != "everywhere"
    results = [m["content"] for m in model.requests()[-1].body["messages"] if m["role"] == "tool"]
    assert "config: INVALID" in results[0] and "gateway.bind" in results[1]
    assert results[2].startswith("restored main's last-known-good config") and results[3].startswith("main started")
    audit = [json.loads(line) for line in (env.state_dir("rescue") / "logs/rescue-audit.log").read_text().splitlines()]
    by_agent = [a["command"] for a in audit if a["channel"] == "agent"]
    assert by_agent == ["/status", "/doctor", "/rollback", "/start"]


def test_the_default_instance_answers_to_main_and_a_lone_other_needs_no_name(
        env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = "5001:RESCUE-seed-token"
    if token not in tg.bots:
        tg.add_bot(token, "seed_rescue_bot")
    env.provision(None, base)  # the seeds' main bot: the default instance
    env.provision("rescue", base + 200)
    env.cli("--profile", "rescue", "config", "set", "channels.telegram",
            json.dumps({"botToken": token, "apiRoot": tg.api_root}), check=True)
    rescue = env.gateway("rescue").start()
    gateways.append(rescue)
    rescue.wait_healthy(base + 200)
    chat = Chat(tg, token, OWNER)
    code = chat.say("hello").split("pairing code is ")[1].split()[0]
    env.cli("--profile", "rescue", "pairing", "approve", "telegram", code, check=True)

    assert chat.say("/status main").startswith("default: stopped")
    assert chat.say("/status").startswith("default: stopped")  # the only other instance
    assert chat.say("/config get gateway.port") == f"gateway.port = {base}"
    assert chat.say("/config main set logging.level debug").startswith("set logging.level on default")
    assert env.config()["logging"]["level"] == "debug"
    assert chat.say("/logs 5") == "(no log lines)"
    env.provision("extra", base + 400)
    assert "name a profile" in chat.say("/status") and "known: default, extra" in chat.say("/status")
    assert chat.say("/status extra").startswith("extra: stopped")
    assert "no instance named mian" in chat.say("/status mian")  # a typo is not the only other one
