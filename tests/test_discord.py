"""Discord against a gateway + REST stand-in: DMs, pairing, guilds, threads, resume, rate limits, rescue."""

from __future__ import annotations

import json

from fake_discord import FakeDiscord, new_bot, replies, start_with_discord
from helpers import Env, Gateway, wait_for
from model_standin import ModelStandin, Reply

from openclaw.channels.discord_config import accounts_from, dm_policy, guild_rule, resolve_token
from openclaw.channels.discord_gateway import INTENTS

OWNER, STRANGER = "300000000000000001", "300000000000000002"
GUILD, ROOM = "400000000000000001", "400000000000000002"


def connected(dc: FakeDiscord, token: str) -> None:
    wait_for(lambda: dc.connected(token), timeout=20, what="the bot's gateway session")


def pair(env: Env, dc: FakeDiscord, token: str, user: str) -> None:
    chan = dc.dm_channel(user)
    before = len(dc.messages_to(token, chan))
    dc.user_message(token, user, "hi")
    code = replies(dc, token, chan, before + 1)[-1].split("pairing code is ")[1].split()[0]
    env.cli("pairing", "approve", "discord", code, check=True)


def test_config_keys_as_upstream_writes_them(tmp_path) -> None:
    (tmp_path / "tok").write_text("file-token\n")
    discord = {"token": "top", "dmPolicy": "allowlist", "allowFrom": ["discord:1", "<@!2>"],
               "accounts": {"ops": {"tokenFile": str(tmp_path / "tok")},
                            "env": {"token": {"source": "env", "provider": "default", "id": "OPS_TOKEN"}}}}
    accounts = accounts_from(discord)
    assert set(accounts) == {"default", "ops", "env"}
    assert dm_policy(accounts["ops"]) == ("allowlist", {"1", "2"})
    assert resolve_token(accounts["ops"], "ops", {}) == ("file-token", "tokenFile")
    assert resolve_token(accounts["env"], "env", {"OPS_TOKEN": "x"}) == ("x", "env:OPS_TOKEN")
    assert resolve_token({}, "default", {"DISCORD_BOT_TOKEN": "y"}) == ("y", "env")
    assert resolve_token({}, "ops", {"DISCORD_BOT_TOKEN": "y"})[0] is None
    assert dm_policy({"dm": {"policy": "open", "allowFrom": ["*"]}}) == ("open", {"*"})


def test_guild_rules() -> None:
    assert not guild_rule({}, GUILD, ROOM).allowed  # allowlist by default: unlisted guilds are ignored
    assert guild_rule({"groupPolicy": "open"}, GUILD, ROOM).require_mention
    listed = {"guilds": {GUILD: {"users": ["7"], "channels": {"general": {"requireMention": False}}}}}
    assert not guild_rule(listed, GUILD, ROOM).allowed  # a channel map is an allowlist
    rule = guild_rule(listed, GUILD, "thread", parent=ROOM, parent_name="general")  # a thread: its parent's entry
    assert rule.allowed and not rule.require_mention and rule.admits("7", "") and not rule.admits("8", "")
    assert not guild_rule({**listed, "groupPolicy": "disabled"}, GUILD, ROOM, "general").allowed


def test_dm_answered_by_the_model_and_a_stranger_paired(env: Env, base: int, gateways: list[Gateway],
                                                         dc: FakeDiscord, model: ModelStandin) -> None:
    token = new_bot(dc)
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root})
    connected(dc, token)
    assert dc.bots[token].intents == [INTENTS]
    dm = dc.dm_channel(STRANGER)
    dc.user_message(token, STRANGER, "/status")
    first = replies(dc, token, dm, 1)[0]
    assert "pairing code is" in first and "openclaw pairing approve discord" in first
    code = first.split("pairing code is ")[1].split()[0]
    listed = env.cli_json("pairing", "list", "discord")["requests"]
    assert [(r["senderId"], r["code"]) for r in listed] == [(STRANGER, code)]
    env.cli("pairing", "approve", "discord", code, check=True)
    model.script(Reply(text="hello from the model"))
    dc.user_message(token, STRANGER, "hi there")
    assert replies(dc, token, dm, 2)[-1] == "hello from the model"
    assert dm in dc.bots[token].typing  # typing while the turn ran
    model.script(Reply(text="word " * 900))  # 4,500 characters: three messages
    dc.user_message(token, STRANGER, "a long one please")
    chunks = replies(dc, token, dm, 5)[2:]
    assert all(len(c) <= 2000 for c in chunks) and "".join(chunks).split() == ["word"] * 900
    dc.user_message(token, STRANGER, "/help")
    assert "Operator commands" in replies(dc, token, dm, 6)[-1]


def test_guild_mentions_and_threads(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord,
                                    model: ModelStandin) -> None:
    token = new_bot(dc, "guild_bot")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER],
                                             "guilds": {GUILD: {"channels": {"general": {}}}}})
    connected(dc, token)
    thread = dc.new_id()
    dc.event(token, "GUILD_CREATE", {"id": GUILD, "channels": [{"id": ROOM, "type": 0, "name": "general"}],
                                     "threads": []})
    dc.event(token, "THREAD_CREATE", {"id": thread, "type": 11, "parent_id": ROOM, "guild_id": GUILD,
                                      "name": "topic"})
    dc.user_message(token, OWNER, "nobody asked you", channel_id=ROOM, guild_id=GUILD)
    dc.user_message(token, OWNER, "ignored elsewhere", channel_id=dc.new_id(), guild_id=GUILD, mention=True)
    model.script(Reply(text="answer in the room"))
    bot_id = dc.bots[token].id
    dc.user_message(token, OWNER, f"<@{bot_id}> what is up?", channel_id=ROOM, guild_id=GUILD, mention=True)
    assert replies(dc, token, ROOM, 1) == ["answer in the room"]
    model.script(Reply(text="answer in the thread"))
    dc.user_message(token, OWNER, f"<@{bot_id}> in a thread", channel_id=thread, guild_id=GUILD, mention=True)
    assert replies(dc, token, thread, 1) == ["answer in the thread"]
    sessions = env.cli_json("sessions")
    names = json.dumps(sessions)
    assert f"discord:group:{ROOM}" in names and f"discord:group:{thread}" in names
    dc.user_message(token, OWNER, f"<@{bot_id}> /whoami", channel_id=ROOM, guild_id=GUILD, mention=True)
    assert replies(dc, token, ROOM, 2)[-1].startswith(f"You are {OWNER}")
    assert len(dc.messages_to(token, ROOM)) == 2  # the unmentioned message got nothing
