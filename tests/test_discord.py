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
    named = {"guilds": {GUILD: {"users": ["alice"], "roles": ["55"]}}}
    assert not guild_rule(named, GUILD, ROOM).admits("9", "alice")  # names change: ids only by default
    assert guild_rule({**named, "dangerouslyAllowNameMatching": True}, GUILD, ROOM).admits("9", "Alice")
    assert guild_rule(named, GUILD, ROOM).admits("9", "bob", frozenset({"55"}))  # users OR roles


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
    for n, to in enumerate((f"user:{STRANGER}", f"channel:{dm}")):  # upstream's `message send` targets
        env.cli("gateway", "call", "send", "--params", json.dumps(
            {"channel": "discord", "to": to, "message": f"note {n}", "idempotencyKey": f"k{n}"}), check=True)
        assert replies(dc, token, dm, 7 + n)[-1] == f"note {n}"


def test_guild_mentions_and_threads(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord,
                                    model: ModelStandin) -> None:
    token = new_bot(dc, "guild_bot")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER],
                                             "guilds": {GUILD: {"channels": {"general": {}}}}})
    connected(dc, token)
    thread = dc.new_id()
    dc.event(token, "GUILD_CREATE", {"id": GUILD, "channels": 5})  # malformed: logged, the link stays
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
    hidden = dc.new_id()  # a thread the bot was never told of: looked up once through REST
    dc.add_channel({"id": hidden, "type": 11, "parent_id": ROOM, "guild_id": GUILD, "name": "later"})
    model.script(Reply(text="answer in the other thread"))
    dc.user_message(token, OWNER, f"<@{bot_id}> again", channel_id=hidden, guild_id=GUILD, mention=True)
    assert replies(dc, token, hidden, 1) == ["answer in the other thread"]
    assert thread in dc.bots[token].typing and ("GET", f"/channels/{hidden}") in dc.requests
    keys = {s["key"] for s in env.cli_json("sessions")["sessions"]}  # upstream's keys
    assert {f"agent:main:discord:channel:{ROOM}", f"agent:main:discord:channel:{ROOM}:thread:{thread}",
            f"agent:main:discord:channel:{ROOM}:thread:{hidden}"} <= keys, keys
    dc.user_message(token, OWNER, f"<@{bot_id}> /whoami", channel_id=ROOM, guild_id=GUILD, mention=True)
    assert replies(dc, token, ROOM, 2)[-1].startswith(f"You are {OWNER}")
    assert len(dc.messages_to(token, ROOM)) == 2  # the unmentioned message got nothing
    assert dc.bots[token].identifies == 1 and dc.bots[token].resumes == 0  # the malformed event cost no link
    assert "GUILD_CREATE not handled" in (env.state_dir() / "logs" / "gateway.log").read_text()


def test_drops_resumed_with_nothing_lost_or_answered_twice(env: Env, base: int, gateways: list[Gateway],
                                                           dc: FakeDiscord) -> None:
    token = new_bot(dc, "resume_bot")
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER]})
    connected(dc, token)
    dm = dc.dm_channel(OWNER)
    sent = 0
    for round_ in range(5):
        dc.drop(token)  # the link fails; messages arrive while it is down
        dc.user_message(token, OWNER, "/whoami")
        dc.user_message(token, OWNER, "/whoami")
        sent += 2
        if round_ == 2:
            dc.send_op(token, 7)  # RECONNECT asked by the gateway
        replies(dc, token, dm, sent)
    dc.down = True  # the whole gateway is away for a while
    dc.drop(token)
    dc.user_message(token, OWNER, "/whoami")
    wait_for(lambda: "WSServerHandshakeError 503" in json.dumps(env.cli_json("channels", "status")),
             what="refused reconnects")
    dc.down = False
    sent += 1
    assert len(replies(dc, token, dm, sent)) == sent
    bot = dc.bots[token]
    assert bot.identifies == 1 and bot.resumes >= 6
    wait_for(lambda: bot.heartbeats >= 1, what="a heartbeat")
    resumes = bot.resumes
    dc.ack = False  # heartbeats unanswered: the client calls the link dead and resumes
    wait_for(lambda: bot.resumes > resumes, what="a resume after unanswered heartbeats")
    dc.ack = True
    dc.send_op(token, 9, False)  # a session that cannot resume: identified afresh
    wait_for(lambda: bot.identifies == 2 and dc.connected(token), what="a fresh session")
    dc.user_message(token, OWNER, "/whoami")
    assert len(replies(dc, token, dm, sent + 1)) == sent + 1


