"""Slack slash commands against the Socket Mode stand-in: the one `/openclaw` command and native ones,
answered through the response URL, refused in the ack or by the DM rules as upstream does."""

from __future__ import annotations

from fake_slack import FakeSlack, slack_config, start_with_slack
from helpers import Env, Gateway, wait_for
from model_standin import ModelStandin

from openclaw.channels import slack_slash as slash

OWNER, STRANGER = "U0OWNER", "U0STRANGER"


def test_settings_prompts_and_refusals() -> None:
    chosen = slash.settings({})
    assert chosen == slash.SlashSettings(False, "openclaw", "slack:slash", True, False)
    one = slash.settings({"slashCommand": {"enabled": True, "name": "/claw", "ephemeral": False}})
    assert (one.name, one.ephemeral) == ("claw", False)
    assert slash.prompt({"command": "/claw", "text": " /status main "}, one) == "/status main"
    assert slash.prompt({"command": "/status", "text": "main"}, one) is None  # not ours
    native = slash.settings({"commands": {"native": True}})
    assert slash.prompt({"command": "/status", "text": "main"}, native) == "/status main"
    assert slash.prompt({"command": "/new", "text": ""}, native) == "/new"
    assert slash.prompt({"command": "/status"}, slash.settings({"commands": {"native": "auto"}})) is None
    raw = {"dmPolicy": "disabled", "channels": {"C1": {"users": ["U1"]}}}
    assert slash.refusal({"channel_id": "D1", "channel_name": "directmessage"}, raw) == "Slack DMs are disabled."
    assert slash.refusal({"channel_id": "C9", "user_id": "U1"}, raw) == "This channel is not allowed."
    here = "You are not authorized to use this command here."
    assert slash.refusal({"channel_id": "C1", "user_id": "U2"}, raw) == here
    assert slash.refusal({"channel_id": "C1", "user_id": "U1"}, raw) is None
    assert slash.usable_url("https://hooks.slack.com/commands/T1/1/x", "https://slack.com/api")
    assert slash.usable_url("http://127.0.0.1:9/respond/R1", "http://127.0.0.1:9/api")
    assert not slash.usable_url("http://169.254.169.254/latest", "https://slack.com/api")


def test_one_command_answered_refused_and_ignored(env: Env, base: int, gateways: list[Gateway], slack: FakeSlack,
                                                  model: ModelStandin) -> None:
    app = slack.add_app("slash")
    env.provision(None, base)
    env.use_model(model.openai_url)
    start_with_slack(env, base, gateways, slack_config(
        slack, app, dmPolicy="allowlist", allowFrom=[OWNER], slashCommand={"enabled": True},
        channels={"C100": {"users": [OWNER]}}))
    wait_for(lambda: slack.connected(app), what="the socket")

    def answers(user: str, text: str, count: int = 1, **kw: str) -> list[dict[str, str]]:
        _, rid = slack.slash(app, user, "/openclaw", text, **kw)
        return wait_for(lambda: len(slack.responded(app, rid)) >= count and slack.responded(app, rid),
                        timeout=20, what=f"the answer to /openclaw {text}")

    whoami = answers(OWNER, "/whoami")
    assert whoami[0]["response_type"] == "ephemeral"
    assert f"You are {OWNER}" in whoami[0]["text"] and "access: operator" in whoami[0]["text"]
    assert "session: agent:main:main" in whoami[0]["text"]  # a command acts on the chat's session
    assert answers(OWNER, "what is up")[0]["text"] == "echo: what is up"
    sessions = env.cli_json("sessions")
    keys = {s["key"] for s in (sessions["sessions"] if isinstance(sessions, dict) else sessions)}
    assert f"agent:main:slack:slash:{OWNER.lower()}" in keys  # a prompt runs in the slash session
    assert "session: agent:main:slack:channel:c100" in answers(OWNER, "/whoami", channel="C100")[0]["text"]
    assert answers(STRANGER, "/whoami")[0]["text"] == slash.NOT_AUTHORIZED  # the DM allowlist
    assert not slack.posted(app, f"D{OWNER}") and not slack.posted(app, f"D{STRANGER}")  # all through the URLs

    def acked(user: str, command: str, text: str = "", **kw: str) -> dict[str, str] | None:
        envelope, rid = slack.slash(app, user, command, text, **kw)
        wait_for(lambda: envelope in app.acked, what=f"the ack of {command} {text}")
        assert not slack.responded(app, rid)
        return app.ack_payloads.get(envelope)

    assert acked(OWNER, "/openclaw") == {"text": "Message required.", "response_type": "ephemeral"}
    assert acked(OWNER, "/openclaw", "/whoami", channel="C999")["text"] == "This channel is not allowed."  # type: ignore[index]
    assert acked(STRANGER, "/openclaw", "/whoami", channel="C100")["text"] == \
        "You are not authorized to use this command here."  # type: ignore[index]
    assert acked(OWNER, "/status", "main") is None  # native commands are off: acked, nothing more
    wait_for(lambda: not app.unacked, what="every envelope acked")
