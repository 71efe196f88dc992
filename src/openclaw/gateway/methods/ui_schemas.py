"""The params of the methods upstream's Control UI calls on every page (session views, chat startup,
usage, operator views, session lifecycle): closed `TypedDict`s as in methods/schemas.py, loaded with
their first call. Keys typed `Any` are upstream's, accepted and not acted on."""

from __future__ import annotations

from typing import Annotated, Any, Required

from annotated_types import Ge, Le
from typing_extensions import TypedDict

from openclaw.gateway.methods.schemas import MAX_HISTORY
from openclaw.gateway.params import NonEmpty, Strings, closed


# -- methods/session_views.py ----------------------------------------------------------------------
@closed
class SessionsDescribeParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    # upstream's keys that are accepted and not acted on
    includeDerivedTitles: Any
    includeLastMessage: Any


@closed
class SessionsMessagesSubscribeParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    includeApprovals: bool


@closed
class SessionsObserverVisibilityParams(TypedDict):
    visible: bool


@closed
class SessionsViewersSetParams(TypedDict):
    sessionKeys: Strings


# -- methods/chat_startup.py -----------------------------------------------------------------------
@closed
class ChatStartupParams(TypedDict, total=False):
    sessionKey: Required[NonEmpty]
    agentId: str
    limit: Annotated[int, Ge(1), Le(MAX_HISTORY)]
    # upstream's keys that are accepted and not acted on
    maxBytes: Any
    inputRunIds: Any
    sessionId: Any


@closed
class ChatMetadataParams(TypedDict, total=False):
    agentId: str
    sessionKey: str


@closed
class SessionKeyParams(TypedDict, total=False):
    sessionKey: Required[NonEmpty]
    agentId: str


# -- methods/usage.py ------------------------------------------------------------------------------
@closed
class SessionsUsageParams(TypedDict, total=False):
    startDate: str  # YYYY-MM-DD
    endDate: str
    agentId: str
    agentScope: str
    key: str
    limit: Annotated[int, Ge(1), Le(5000)]
    utcOffset: str  # UTC, UTC+2, UTC-5:30
    # upstream's keys that are accepted and not acted on
    mode: Any
    timeZone: Any
    groupBy: Any
    includeContextWeight: Any
    creatorKey: Any


# -- methods/operator_views.py ---------------------------------------------------------------------
@closed
class AgentScopedParams(TypedDict, total=False):
    agentId: str


@closed
class QuestionListParams(TypedDict, total=False):
    sessionKey: str
    agentId: str
    status: Any


@closed
class UsersPrefsGetParams(TypedDict, total=False):
    keys: Strings


# -- methods/session_lifecycle.py ------------------------------------------------------------------
@closed
class SessionsCreateParams(TypedDict, total=False):
    key: NonEmpty
    agentId: str
    message: str
    idempotencyKey: NonEmpty
    # upstream's keys that are accepted and not acted on
    label: Any
    model: Any
    parentSessionKey: Any
    visibility: Any
    projectId: Any
    workspaceDir: Any
    thinking: Any
    attachments: Any


@closed
class SessionsPatchParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    model: str | None
    # upstream's keys that are accepted and not acted on
    unread: Any
    expectedMarkedUnreadAt: Any
    label: Any
    thinkingLevel: Any
    pinned: Any
    archived: Any
