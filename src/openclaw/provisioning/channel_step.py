"""What the wizard's channel steps share: a channel's token(s), asked as secrets or taken from
`--non-interactive` flags, then the user ids allowed without pairing.

Written to `channels.<name>` as upstream's setup writes it (the token under its key, replacing a
token file the config named before), DMs by pairing unless the config says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openclaw.config.secret_env import ChannelToken
from openclaw.errors import UsageError

if TYPE_CHECKING:
    from openclaw.provisioning.wizard import Answers, Prompter, Proposal


def _any_token(value: str) -> str | None:
    return None


def id_parser(normalize: Callable[[str], str], valid: Callable[[str], object],
              problem: str) -> Callable[[str | None], list[str]]:
    """A parser of comma- or space-separated user ids, each normalized as the channel stores it; one
    that is not `valid` raises `problem` (formatted with the bad ones)."""
    def parse(text: str | None) -> list[str]:
        ids = [normalize(part) for part in (text or "").replace(" ", ",").split(",") if part.strip()]
        bad = [i for i in ids if not valid(i)]
        if bad:
            raise UsageError(problem.format(", ".join(bad)))
        return ids

    return parse


@dataclass(frozen=True)
class Token:
    """One token the step asks for."""

    where: ChannelToken  # its config keys
    flag: str  # its --non-interactive flag, without "--"
    prompt: str
    problem: Callable[[str], str | None] = _any_token  # what is wrong with a value, or None


@dataclass
class ChannelAnswer:
    tokens: dict[str, str]  # config key -> token
    allow_from: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelStep:
    name: str  # channels.<name>, the flags' prefix and the answers' key
    label: str
    tokens: tuple[Token, ...]
    allow_prompt: str
    parse_allow: Callable[[str | None], list[str]]  # raises UsageError with what is wrong
    saved: str  # the summary's line when the step wrote the channel
    skipped: str  # and when it did not
    enable: bool = False  # also write `enabled: true`

    @property
    def allow_flag(self) -> str:
        return f"{self.name}-allow-from"

    def ask(self, prompter: Prompter, answers: Answers, proposal: Proposal) -> None:
        first, *rest = self.tokens
        value = prompter.secret(f"{first.prompt} (empty: skip):",
                                validate=lambda v: first.problem(v.strip()) if v.strip() else None).strip()
        if not value:
            return
        values = {first.where.key: value}
        for token in rest:
            values[token.where.key] = prompter.secret(f"{token.prompt}:", validate=self._required(token)).strip()
        allow = prompter.text(self.allow_prompt, "", validate=self._allow_problem)
        answers.extra[self.name] = ChannelAnswer(values, self.parse_allow(allow))

    def from_flags(self, flags: Mapping[str, Any]) -> ChannelAnswer | None:
        """The answer the flags give, or None when they name none of this channel's tokens."""
        values = {t.where.key: str(flags.get(_option(t.flag)) or "").strip() for t in self.tokens}
        allow = flags.get(_option(self.allow_flag))
        if not any(values.values()):
            if allow:
                raise UsageError(f"--{self.allow_flag} needs --{self.tokens[0].flag}")
            return None
        for token in self.tokens:
            value = values[token.where.key]
            if not value:
                raise UsageError(f"{self.label} needs --{token.flag} too")
            problem = token.problem(value)
            if problem:
                raise UsageError(f"--{token.flag}: {problem}")
        return ChannelAnswer(values, self.parse_allow(allow))

    def write(self, data: dict[str, Any], answers: Answers) -> None:
        answer = answers.extra.get(self.name)
        if not isinstance(answer, ChannelAnswer):
            return
        section = data.setdefault("channels", {}).setdefault(self.name, {})
        if self.enable:
            section["enabled"] = True
        for token in self.tokens:
            section.pop(token.where.file_key, None)  # a file would win over the token just given
            section[token.where.key] = answer.tokens[token.where.key]
        section.setdefault("dmPolicy", "pairing")
        if answer.allow_from:
            section["allowFrom"] = sorted(set(map(str, section.get("allowFrom", []))) | set(answer.allow_from))

    def _required(self, token: Token) -> Callable[[str], str | None]:
        return lambda value: token.problem(value.strip()) if value.strip() else f"{self.label} needs this token too"

    def _allow_problem(self, value: str) -> str | None:
        try:
            self.parse_allow(value)
        except UsageError as exc:
            return str(exc)
        return None


def _option(flag: str) -> str:
    return flag.replace("-", "_")
