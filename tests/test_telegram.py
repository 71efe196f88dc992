"""Telegram against a Bot API stand-in: pairing, access, groups, accounts, 429s, offsets, reload, breaker."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
import statedb
from fake_telegram import FakeTelegram, new_bot, replies, start_with_telegram
from helpers import Env, Gateway, wait_for

from openclaw.channels.telegram import account_policy, accounts_from
from openclaw.channels.text import split_message
from openclaw.config.view import Config


def pair(env: Env, tg: FakeTelegram, token: str, user: int, profile: str | None = None) -> None:
    """A user messages the bot, gets a code, the owner approves it."""
    before = len(tg.messages_to(token, user))
    tg.send_user_message(token, user, "hi")
    code = replies(tg, token, user, before + 1)[-1].split("pairing code is ")[1].split()[0]
    prefix = ["--profile", profile] if profile else []
    env.cli(*prefix, "pairing", "approve", "telegram", code, check=True)


def audit_lines(env: Env, profile: str | None = None) -> list[dict]:
    path = env.state_dir(profile) / "logs" / "rescue-audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_split_message() -> None:
    text = ("line of text\n" * 400) + "x" * 5000
    chunks = split_message(text, 4096)
    assert all(len(c) <= 4096 for c in chunks) and "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert split_message("short", 4096) == ["short"]


def test_named_accounts_inherit_what_they_leave_unset_or_null() -> None:
    telegram = {"botToken": "1:a", "apiRoot": "http://127.0.0.1:9", "dmPolicy": "allowlist", "allowFrom": ["tg:7"],
                "accounts": {"ops": {"botToken": "2:b", "apiRoot": None, "dmPolicy": None, "allowFrom": None},
                             "lobby": {"botToken": "3:c", "dmPolicy": "open", "allowFrom": ["*"]}}}
    config = {"channels": {"telegram": telegram}}
    assert account_policy(Config(config), "default") == ("allowlist", {"7"})
    assert account_policy(Config(config), "ops") == ("allowlist", {"7"})
    assert account_policy(Config(config), "lobby") == ("open", {"*"})
    assert account_policy(Config({}), "default") == ("pairing", set())
    accounts = accounts_from(telegram)
    assert accounts["ops"]["apiRoot"] == "http://127.0.0.1:9" and accounts["ops"]["botToken"] == "2:b"
    assert accounts["lobby"]["apiRoot"] == "http://127.0.0.1:9" and "accounts" not in accounts["default"]


def test_pairing_approval_and_owner(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    tg.send_user_message(token, 501, "/gateways")  # a stranger's command: a code, no access
    first = replies(tg, token, 501, 1)[0]
    assert "pairing code is" in first and "openclaw pairing approve telegram" in first
    code = first.split("pairing code is ")[1].split()[0]
    assert len(code) == 8 and all(c in "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" for c in code)
    tg.send_user_message(token, 501, "/gateways")  # no second code, still no access
    time.sleep(0)  # (the next check waits on a condition)
    listed = env.cli_json("pairing", "list")["requests"]
    assert [(r["senderId"], r["code"]) for r in listed] == [("501", code)]
    assert audit_lines(env)[0]["result"] == "refused"
    approved = env.cli_json("pairing", "approve", "telegram", code.lower())
    assert approved["owner"] is True and approved["request"]["senderId"] == "501"
    owners = json.loads((env.state_dir() / "credentials/owners.json").read_text())
    assert owners["telegram"] == ["501"]
    assert statedb.allow_entries(env.state_dir()) == ["501"]
    tg.send_user_message(token, 501, "/help")
    assert "Operator commands" in replies(tg, token, 501, 2)[-1]
    assert len(tg.messages_to(token, 501)) == 2  # the repeated stranger message got nothing
    tg.send_user_message(token, 501, "what's up?")
    assert "No model is configured" in replies(tg, token, 501, 3)[-1]
    again = env.cli("pairing", "approve", "telegram", code)
    assert again.returncode == 1 and "no pending telegram pairing request" in again.stderr
    # a second approved sender is allowed, but not the owner
    pair(env, tg, token, 502)
    assert json.loads((env.state_dir() / "credentials/owners.json").read_text())["telegram"] == ["501"]


def test_at_most_three_pending_codes(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    for user in (601, 602, 603, 604):
        tg.send_user_message(token, user, "hello")
        replies(tg, token, user, 1)
    pending = {r["senderId"] for r in env.cli_json("pairing", "list", "telegram")["requests"]}
    assert pending == {"602", "603", "604"}  # the stalest request made room


def test_strangers_cannot_run_operator_commands(env: Env, base: int, gateways: list[Gateway],
                                                tg: FakeTelegram) -> None:
    token = new_bot(tg)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "open",
                                              "allowFrom": ["*", "700"]})
    tg.send_user_message(token, 701, "/restart main")
    assert "only this gateway's owners and allow-listed senders" in replies(tg, token, 701, 1)[0]
    tg.send_user_message(token, 701, "hello")
    assert "No model is configured" in replies(tg, token, 701, 2)[-1]  # open chat, closed commands
    tg.send_user_message(token, 701, "/start")  # the greeting is for anyone who may chat
    greeting = replies(tg, token, 701, 3)[-1]
    assert greeting.startswith("Hi! I'm this host's OpenClaw gateway bot.") and "Operator commands" in greeting
    tg.send_user_message(token, 701, "/nosuch")
    assert replies(tg, token, 701, 4)[-1] == "unknown command /nosuch; /help lists them"
    tg.send_user_message(token, 701, "/whoami")
    assert replies(tg, token, 701, 5)[-1] == "You are 701 (@user701) on telegram/default; access: chat; session: -"
    tg.send_user_message(token, 700, "/help")
    assert "Operator commands" in replies(tg, token, 700, 1)[0]
    refused = [a for a in audit_lines(env) if a["result"] == "refused"]
    assert refused[0]["sender"] == "701" and refused[0]["command"] == "/restart"


def test_allowlist_disabled_and_groups(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg, "group_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "dmPolicy": "allowlist",
                                              "allowFrom": ["tg:800"]})
    tg.send_user_message(token, 801, "hello")  # not on the list: ignored, no code
    tg.send_user_message(token, 800, "/help")
    replies(tg, token, 800, 1)
    assert tg.messages_to(token, 801) == []
    group = -100123
    tg.send_user_message(token, 800, "anyone there?", chat_id=group, chat_type="supergroup")
    tg.send_user_message(token, 800, "@group_bot /help", chat_id=group, chat_type="supergroup")
    tg.send_user_message(token, 800, "/help@group_bot", chat_id=group, chat_type="supergroup")
    answered = replies(tg, token, group, 1)
    wait_for(lambda: len(tg.messages_to(token, group)) >= 1, what="group reply")
    assert all("Operator commands" in m or "No model" in m for m in answered)
    assert not any("anyone there" in m for m in answered)


def test_two_accounts_in_one_gateway(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    first, second = new_bot(tg, "first_bot"), new_bot(tg, "second_bot")
    start_with_telegram(env, base, gateways, {"apiRoot": tg.api_root, "allowFrom": ["900"], "accounts": {
        "one": {"botToken": first}, "two": {"botToken": second, "dmPolicy": "allowlist"}}})
    tg.send_user_message(first, 900, "/help")
    tg.send_user_message(second, 900, "/help")
    assert "Operator commands" in replies(tg, first, 900, 1)[0]
    assert "Operator commands" in replies(tg, second, 900, 1)[0]
    status = env.cli_json("channels", "status")["channels"]["telegram"]
    accounts = status["accounts"]
    assert set(accounts) == {"one", "two"}
    assert accounts["one"]["connected"] and accounts["one"]["bot"]["username"] == "first_bot"
    assert accounts["two"]["lastUpdateAt"]
    text = env.cli("channels", "status", "--probe", check=True).stdout
    assert "one @first_bot: connected" in text and "probe: ok" in text


def test_rate_limits_are_waited_out(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg)
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "allowFrom": ["950"]})
    limit = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
             "parameters": {"retry_after": 1}}
    tg.fail_next(token, "getUpdates", 429, limit)
    tg.fail_next(token, "sendMessage", 429, limit)
    started = time.monotonic()
    tg.send_user_message(token, 950, "/help")
    assert "Operator commands" in replies(tg, token, 950, 1)[0]
    assert time.monotonic() - started >= 1.0  # at least one retry_after was honoured
    status = env.cli_json("channels", "status")["channels"]["telegram"]["accounts"]["default"]
    assert "429" in status["lastError"] and status["connected"]


def test_restart_neither_loses_nor_repeats_updates(env: Env, base: int, gateways: list[Gateway],
                                                   tg: FakeTelegram) -> None:
    token = new_bot(tg)
    gw = start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "allowFrom": ["960"]})
    tg.send_user_message(token, 960, "/help")
    replies(tg, token, 960, 1)
    assert gw.stop() == 0
    last = statedb.telegram_offset(env.state_dir())["lastUpdateId"]  # type: ignore[index]
    while_down = tg.send_user_message(token, 960, "message sent while the gateway was down")
    assert while_down == last + 1
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    msgs = replies(tg, token, 960, 2)
    assert "No model is configured" in msgs[1]
    tg.send_user_message(token, 960, "/help")
    msgs = replies(tg, token, 960, 3)
    assert len(msgs) == 3  # nothing answered twice
    assert tg.bots[token].polls[-1]["offset"] >= while_down + 1


def test_hot_reload_and_channel_lifecycle(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg)
    gw = start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root,
                                                   "dmPolicy": "allowlist", "allowFrom": ["970"]})
    tg.send_user_message(token, 971, "/help")
    tg.send_user_message(token, 970, "/help")
    replies(tg, token, 970, 1)
    assert tg.messages_to(token, 971) == []
    env.cli("config", "set", "channels.telegram.allowFrom", '["970", "971"]', check=True)
    log = env.state_dir() / "logs/gateway.log"
    wait_for(lambda: "channels reloaded: telegram" in log.read_text(), what="channel hot reload")
    tg.send_user_message(token, 971, "/help")
    assert "Operator commands" in replies(tg, token, 971, 1)[0]
    assert gw.proc.poll() is None and "gateway restarting" not in log.read_text()
    assert env.cli("channels", "stop", "telegram", check=True).stdout.strip() == "channel telegram stopped"
    assert env.cli_json("channels", "status")["channels"]["telegram"]["running"] is False
    env.cli("channels", "start", "telegram", check=True)
    assert env.cli_json("channels", "status")["channels"]["telegram"]["running"] is True
    assert token not in log.read_text()  # tokens are never logged
    health = env.cli_json("health")
    assert health["channels"]["telegram"]["accounts"]["default"]["connected"] is True
    assert health["channelLabels"] == {"telegram": "Telegram"}


def test_crash_loop_breaker_keeps_channels_off(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    token = new_bot(tg)
    gw = start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "allowFrom": ["980"]})
    for _ in range(3):  # three unclean exits in a row
        gw.signal(signal.SIGKILL)
        gw.wait_exit()
        gw = env.gateway().start()
        gateways.append(gw)
        gw.wait_healthy(base)
    data = env.cli_json("channels", "status")
    assert data["crashLoop"]["tripped"] and data["channels"]["telegram"]["suppressed"]
    assert data["channels"]["telegram"]["running"] is False
    assert "suppressed by the crash-loop breaker" in env.cli("channels", "status", check=True).stdout
    tg.send_user_message(token, 980, "/help")
    env.cli("channels", "start", "telegram", check=True)  # an operator overrides the breaker
    assert "Operator commands" in replies(tg, token, 980, 1)[0]
    assert gw.stop() == 0
    clean = env.gateway().start()  # a clean stop does not count
    gateways.append(clean)
    clean.wait_healthy(base)
    assert env.cli_json("channels", "status")["crashLoop"]["uncleanStarts"] == 3


def test_bad_token_is_reported_not_fatal(env: Env, base: int, gateways: list[Gateway], tg: FakeTelegram) -> None:
    start_with_telegram(env, base, gateways, {"botToken": "999:not-a-known-bot", "apiRoot": tg.api_root})
    wait_for(lambda: (env.cli_json("channels", "status")["channels"]["telegram"]["accounts"]["default"]
                      .get("lastError") or "").startswith("the bot token was rejected"), what="401 reported")
    assert env.cli_json("health")["ok"] is True


def test_token_file_disabled_policy_and_symlink_refusal(env: Env, base: int, gateways: list[Gateway],
                                                       tg: FakeTelegram) -> None:
    import os

    token = new_bot(tg, "file_bot")
    token_file = env.root / "bot.token"
    token_file.write_text(token + "\n")
    link = env.root / "link.token"
    os.symlink(token_file, link)
    start_with_telegram(env, base, gateways, {"apiRoot": tg.api_root, "dmPolicy": "disabled", "accounts": {
        "file": {"tokenFile": str(token_file)}, "linked": {"tokenFile": str(link)}}})
    accounts = env.cli_json("channels", "status")["channels"]["telegram"]["accounts"]
    assert accounts["file"]["configured"] and accounts["file"]["tokenSource"] == "tokenFile"
    assert not accounts["linked"]["configured"] and "symlink" in accounts["linked"]["lastError"]
    tg.send_user_message(token, 990, "hello")  # dmPolicy disabled: ignored entirely
    wait_for(lambda: env.cli_json("channels", "status")["channels"]["telegram"]["accounts"]["file"]["lastUpdateAt"],
             what="the update arrived")
    assert tg.messages_to(token, 990) == []
    assert statedb.pairing_requests(env.state_dir()) == []


def test_pairing_codes_expire_after_an_hour(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openclaw.channels.pairing import PairingStore

    store = PairingStore(tmp_path)
    request, created = store.request("telegram", "default", "42")
    assert created and len(store.pending("telegram")) == 1
    again, created_again = store.request("telegram", "default", "42")
    assert not created_again and again.code == request.code
    with sqlite3.connect(tmp_path / "state/openclaw.sqlite") as db:
        db.execute("UPDATE channel_pairing_requests SET created_at = '2020-01-01T00:00:00.000Z'")
    assert store.pending("telegram") == []
    with pytest.raises(Exception, match="no pending telegram pairing request"):
        store.approve("telegram", request.code)


def test_pairing_is_approved_through_the_gateway_from_another_host(env: Env, base: int, gateways: list[Gateway],
                                                                   tg: FakeTelegram, tmp_path: Path) -> None:
    from helpers import make_env

    token = new_bot(tg, "remote_pairing_bot")
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root})
    tg.send_user_message(token, 777, "hello")
    code = replies(tg, token, 777, 1)[0].split("pairing code is ")[1].split()[0]
    elsewhere = make_env(tmp_path / "operator")  # no state of that gateway here: only its URL and token
    url = f"ws://127.0.0.1:{base}"
    listed = elsewhere.cli_json("pairing", "list", "--url", url, "--token", env.token())["requests"]
    assert [(r["senderId"], r["code"]) for r in listed] == [("777", code)]
    wrong = elsewhere.cli("pairing", "approve", "telegram", "ZZZZZZZZ", "--url", url, "--token", env.token())
    assert wrong.returncode == 1 and "no pending telegram pairing request with code ZZZZZZZZ" in wrong.stderr
    done = elsewhere.cli("pairing", "approve", "telegram", code, "--url", url, "--token", env.token(), check=True)
    assert done.stdout.strip() == f"Approved sender 777 on telegram/default (through {url})"
    assert statedb.allow_entries(env.state_dir()) == ["777"]
    assert "approved" in replies(tg, token, 777, 2)[-1]


def test_bot_api_answers_are_read_to_their_end_within_a_bound(env: Env, base: int, gateways: list[Gateway],
                                                              tg: FakeTelegram) -> None:
    """Answers that arrive in 7-byte pieces are read whole; one over the bound is refused, not held."""
    token = new_bot(tg, "trickle_bot")
    tg.fail_next(token, "getMe", 200, {"ok": True, "result": {"id": 1, "username": "x", "pad": "x" * (9 * 2**20)}})
    start_with_telegram(env, base, gateways, {"botToken": token, "apiRoot": tg.api_root, "allowFrom": ["990"]})
    log = env.state_dir() / "logs" / "gateway.log"
    wait_for(lambda: "polling as @trickle_bot" in log.read_text(), what="getMe retried")
    assert "getMe failed: HTTP 200 with the body is larger than 8388608 bytes" in log.read_text()
    tg.trickle = 7
    try:
        text = "a long message " * 200  # a getUpdates answer of several KB, in hundreds of pieces
        tg.send_user_message(token, 990, "/help " + text)
        assert "Operator commands" in replies(tg, token, 990, 1, timeout=30)[0]
    finally:
        tg.trickle = 0
