"""The onboarding wizard's Slack step: Socket Mode's two tokens (the bot token, xoxb-, and the
app-level token, xapp-) and, optionally, member ids allowed up front.

Written as upstream's setup writes `channels.slack`: `enabled`, `botToken`, `appToken`, and DMs by
pairing; channels stay closed until `channels.slack.channels` lists them (upstream's
`groupPolicy: allowlist`).
"""

from __future__ import annotations

import re

from openclaw.channels.slack_config import normalize_user, token_shape
from openclaw.config.secret_env import CHANNEL_TOKENS
from openclaw.provisioning.channel_step import ChannelStep, Token, id_parser

BOT, APP = CHANNEL_TOKENS["slack"]
SLACK = ChannelStep(
    name="slack", label="Slack",
    tokens=(Token(BOT, "slack-bot-token", "Slack bot token, xoxb-... (OAuth & Permissions)",
                  lambda value: token_shape("botToken", value)),
            Token(APP, "slack-app-token", "Slack app-level token for Socket Mode, xapp-... (Basic Information)",
                  lambda value: token_shape("appToken", value))),
    allow_prompt="Slack member ids to allow right away (comma-separated; empty: pairing only):",
    parse_allow=id_parser(normalize_user, re.compile(r"[UW][A-Z0-9]{6,}").fullmatch,
                          "Slack member ids look like U012AB3CD (profile -> More -> Copy member ID); got {}"),
    saved="bot and app tokens saved (Socket Mode); DMs by pairing, channels once listed under channels.slack.channels",
    skipped="not configured (openclaw channels add --channel slack)",
    enable=True,
)
