"""The onboarding wizard's Discord step: a bot token and, optionally, user ids allowed up front.

DMs default to pairing either way; guild rooms stay closed until `channels.discord.guilds` lists
them (upstream's `groupPolicy: allowlist`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openclaw.channels.discord_config import normalize_id
from openclaw.errors import UsageError

if TYPE_CHECKING:
    from openclaw.provisioning.wizard import Answers, Prompter, Proposal


def parse_user_ids(text: str | None) -> list[str]:
    ids = [normalize_id(part) for part in (text or "").replace(" ", ",").split(",") if part.strip()]
    bad = [i for i in ids if not i.isdigit()]
    if bad:
        raise UsageError(f"Discord user ids are numbers (Developer Mode -> Copy User ID); got {', '.join(bad)}")
    return ids


class DiscordStep:
    name = "discord"

    def ask(self, prompter: Prompter, answers: Answers, proposal: Proposal) -> None:
        token = prompter.secret("Discord bot token from the Developer Portal (empty: skip):").strip()
        if not token:
            return
        answers.extra["discord_token"] = token
        allow = prompter.text("Discord user ids to allow right away (comma-separated; empty: pairing only):", "",
                              validate=_problem)
        answers.extra["discord_allow_from"] = parse_user_ids(allow)

    def write(self, data: dict[str, Any], answers: Answers) -> None:
        token = answers.extra.get("discord_token")
        if not token:
            return
        discord = data.setdefault("channels", {}).setdefault("discord", {})
        discord["token"] = token
        discord.setdefault("dmPolicy", "pairing")
        allow = answers.extra.get("discord_allow_from") or []
        if allow:
            discord["allowFrom"] = sorted(set(map(str, discord.get("allowFrom", []))) | set(allow))


def _problem(value: str) -> str | None:
    try:
        parse_user_ids(value)
    except UsageError as exc:
        return str(exc)
    return None
