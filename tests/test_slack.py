"""Slack against a Socket Mode + Web API stand-in: DMs, pairing, mentions, threads, drops, 429s, rescue."""

from __future__ import annotations

import contextlib
import json
import os
import signal

from fake_slack import FakeSlack, replies, slack_config, start_with_slack
from helpers import Env, Gateway, healthz, wait_for
from model_standin import ModelStandin

from openclaw.channels.slack_config import accounts_from, channel_rule, policy, token_shape
from openclaw.ports.registry import running_gateways

OWNER, STRANGER = "U0OWNER", "U0STRANGER"


def main_pid(env: Env) -> int | None:
    state = str(env.state_dir("main"))
    return next((r["pid"] for r in running_gateways() if r["stateDir"] == state), None)


def pair(env: Env, fake: FakeSlack, app, user: str, profile: str | None = None) -> None:  # type: ignore[no-untyped-def]
    before = len(fake.posted(app, f"D{user}"))
    fake.say(app, user, "hi")
    code = replies(fake, app, f"D{user}", before + 1)[-1].split("pairing code is ")[1].split()[0]
    prefix = ["--profile", profile] if profile else []
    env.cli(*prefix, "pairing", "approve", "slack", code, check=True)


def test_config_reading() -> None:
    slack = {"botToken": "xoxb-1", "appToken": "xapp-1", "dmPolicy": "allowlist", "allowFrom": ["slack:U1"],
             "groupPolicy": "open", "channels": {"C1": {"requireMention": False, "users": ["U2"]}},
             "accounts": {"ops": {"botToken": "xoxb-2", "appToken": "xapp-2", "dmPolicy": None}}}
    accounts = accounts_from(slack)
    assert set(accounts) == {"default", "ops"} and accounts["ops"]["groupPolicy"] == "open"
    assert policy(accounts["ops"]) == ("allowlist", {"U1"})
    assert policy({"dm": {"policy": "open", "allowFrom": ["*"]}}) == ("open", {"*"})
    assert channel_rule(accounts["default"], "C1", "U2") is False  # no mention needed there
    assert channel_rule(accounts["default"], "C1", "U3") is None  # not among the room's users
    assert channel_rule(accounts["default"], "C9", "U3") is True  # open: any room, mention required
    assert channel_rule({}, "C9", "U3") is None  # allowlist by default: unlisted rooms ignored
    assert token_shape("botToken", "xoxb-1") is None and "xapp-" in (token_shape("appToken", "xoxb-1") or "")


def test_dm_paired_then_answered_by_the_model(env: Env, base: int, gateways: list[Gateway], slack: FakeSlack,
                                              model: ModelStandin) -> None:
    app = slack.add_app("dm")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_slack(env, base, gateways, slack_config(slack, app))
    slack.say(app, STRANGER, "hello there")
    first = replies(slack, app, f"D{STRANGER}", 1)[0]
    assert "pairing code is" in first and "openclaw pairing approve slack" in first
    listed = env.cli_json("pairing", "list")["requests"]
    assert [(r["channel"], r["senderId"]) for r in listed] == [("slack", STRANGER)]
    code = first.split("pairing code is ")[1].split()[0]
    env.cli("pairing", "approve", "slack", code, check=True)
    slack.say(app, STRANGER, "what is up")
    wait_for(lambda: "echo: what is up" in slack.texts(app, f"D{STRANGER}"), what="the model's answer")
    assert all(m["thread_ts"] is None for m in slack.posted(app, f"D{STRANGER}"))


def test_channel_mention_thread_and_unmentioned(env: Env, base: int, gateways: list[Gateway], slack: FakeSlack,
                                                model: ModelStandin) -> None:
    app = slack.add_app("room")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_slack(env, base, gateways, slack_config(slack, app, channels={"C100": {"requireMention": True}}))
    slack.say(app, "U7", "nobody called you", channel="C100")
    slack.say(app, "U7", "not listed", channel="C999", mention=True)
    root = slack.say(app, "U7", "first question", channel="C100", mention=True)  # message + app_mention
    wait_for(lambda: "echo: first question" in slack.texts(app, "C100"), what="the mention answered")
    slack.say(app, "U7", "in the thread", channel="C100", thread_ts=root, mention=True)
    wait_for(lambda: "echo: in the thread" in slack.texts(app, "C100"), what="the thread answered")
    posted = slack.posted(app, "C100")
    assert [(m["text"], m["thread_ts"]) for m in posted] == [("echo: first question", None),
                                                             ("echo: in the thread", root)]
    assert not slack.posted(app, "C999")
    sessions = env.cli_json("sessions")
    names = {s["key"] for s in (sessions["sessions"] if isinstance(sessions, dict) else sessions)}
    assert "agent:main:slack:channel:c100" in names and f"agent:main:slack:channel:c100:thread:{root}" in names


