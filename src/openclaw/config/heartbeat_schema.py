"""The `heartbeat` block of `agents.defaults` and of each agent, typed as upstream types it. Keys
outside it are reported by `config.keys` (upstream's schema rejects them too)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?|(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+)\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


def _zone(name: str) -> str:
    if name in ("user", "local"):
        return name
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use user, local or an IANA name)") from None
    return name


class Section(BaseModel):
    """As config.schema's sections: camelCase keys, strict types, extras left to `config.keys`."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, strict=True)


class ActiveHours(Section):
    start: str | None = None
    end: str | None = None
    timezone: str | None = None

    @field_validator("start")
    @classmethod
    def _start(cls, value: str | None) -> str | None:
        if value is not None and not _CLOCK.match(value):
            raise ValueError("start must be HH:MM (00:00 to 23:59)")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str | None) -> str | None:
        if value is not None and value != "24:00" and not _CLOCK.match(value):
            raise ValueError("end must be HH:MM (00:00 to 24:00)")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return _zone(value) if value is not None else None


class Heartbeat(Section):
    every: str | Annotated[int, Field(ge=0)] | None = None
    prompt: str | None = None
    target: str | None = None
    to: str | None = None
    account_id: str | None = None
    direct_policy: Literal["allow", "block"] | None = None
    active_hours: ActiveHours | None = None
    model: str | None = None
    session: str | None = None
    light_context: bool | None = None
    isolated_session: bool | None = None
    timeout_seconds: Annotated[int, Field(ge=1)] | None = None

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and not _DURATION.match(value):
            raise ValueError(f"invalid duration {value!r} (use e.g. 30m, 1h, 90s; a bare number is minutes; "
                             "0m turns the schedule off)")
        return value

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or ":" in value):
            raise ValueError("target must be owner, last, none or a channel id such as telegram "
                             "(put the chat in `to`)")
        return value


class DefaultHeartbeat(Heartbeat):
    agent_id: str | None = None  # only this agent beats (when no agent has a block of its own)