def test_rate_limits_honoured(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord) -> None:
    token = new_bot(dc, "limited_bot")
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER]})
    connected(dc, token)
    dm = dc.dm_channel(OWNER)
    path = f"/channels/{dm}/messages"
    before = len(dc.requests)
    dc.fail_next(token, path, 429, {"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
                 {"Retry-After": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.3",
                  "X-RateLimit-Bucket": "b1", "X-RateLimit-Scope": "user"})
    dc.fail_next(token, path, 429, {"message": "You are being rate limited.", "retry_after": 0.2, "global": True},
                 {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
    dc.user_message(token, OWNER, "/whoami")
    assert len(replies(dc, token, dm, 1)) == 1  # sent once, after both waits
    posts = [r for r in dc.requests[before:] if r == ("POST", path)]
    assert len(posts) == 3
    status = env.cli_json("channels", "status")["channels"]["discord"]["accounts"]["default"]
    assert status["rateLimitWaitS"] >= 0.5


def test_bad_token_reported_in_one_line(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord) -> None:
    start_with_discord(env, base, gateways, {"token": "MTAx.bad.not-a-known-bot-token", "apiRoot": dc.api_root})
    wait_for(lambda: "token was rejected" in (env.cli_json("channels", "status")["channels"]["discord"]
                                               ["accounts"]["default"].get("lastError") or ""), what="401 reported")
    text = env.cli("channels", "status", "--probe", check=True).stdout
    line = next(x for x in text.splitlines() if "probe:" in x and "default" in x)
    assert "401" in line and "Discord Developer Portal" in line
    doctor = env.cli("doctor").stdout
    found = [x for x in doctor.splitlines() if "discord" in x and "[error]" in x]
    assert len(found) == 1 and "Discord refused the token: 401" in found[0], doctor


def test_stop_start_and_logout(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord) -> None:
    token = new_bot(dc, "logout_bot")
    start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER]})
    connected(dc, token)
    assert "Discord: running" in env.cli("channels", "status", check=True).stdout
    stranger_dm = dc.dm_channel(STRANGER)
    dc.user_message(token, STRANGER, "hello")
    replies(dc, token, stranger_dm, 1)
    env.cli("channels", "stop", "discord", check=True)
    wait_for(lambda: not dc.connected(token), what="the socket closed")
    dc.user_message(token, OWNER, "/whoami")  # kept by the session while the channel is stopped
    env.cli("channels", "start", "discord", check=True)
    assert len(replies(dc, token, dc.dm_channel(OWNER), 1)) == 1  # a new session: resumed, Discord replays it
    out = env.cli("channels", "logout", "discord", check=True).stdout
    assert "logged out discord/default" in out and "token" not in env.config()["channels"]["discord"]
    status = env.cli_json("channels", "status")["channels"]["discord"]
    assert status["running"] is False or status["accounts"]["default"]["configured"] is False


