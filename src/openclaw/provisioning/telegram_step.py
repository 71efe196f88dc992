"""The onboarding wizard's Telegram step: a bot token and, optionally, senders allowed up front.

DMs default to pairing either way: strangers get a code, and the first sender
approved with `openclaw pairing approve` becomes the owner.
"""

from __future__ import annotations

from openclaw.channels.pairing import normalize_sender
from openclaw.config.secret_env import CHANNEL_TOKENS
from openclaw.provisioning.channel_step import ChannelStep, Token, id_parser

TELEGRAM = ChannelStep(
    name="telegram", label="Telegram",
    tokens=(Token(CHANNEL_TOKENS["telegram"][0], "telegram-token", "Telegram bot token from @BotFather"),),
    allow_prompt="Telegram user ids to allow right away (comma-separated; empty: pairing only):",
    parse_allow=id_parser(normalize_sender, lambda i: i.lstrip("-").isdigit(),
                          "--telegram-allow-from takes numeric Telegram user ids (got {})"),
    saved="bot token saved; DMs by pairing (the first approved sender becomes the owner)",
    skipped="not configured (onboard again, or set channels.telegram)",
)