def test_drops_and_disconnects_lose_nothing_and_answer_once(env: Env, base: int, gateways: list[Gateway],
                                                            slack: FakeSlack, model: ModelStandin) -> None:
    app = slack.add_app("drops")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_slack(env, base, gateways, slack_config(slack, app, dmPolicy="allowlist", allowFrom=[OWNER]))
    chat = f"D{OWNER}"
    wait_for(lambda: slack.connected(app), what="the socket")
    sent = []
    for i in range(6):
        connects = app.connects
        if i % 2:
            slack.disconnect(app, "refresh_requested" if i % 4 == 1 else "warning")
        else:
            slack.drop(app)
        sent.append(f"message {i}")
        slack.say(app, OWNER, sent[-1])  # queued while down, or delivered to a socket about to go
        wait_for(lambda c=connects: app.connects > c and slack.connected(app), what=f"reconnect {i}")
    wait_for(lambda: len(slack.texts(app, chat)) >= len(sent), timeout=30, what="every message answered")
    wait_for(lambda: not app.unacked, what="every envelope acked")
    assert sorted(slack.texts(app, chat)) == sorted(f"echo: {t}" for t in sent)  # none lost, none twice


def test_rate_limit_honoured_and_bad_token_in_one_line(env: Env, base: int, gateways: list[Gateway],
                                                       slack: FakeSlack, model: ModelStandin) -> None:
    app = slack.add_app("limits")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_slack(env, base, gateways, slack_config(slack, app, dmPolicy="allowlist", allowFrom=[OWNER]))
    wait_for(lambda: slack.connected(app), what="the socket")
    mark = len(slack.calls)
    slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    slack.say(app, OWNER, "after a 429")
    wait_for(lambda: "echo: after a 429" in slack.texts(app, f"D{OWNER}"), what="the answer after the 429")
    posts = [t for m, t in slack.calls[mark:] if m == "chat.postMessage"]
    assert len(posts) == 2 and posts[1] - posts[0] >= 1.0  # the second try waited Slack's Retry-After
    probe = env.cli("channels", "status", "--probe")
    assert probe.returncode == 0 and "probe: ok" in probe.stdout

    env.set_config(("channels.slack.botToken", "xoxb-revoked"))
    wait_for(lambda: "invalid_auth" in env.cli("channels", "status", "--probe").stdout, timeout=20,
             what="the reloaded channel probed")
    lines = [line for line in env.cli("channels", "status", "--probe").stdout.splitlines() if "invalid_auth" in line]
    assert len(lines) == 1 and "botToken" in lines[0]
    doctor = env.cli("doctor")
    assert doctor.returncode != 0
    found = [line for line in doctor.stdout.splitlines() if "auth.test failed: invalid_auth" in line]
    assert len(found) == 1
    env.set_config(("channels.slack.appToken", "xoxb-wrong-kind"))
    assert "appToken holds a bot or user token" in env.cli("doctor").stdout


def test_rescue_bot_restarts_main_from_slack(env: Env, base: int, gateways: list[Gateway], slack: FakeSlack) -> None:
    """From a DM, then as a native slash command answered in the channel through its response URL."""
    app = slack.add_app("rescue")
    env.provision("main", base)
    main = env.gateway("main").start()
    gateways.append(main)
    main.wait_healthy(base)
    start_with_slack(env, base + 200, gateways, slack_config(slack, app, commands={"native": True},
                                                             slashCommand={"ephemeral": False}), profile="rescue")
    pair(env, slack, app, OWNER, profile="rescue")
    chat = f"D{OWNER}"

    def say(text: str) -> str:
        before = len(slack.posted(app, chat))
        slack.say(app, OWNER, text)
        return replies(slack, app, chat, before + 1, timeout=45)[-1]

    assert "main: healthy" in say("/gateways")
    assert main.stop() == 0
    wait_for(lambda: not healthz(base), what="main down")
    assert say("/status main").startswith("main: stopped")
    def run(user: str, command: str, text: str) -> dict[str, str]:
        _, rid = slack.slash(app, user, command, text)
        return wait_for(lambda: slack.responded(app, rid), timeout=45, what=f"the answer to {command}")[-1]

    try:
        restarted = run(OWNER, "/restart", "main")
        assert restarted["text"].startswith("main started") and "healthy" in restarted["text"]
        assert restarted["response_type"] == "in_channel"
        assert healthz(base) and main_pid(env) is not None
    finally:
        pid = main_pid(env)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            wait_for(lambda: main_pid(env) is None, what="main stopped")
    slack.say(app, STRANGER, "/restart main")
    assert "pairing code is" in replies(slack, app, f"D{STRANGER}", 1)[0]  # strangers get a code, not a restart
    assert "pairing code is" in run("U0OTHER", "/restart", "main")["text"]  # by slash command too
    assert main_pid(env) is None