def test_rescue_bot_restarts_main_from_discord(env: Env, base: int, gateways: list[Gateway],
                                               dc: FakeDiscord) -> None:
    import contextlib
    import os
    import signal

    from helpers import healthz
    from test_rescue import main_pid

    token = new_bot(dc, "rescue_bot")
    env.provision("main", base)
    env.provision("rescue", base + 200)
    env.set_config(("channels.discord", json.dumps({"token": token, "apiRoot": dc.api_root})), profile="rescue")
    main, rescue = env.gateway("main").start(), env.gateway("rescue").start()
    gateways += [main, rescue]
    main.wait_healthy(base)
    rescue.wait_healthy(base + 200)
    connected(dc, token)
    dm = dc.dm_channel(OWNER)

    def say(text: str) -> str:
        before = len(dc.messages_to(token, dm))
        dc.user_message(token, OWNER, text)
        return replies(dc, token, dm, before + 1, timeout=45)[-1]

    code = say("hello").split("pairing code is ")[1].split()[0]
    env.cli("--profile", "rescue", "pairing", "approve", "discord", code, check=True)
    try:
        assert f"main: healthy, port {base}" in say("/gateways")
        assert main.stop() == 0
        assert say("/status main").startswith("main: stopped")
        restarted = say("/restart main")
        assert restarted.startswith("main started") and "healthy" in restarted
        assert healthz(base) and main_pid(env) is not None
        dc.user_message(token, STRANGER, "/restart main")  # a stranger only gets a code
        assert "pairing code is" in replies(dc, token, dc.dm_channel(STRANGER), 1)[0]
        wait_for(lambda: "not paired" in (env.state_dir("rescue") / "logs/rescue-audit.log").read_text(),
                 what="the refusal on record")
        audit = [json.loads(x) for x in (env.state_dir("rescue") / "logs/rescue-audit.log").read_text().splitlines()]
        restarts = [(a["channel"], a["sender"], a["result"]) for a in audit if a["command"] == "/restart"]
        assert restarts == [("discord", OWNER, "ok"), ("discord", STRANGER, "refused")]
    finally:  # the rescue bot started a main gateway of its own
        pid = main_pid(env)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            wait_for(lambda: main_pid(env) is None, what="main stopped")


def test_kubernetes_moves_discord_tokens_into_the_secret(tmp_path) -> None:
    from openclaw.deploy.kubernetes.portable import pod_config
    from openclaw.profiles.paths import InstancePaths

    paths = InstancePaths(None, tmp_path, tmp_path / ".openclaw", tmp_path / ".openclaw" / "openclaw.json", False)
    (tmp_path / "ops-token").write_text("ops-secret-token\n")
    raw = {"channels": {"discord": {"token": "MTAx.main.secret-token", "accounts": {
        "ops": {"tokenFile": str(tmp_path / "ops-token")},
        "env": {"token": {"source": "env", "provider": "default", "id": "DISCORD_ENV_TOKEN"}}}}}}
    pod = pod_config(raw, paths, {"DISCORD_ENV_TOKEN": "from-env"}, False)
    discord = pod.config["channels"]["discord"]
    text = json.dumps(pod.config)
    assert "secret-token" not in text and "ops-secret-token" not in text
    name = discord["token"].strip("${}")
    assert pod.env[name] == "MTAx.main.secret-token"
    assert discord["accounts"]["ops"]["tokenFile"].startswith("/etc/openclaw/secrets/")
    assert "ops-secret-token\n" in pod.files.values() or "ops-secret-token" in pod.files.values()
    assert pod.env["DISCORD_ENV_TOKEN"] == "from-env"


def test_channels_add_writes_upstreams_keys(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord) -> None:
    token = new_bot(dc, "added_bot")
    env.provision(None, base)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    refused = env.cli("channels", "add", "--channel", "discord", "--use-env")
    assert refused.returncode != 0 and "DISCORD_BOT_TOKEN" in refused.stderr
    env.cli("config", "set", "channels.discord.apiRoot", dc.api_root, check=True)
    out = env.cli_json("channels", "add", "discord", "--token", token)
    assert out["written"] == {"token": "<set>"}
    assert env.config()["channels"]["discord"]["token"] == token
    connected(dc, token)  # the running gateway picked it up
    env.cli("channels", "add", "--channel", "discord", "--use-env", check=True,
            extra_env={"DISCORD_BOT_TOKEN": token})
    assert env.config()["channels"]["discord"]["token"] == {"source": "env", "provider": "default",
                                                            "id": "DISCORD_BOT_TOKEN"}


def test_doctor_reports_the_message_content_intent(env: Env, base: int, dc: FakeDiscord) -> None:
    token = new_bot(dc, "intentless_bot")
    dc.bots[token].app_flags = 0
    env.provision(None, base)
    env.set_config(("channels.discord", json.dumps({"token": token, "apiRoot": dc.api_root})))
    doctor = env.cli("doctor").stdout
    found = [x for x in doctor.splitlines() if "[warning]" in x and "discord" in x]
    assert len(found) == 1 and "Message Content intent is off for intentless_bot" in found[0], doctor
    dc.bots[token].app_flags = 1 << 19
    assert "Message Content" not in env.cli("doctor").stdout


