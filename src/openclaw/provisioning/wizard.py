"""The wizard's shapes: what it proposes, the answers it collects, how it asks, and a step's
interface. Apart from onboarding itself so the steps (model, channels) need only these."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from openclaw.ports.instances import Instance


@dataclass
class Proposal:
    """Defaults the wizard offers, worked out from this host's instances."""

    workspace: str
    port: int
    bind: str
    auth: str
    service_available: bool
    service_reason: str | None
    others: list[Instance]
    env: Mapping[str, str]  # what the wizard was started with (a provider key already set, say)


@dataclass
class Answers:
    workspace: str
    port: int
    bind: str = "loopback"
    auth: str = "token"
    token: str | None = None
    password: str | None = None
    install_daemon: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # later steps (channels, models) add theirs


class Prompter(Protocol):
    def text(self, message: str, default: str, validate: Callable[[str], str | None] | None = None) -> str: ...
    def select(self, message: str, choices: list[str], default: str) -> str: ...
    def secret(self, message: str, validate: Callable[[str], str | None] | None = None) -> str: ...
    def confirm(self, message: str, default: bool) -> bool: ...


class Step(Protocol):
    """One part of the wizard. `ask` fills answers interactively; `write` puts them in the config."""

    @property
    def name(self) -> str: ...

    def ask(self, prompter: Prompter, answers: Answers, proposal: Proposal) -> None: ...
    def write(self, data: dict[str, Any], answers: Answers) -> None: ...