def test_channels_add_writes_both_tokens(env: Env, base: int, gateways: list[Gateway], slack: FakeSlack,
                                         tmp_path) -> None:
    app = slack.add_app("added")
    env.provision(None, base)
    gw = env.gateway().start()
    gateways.append(gw)
    gw.wait_healthy(base)
    refused = env.cli("channels", "add", "--channel", "slack", "--use-env", extra_env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert refused.returncode != 0 and "SLACK_APP_TOKEN" in refused.stderr
    wrong = env.cli("channels", "add", "slack", "--token", app.bot_token)
    assert wrong.returncode != 0 and "--bot-token" in wrong.stderr
    half = env.cli("channels", "add", "slack", "--bot-token", app.bot_token)
    assert half.returncode != 0 and "--app-token" in half.stderr
    assert "slack" not in env.config().get("channels", {})
    env.cli("config", "set", "channels.slack.apiRoot", slack.api_root, check=True)
    (tmp_path / "app-token").write_text(app.app_token + "\n")
    out = env.cli_json("channels", "add", "--channel", "slack", "--bot-token", app.bot_token,
                       "--app-token-file", str(tmp_path / "app-token"), "--name", "Ops bot")
    assert out["written"] == {"botToken": "<set>", "appTokenFile": str(tmp_path / "app-token"), "name": "Ops bot"}
    section = env.config()["channels"]["slack"]
    assert section["botToken"] == app.bot_token and section["dmPolicy"] == "pairing"
    wait_for(lambda: slack.connected(app), what="the running gateway picking up the added account")
    env.cli("channels", "add", "--channel", "slack", "--use-env", check=True,
            extra_env={"SLACK_BOT_TOKEN": app.bot_token, "SLACK_APP_TOKEN": app.app_token})
    section = env.config()["channels"]["slack"]
    assert section["botToken"] == {"source": "env", "provider": "default", "id": "SLACK_BOT_TOKEN"}
    assert section["appToken"] == {"source": "env", "provider": "default", "id": "SLACK_APP_TOKEN"}
    assert "appTokenFile" not in section
    other = env.cli("channels", "add", "slack", "--account", "ops", "--use-env",
                    extra_env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert other.returncode != 0 and "default account only" in other.stderr


def test_kubernetes_moves_slack_tokens_into_the_secret(tmp_path) -> None:
    from openclaw.deploy.kubernetes.portable import pod_config
    from openclaw.profiles.paths import InstancePaths

    paths = InstancePaths(None, tmp_path, tmp_path / ".openclaw", tmp_path / ".openclaw" / "openclaw.json", False)
    (tmp_path / "app-token").write_text("xapp-1-main-sEcReT-app\n")
    raw = {"channels": {"slack": {
        "botToken": "xoxb-main-sEcReT-bot", "appTokenFile": str(tmp_path / "app-token"), "dmPolicy": "pairing",
        "accounts": {
            "ops": {"botToken": "xoxb-ops-sEcReT-bot", "appToken": "xapp-1-ops-sEcReT-app"},
            "env": {"botToken": {"source": "env", "provider": "default", "id": "SLACK_BOT_TOKEN"},
                    "appToken": {"source": "env", "provider": "default", "id": "SLACK_APP_TOKEN"}}}}}}
    pod = pod_config(raw, paths, {"SLACK_BOT_TOKEN": "xoxb-from-env", "SLACK_APP_TOKEN": "xapp-from-env"}, False)
    slack = pod.config["channels"]["slack"]
    assert "sEcReT" not in json.dumps(pod.config)  # no token left in the ConfigMap
    assert pod.env[slack["botToken"].strip("${}")] == "xoxb-main-sEcReT-bot"
    ops = slack["accounts"]["ops"]
    assert pod.env[ops["botToken"].strip("${}")] == "xoxb-ops-sEcReT-bot"
    assert pod.env[ops["appToken"].strip("${}")] == "xapp-1-ops-sEcReT-app"
    assert slack["appTokenFile"].startswith("/etc/openclaw/secrets/")
    assert {v.strip() for v in pod.files.values()} == {"xapp-1-main-sEcReT-app"}
    assert slack["accounts"]["env"] == raw["channels"]["slack"]["accounts"]["env"]  # refs kept, values in the Secret
    assert (pod.env["SLACK_BOT_TOKEN"], pod.env["SLACK_APP_TOKEN"]) == ("xoxb-from-env", "xapp-from-env")
    assert slack["dmPolicy"] == "pairing" and not pod.missing
