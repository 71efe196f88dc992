"""The onboarding wizard's Discord step: a bot token and, optionally, user ids allowed up front.

DMs default to pairing either way; guild rooms stay closed until `channels.discord.guilds` lists
them (upstream's `groupPolicy: allowlist`).
"""

from __future__ import annotations

from openclaw.channels.discord_config import normalize_id
from openclaw.config.secret_env import CHANNEL_TOKENS
from openclaw.provisioning.channel_step import ChannelStep, Token, id_parser

DISCORD = ChannelStep(
    name="discord", label="Discord",
    tokens=(Token(CHANNEL_TOKENS["discord"][0], "discord-token", "Discord bot token from the Developer Portal"),),
    allow_prompt="Discord user ids to allow right away (comma-separated; empty: pairing only):",
    parse_allow=id_parser(normalize_id, str.isdigit,
                          "Discord user ids are numbers (Developer Mode -> Copy User ID); got {}"),
    saved="bot token saved; DMs by pairing, guild rooms once listed under channels.discord.guilds",
    skipped="not configured (openclaw channels add --channel discord)",
)
