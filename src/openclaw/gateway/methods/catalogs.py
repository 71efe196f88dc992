"""Collections of features this gateway does not have, answered empty in upstream's shapes rather
than `unknown method`: tasks, task suggestions, user profiles, worktrees, terminals, portals,
audit events, artifacts, conversations, approval history, boards and progress cards."""

from __future__ import annotations

from typing import Any

from openclaw.gateway.methods.registry import CallContext, method
from openclaw.gateway.scopes import ADMIN, APPROVALS, READ, WRITE

# method -> (scope, the empty answer): each answer is built fresh per call
EMPTY: dict[str, tuple[str, dict[str, Any]]] = {
    "tasks.list": (READ, {"tasks": []}),
    "taskSuggestions.list": (READ, {"suggestions": []}),
    "users.list": (READ, {"profiles": []}),
    "users.prefs.set": (WRITE, {"status": "no_durable_identity"}),  # preferences need a user profile
    "worktrees.list": (READ, {"worktrees": []}),
    "terminal.list": (ADMIN, {"sessions": []}),
    "portal.list": (READ, {"portals": []}),
    "audit.list": (READ, {"events": []}),
    "audit.activity.list": (READ, {"events": []}),
    "artifacts.list": (READ, {"artifacts": []}),
    "conversations.list": (ADMIN, {"conversations": []}),
    "approval.history": (APPROVALS, {"items": []}),
    "transcripts.list": (READ, {"sessions": [], "nextCursor": None}),
    "secrets.store.list": (ADMIN, {"entries": []}),
    "openclaw.changes.list": (ADMIN, {"entries": []}),  # config writes are not journaled here
}


def _register(name: str, scope: str, answer: dict[str, Any]) -> None:
    async def empty(ctx: CallContext) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in answer.items()}

    empty.__name__ = name.replace(".", "_")
    method(name, scope=scope, params="FeatureParams")(empty)


for _name, (_scope, _answer) in EMPTY.items():
    _register(_name, _scope, _answer)


@method("board.get", scope=READ, params="FeatureParams")
async def board_get(ctx: CallContext) -> dict[str, Any]:
    key = ctx.params.get("sessionKey") or f"agent:{ctx.gateway.settings.config.default_agent_id}:main"
    return {"sessionKey": key, "revision": 0, "tabs": [], "widgets": []}
