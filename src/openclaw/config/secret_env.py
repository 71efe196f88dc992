"""Environment variables that carry a channel's token, named once so that every reader agrees.

A channel whose config names no token takes its default account's from these. The agent's commands
never inherit them (sandbox.confine), `deploy kubernetes` carries them into the pod's Secret, and
`channels logout` says when one keeps a logged-out account alive. Providers' keys follow a rule
instead (`<PROVIDER>_API_KEY`, models.catalog.env_key_name).
"""

from __future__ import annotations

CHANNEL_TOKEN_ENV: dict[str, tuple[str, ...]] = {
    "telegram": ("TELEGRAM_BOT_TOKEN",),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
    "discord": ("DISCORD_BOT_TOKEN",),
}  # what our channels read for their default account
UPSTREAM_CHANNEL_ENV = ("SLACK_USER_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_CLIENT_SECRET")  # upstream reads
# these too (Slack's user identity and HTTP mode, Discord's OAuth app): a host set up for it may have them
OTHER_PROVIDER_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "XAI_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY")
# providers we do not ship but hosts often hold keys for (upstream reads them)

CHANNEL_SECRET_ENV = frozenset({name for names in CHANNEL_TOKEN_ENV.values() for name in names}
                               | set(UPSTREAM_CHANNEL_ENV))
