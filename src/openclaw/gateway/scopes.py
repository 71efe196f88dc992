"""Operator scopes and which scope each method needs."""

from __future__ import annotations

from collections.abc import Iterable

READ = "operator.read"
WRITE = "operator.write"
ADMIN = "operator.admin"
APPROVALS = "operator.approvals"
PAIRING = "operator.pairing"
QUESTIONS = "operator.questions"
TALK = "operator.talk"
TALK_SECRETS = "operator.talk.secrets"

ALL_SCOPES = (READ, WRITE, ADMIN, APPROVALS, PAIRING, QUESTIONS, TALK, TALK_SECRETS)
EXEMPT = None  # marker: any authenticated connection may call it


def satisfies(granted: Iterable[str], required: str) -> bool:
    """`admin` satisfies everything; `write` also satisfies `read` and `talk`."""
    have = set(granted)
    if ADMIN in have or required in have:
        return True
    return WRITE in have and required in (READ, TALK)
