"""The onboarding wizard's Telegram step: a bot token and, optionally, senders allowed up front.

DMs default to pairing either way: strangers get a code, and the first sender
approved with `openclaw pairing approve` becomes the owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openclaw.channels.pairing import normalize_sender
from openclaw.errors import UsageError

if TYPE_CHECKING:
    from openclaw.provisioning.wizard import Answers, Prompter, Proposal


def parse_allow_from(text: str | None) -> list[str]:
    ids = [normalize_sender(part) for part in (text or "").replace(" ", ",").split(",") if part.strip()]
    bad = [i for i in ids if not i.lstrip("-").isdigit()]
    if bad:
        raise UsageError(f"--telegram-allow-from takes numeric Telegram user ids (got {', '.join(bad)})")
    return ids


class TelegramStep:
    name = "telegram"

    def ask(self, prompter: Prompter, answers: Answers, proposal: Proposal) -> None:
        token = prompter.secret("Telegram bot token from @BotFather (empty: skip):").strip()
        if not token:
            return
        answers.extra["telegram_token"] = token
        allow = prompter.text("Telegram user ids to allow right away (comma-separated; empty: pairing only):", "",
                              validate=lambda v: _problem(v))
        answers.extra["telegram_allow_from"] = parse_allow_from(allow)

    def write(self, data: dict[str, Any], answers: Answers) -> None:
        token = answers.extra.get("telegram_token")
        if not token:
            return
        telegram = data.setdefault("channels", {}).setdefault("telegram", {})
        telegram["botToken"] = token
        telegram.setdefault("dmPolicy", "pairing")
        allow = answers.extra.get("telegram_allow_from") or []
        if allow:
            telegram["allowFrom"] = sorted(set(map(str, telegram.get("allowFrom", []))) | set(allow))


def _problem(value: str) -> str | None:
    try:
        parse_allow_from(value)
    except UsageError as exc:
        return str(exc)
    return None