def test_rate_limit_buckets_wait_before_sending() -> None:
    import asyncio

    from openclaw.channels.discord_api import RateLimits

    async def go() -> RateLimits:
        limits = RateLimits()
        limits.after("/channels/1/messages", {"X-RateLimit-Bucket": "shared", "X-RateLimit-Remaining": "1",
                                              "X-RateLimit-Reset-After": "5"})
        await limits.before("/channels/1/messages")  # room left: no wait
        assert limits.waited == 0
        limits.after("/channels/2/messages", {"X-RateLimit-Bucket": "shared", "X-RateLimit-Remaining": "0",
                                              "X-RateLimit-Reset-After": "0.05"})
        await limits.before("/channels/1/messages")  # the same bucket, now empty: waits for its reset
        assert limits.waited > 0
        waited = limits.waited
        await limits.before("/users/@me")  # another bucket: no wait
        assert limits.waited == waited
        return limits

    asyncio.run(go())


def test_two_accounts_in_one_gateway(env: Env, base: int, gateways: list[Gateway], dc: FakeDiscord) -> None:
    first, second = new_bot(dc, "first_bot"), new_bot(dc, "second_bot")
    start_with_discord(env, base, gateways, {"apiRoot": dc.api_root, "allowFrom": [OWNER], "accounts": {
        "one": {"token": first}, "two": {"token": second, "dmPolicy": "allowlist", "allowFrom": [STRANGER]}}})
    connected(dc, first)
    connected(dc, second)
    dc.user_message(first, OWNER, "/whoami")
    assert replies(dc, first, dc.dm_channel(OWNER), 1)[0].startswith(f"You are {OWNER} (@user{OWNER}) on discord/one")
    dc.user_message(second, STRANGER, "/whoami")
    assert "on discord/two; access: operator" in replies(dc, second, dc.dm_channel(STRANGER), 1)[0]
    accounts = env.cli_json("channels", "status")["channels"]["discord"]["accounts"]
    assert set(accounts) == {"one", "two"} and all(a["connected"] for a in accounts.values())
    env.cli("config", "set", "channels.discord.accounts.two.allowFrom", json.dumps([STRANGER, OWNER]), check=True)
    log = env.state_dir() / "logs" / "gateway.log"
    wait_for(lambda: "channels reloaded: discord" in log.read_text(), what="the channel reloaded live")
    dc.user_message(second, OWNER, "/whoami")
    assert "on discord/two; access: operator" in replies(dc, second, dc.dm_channel(OWNER), 1)[0]
    assert [dc.bots[t].identifies for t in (first, second)] == [1, 1]  # the reload resumed both sessions


def test_a_turn_cut_by_kill_is_answered_once_after_restart(env: Env, base: int, gateways: list[Gateway],
                                                          dc: FakeDiscord, model: ModelStandin) -> None:
    import signal

    token = new_bot(dc, "crash_bot")
    env.provision(None, base)
    env.use_model(model.openai_url)
    gw = start_with_discord(env, base, gateways, {"token": token, "apiRoot": dc.api_root, "allowFrom": [OWNER]})
    connected(dc, token)
    seen = len(model.requests())
    model.script(Reply(text="never finished " * 40, delay_s=0.5), Reply(text="answered after the restart"))
    dc.user_message(token, OWNER, "a long question")
    wait_for(lambda: len(model.requests()) > seen, what="the turn under way")
    assert json.loads((env.state_dir() / "discord" / "pending-default.json").read_text())["pending"]
    gw.signal(signal.SIGKILL)
    gw.wait_exit()
    again = env.gateway().start()
    gateways.append(again)
    again.wait_healthy(base)
    dm = dc.dm_channel(OWNER)
    assert replies(dc, token, dm, 1) == ["answered after the restart"]
    wait_for(lambda: not json.loads((env.state_dir() / "discord" / "pending-default.json").read_text())["pending"],
             what="the message settled")
    assert dc.messages_to(token, dm) == ["answered after the restart"]
    assert token not in (env.state_dir() / "logs" / "gateway.log").read_text()  # tokens are never logged
