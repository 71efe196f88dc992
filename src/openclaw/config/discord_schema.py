"""`channels.discord`: the keys ours reads, validated; the many other upstream keys pass through."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from openclaw.config.sections import OpenSection, SecretRef

DmPolicy = Literal["pairing", "allowlist", "open", "disabled"]
GroupPolicy = Literal["open", "allowlist", "disabled"]


class DiscordChannelRule(OpenSection):
    enabled: bool | None = None
    allow: bool | None = None  # upstream's older spelling of `enabled`
    require_mention: bool | None = None
    users: list[str | int] | None = None
    roles: list[str | int] | None = None


class DiscordGuild(OpenSection):
    enabled: bool | None = None
    require_mention: bool | None = None
    users: list[str | int] | None = None
    roles: list[str | int] | None = None
    channels: dict[str, DiscordChannelRule] | None = None


class DiscordAccount(OpenSection):
    enabled: bool = True
    name: str | None = None
    token: str | SecretRef | None = None
    token_file: str | None = None
    api_root: str | None = None
    dm_policy: DmPolicy | None = None
    allow_from: list[str | int] | None = None
    group_policy: GroupPolicy | None = None
    guilds: dict[str, DiscordGuild] | None = None
    allow_bots: bool | None = None
    dangerously_allow_name_matching: bool | None = None


class Discord(DiscordAccount):
    accounts: dict[str, DiscordAccount] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _policies(self) -> Discord:
        for where, account in [("", self), *((f"accounts.{k}.", a) for k, a in self.accounts.items())]:
            allow = account.allow_from if account.allow_from is not None else self.allow_from or []
            if account.dm_policy == "allowlist" and not allow:
                raise ValueError(f"{where}dmPolicy allowlist needs at least one allowFrom entry")
            if account.dm_policy == "open" and "*" not in [str(x) for x in allow]:
                raise ValueError(f'{where}dmPolicy open needs "*" in allowFrom')
        return self
