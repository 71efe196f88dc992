"""Where a channel's tokens come from, and which environment variables carry secrets, named once so
that every reader agrees.

A channel whose default account has a token in neither of its config keys takes it from the
environment. The agent's commands never inherit these variables (sandbox.confine), `deploy
kubernetes` carries them into the pod's Secret, `channels add --use-env` reads them and `channels
logout` says when one keeps a logged-out account alive. Providers' keys follow a rule instead
(`<PROVIDER>_API_KEY`, models.catalog.env_key_name).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelToken:
    """One token a channel account needs."""

    key: str  # the config key holding it (a string or a SecretRef)
    file_key: str  # the config key naming a file that holds it
    env: str  # what the default account reads when neither key is set


CHANNEL_TOKENS: dict[str, tuple[ChannelToken, ...]] = {
    "telegram": (ChannelToken("botToken", "tokenFile", "TELEGRAM_BOT_TOKEN"),),
    "slack": (ChannelToken("botToken", "botTokenFile", "SLACK_BOT_TOKEN"),
              ChannelToken("appToken", "appTokenFile", "SLACK_APP_TOKEN")),
    "discord": (ChannelToken("token", "tokenFile", "DISCORD_BOT_TOKEN"),),
}
CHANNEL_TOKEN_ENV = {name: tuple(t.env for t in tokens) for name, tokens in CHANNEL_TOKENS.items()}
UPSTREAM_CHANNEL_ENV = ("SLACK_USER_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_CLIENT_SECRET")  # upstream reads
# these too (Slack's user identity and HTTP mode, Discord's OAuth app): a host set up for it may have them
OTHER_PROVIDER_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "XAI_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY")
# providers we do not ship but hosts often hold keys for (upstream reads them)

CHANNEL_SECRET_ENV = frozenset({name for names in CHANNEL_TOKEN_ENV.values() for name in names}
                               | set(UPSTREAM_CHANNEL_ENV))


def default_account_env(section: object, channel: str) -> tuple[str, ...]:
    """The variables an enabled `channels.<channel>` section takes its default account's tokens from:
    those whose keys it leaves unset, when it has a default account (it has none when it lists only
    named `accounts` and gives no token at the top level)."""
    tokens = CHANNEL_TOKENS.get(channel, ())
    if not isinstance(section, dict) or section.get("enabled") is False:
        return ()
    given = {t.env for t in tokens if section.get(t.key) or section.get(t.file_key)}
    if section.get("accounts") and not given:
        return ()
    return tuple(t.env for t in tokens if t.env not in given)
