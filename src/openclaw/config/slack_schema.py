"""`channels.slack`: the keys our Slack channel reads, typed; upstream's others pass through."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from openclaw.config.sections import SecretRef, Section

DmPolicy = Literal["pairing", "allowlist", "open", "disabled"]
GroupPolicy = Literal["allowlist", "open", "disabled"]
Token = str | SecretRef


class SlackRoom(Section):
    enabled: bool = True
    allow: bool | None = None
    require_mention: bool | None = None
    users: list[str | int] | None = None


class SlackSlashCommand(Section):
    enabled: bool | None = None
    name: str | None = None
    session_prefix: str | None = None
    ephemeral: bool | None = None


class SlackCommands(Section):
    native: bool | Literal["auto"] | None = None


class SlackAccount(Section):
    enabled: bool = True
    name: str | None = None
    mode: Literal["socket", "http", "relay"] | None = None
    bot_token: Token | None = None
    app_token: Token | None = None
    bot_token_file: str | None = None
    app_token_file: str | None = None
    api_root: str | None = None
    dm_policy: DmPolicy | None = None
    allow_from: list[str | int] | None = None
    group_policy: GroupPolicy | None = None
    require_mention: bool | None = None
    channels: dict[str, SlackRoom] | None = None
    slash_command: SlackSlashCommand | None = None
    commands: SlackCommands | None = None


class Slack(SlackAccount):
    accounts: dict[str, SlackAccount] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _policies(self) -> Slack:
        for where, account in [("", self), *((f"accounts.{k}.", a) for k, a in self.accounts.items())]:
            if account.mode not in (None, "socket"):
                raise ValueError(f"{where}mode {account.mode} is not supported here; use mode: socket")
            policy = account.dm_policy or (self.dm_policy if account is not self else None) or "pairing"
            allow = [str(x) for x in (account.allow_from if account.allow_from is not None else self.allow_from or [])]
            if policy == "allowlist" and not allow:
                raise ValueError(f"{where}dmPolicy allowlist needs at least one allowFrom entry")
            if policy == "open" and "*" not in allow:
                raise ValueError(f'{where}dmPolicy open needs "*" in allowFrom')
        return self
