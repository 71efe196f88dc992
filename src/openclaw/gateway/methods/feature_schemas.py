"""The params of the feature families' methods (system events, approvals, nodes, plugins, skills,
workspace files ...), closed `TypedDict`s as in methods/schemas.py, loaded with their first call.

Keys typed `Any` are upstream's, accepted and not acted on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required

from annotated_types import Ge, Le, MaxLen
from typing_extensions import TypedDict

from openclaw.gateway.params import NonEmpty, NonNegative, Object, closed


# -- methods/system.py -----------------------------------------------------------------------------
@closed
class SystemEventParams(TypedDict, total=False):
    text: Required[str]
    sessionKey: str
    wake: bool
    deviceId: Any
    instanceId: Any
    host: Any
    ip: Any
    mode: Any
    version: Any
    platform: Any
    deviceFamily: Any
    modelIdentifier: Any
    lastInputSeconds: Any
    reason: Any
    roles: Any
    scopes: Any
    tags: Any


@closed
class WakeParams(TypedDict, total=False):
    mode: Required[Literal["now", "next-heartbeat"]]
    text: Required[str]
    sessionKey: str
    agentId: str


@closed
class SetHeartbeatsParams(TypedDict):
    enabled: bool


# -- methods/approvals.py --------------------------------------------------------------------------
@closed
class ExecApprovalsSetParams(TypedDict, total=False):
    file: Required[Object]
    baseHash: str


@closed
class ApprovalIdParams(TypedDict):
    id: NonEmpty


@closed
class ApprovalResolveParams(TypedDict, total=False):
    id: Required[NonEmpty]
    decision: Required[str]
    grantExpiresInDays: Any
    reviewer: Any


@closed
class ApprovalWaitParams(TypedDict, total=False):
    id: Required[NonEmpty]
    timeoutMs: NonNegative


@closed
class LimitParams(TypedDict, total=False):
    limit: Annotated[int, Ge(1), Le(1000)]


# -- methods/workspace_files.py --------------------------------------------------------------------
@closed
class AgentFilesListParams(TypedDict):
    agentId: NonEmpty


@closed
class AgentFileParams(TypedDict):
    agentId: NonEmpty
    name: NonEmpty


@closed
class AgentFileSetParams(TypedDict):
    agentId: NonEmpty
    name: NonEmpty
    content: str


@closed
class AgentWorkspaceListParams(TypedDict, total=False):
    agentId: Required[NonEmpty]
    path: str
    offset: NonNegative
    limit: Annotated[int, Ge(1), Le(500)]
    cursor: Any
    includeHidden: Any


@closed
class AgentWorkspaceGetParams(TypedDict, total=False):
    agentId: Required[NonEmpty]
    path: Required[NonEmpty]
    encoding: Any
    maxBytes: Any


# -- methods/host.py -------------------------------------------------------------------------------
@closed
class MemorySearchParams(TypedDict, total=False):
    query: Required[NonEmpty]
    agentId: str
    sessionKey: Any
    limit: Any
    maxResults: Any
    minScore: Any


# -- methods/cron.py (cron.get) --------------------------------------------------------------------
@closed
class CronGetParams(TypedDict, total=False):
    id: str
    jobId: str


# -- methods/config_lookup.py ----------------------------------------------------------------------
@closed
class ConfigSchemaLookupParams(TypedDict):
    path: NonEmpty


@closed
class RestartRequestParams(TypedDict, total=False):
    reason: str
    skipDeferral: bool
    targetBootId: Any
    targetInstanceId: Any


@closed
class FsListDirParams(TypedDict, total=False):
    path: str
    nodeId: str


@closed
class ApprovalRequestParams(TypedDict, total=False):
    command: Required[NonEmpty]
    id: Any
    cwd: str
    host: str
    nodeId: str
    agentId: str
    sessionKey: str
    security: str
    ask: str
    resolvedPath: str
    timeoutMs: Annotated[int, Ge(1), Le(600_000)]
    commandArgv: Any
    env: Any
    twoPhase: Any
    systemRunPlan: Any
    turnSourceChannel: Any
    turnSourceTo: Any
    turnSourceAccountId: Any
    turnSourceThreadId: Any
    toolCallId: Any
    runId: Any
    sessionId: Any
    warningText: Any
    scope: Any
    commandSpans: Any
    unavailableDecisions: Any


# -- methods/agent_admin.py ------------------------------------------------------------------------
@closed
class AgentsCreateParams(TypedDict, total=False):
    name: Required[NonEmpty]
    workspace: NonEmpty
    model: NonEmpty
    emoji: Any
    avatar: Any


@closed
class AgentsUpdateParams(TypedDict, total=False):
    agentId: Required[NonEmpty]
    name: NonEmpty
    workspace: NonEmpty
    model: NonEmpty | None
    emoji: Any
    avatar: Any
    agentRuntime: Any


@closed
class AgentsDeleteParams(TypedDict, total=False):
    agentId: Required[NonEmpty]
    deleteFiles: Any


# -- methods/tool_calls.py -------------------------------------------------------------------------
@closed
class ToolsInvokeParams(TypedDict, total=False):
    name: Required[NonEmpty]
    args: Object
    agentId: NonEmpty
    sessionKey: str
    confirm: Any
    idempotencyKey: Any
    conversationReadOrigin: Any
    toolCallId: Any


# -- methods/channel_send.py -----------------------------------------------------------------------
@closed
class SendParams(TypedDict, total=False):
    to: Required[NonEmpty]
    idempotencyKey: Required[NonEmpty]
    message: str
    channel: str
    accountId: str
    agentId: Any
    sessionKey: Any
    threadId: Any
    replyToId: Any
    silent: Any
    parseMode: Any
    mediaUrl: Any
    mediaUrls: Any
    buffer: Any
    filename: Any
    contentType: Any
    asVoice: Any
    gifPlayback: Any
    forceDocument: Any


# -- methods/talk.py -------------------------------------------------------------------------------
@closed
class VoicewakeSetParams(TypedDict):
    triggers: Annotated[list[Annotated[str, MaxLen(64)]], MaxLen(32)]


@closed
class EnvironmentStatusParams(TypedDict):
    environmentId: NonEmpty


# -- methods/skills.py -----------------------------------------------------------------------------
@closed
class SkillsUpdateParams(TypedDict, total=False):
    """Upstream's two shapes in one: a `skills.entries` change (`skillKey`, ...) or a catalog update
    (`source: clawhub`, refused here)."""

    skillKey: NonEmpty
    enabled: bool
    apiKey: Annotated[str, MaxLen(16384)]
    env: dict[NonEmpty, Annotated[str, MaxLen(32768)]]
    agentId: NonEmpty
    source: str
    slug: str
    all: bool
    force: bool


# -- the feature families' reads and empty answers -------------------------------------------------
@closed
class FeatureParams(TypedDict, total=False):
    """What upstream's clients send to the methods that act on nothing here (or only on `agentId`):
    the keys of their filters and paging, accepted and not acted on."""

    agentId: str
    sessionKey: Any
    sessionId: Any
    limit: Any
    offset: Any
    cursor: Any
    query: Any
    status: Any
    kind: Any
    scope: Any
    includeDisabled: Any
    probe: Any
    view: Any
    refresh: Any
    channel: Any
    profileId: Any
    runId: Any
    taskId: Any
    nodeId: Any
    since: Any
    sortBy: Any
    sortDir: Any
    category: Any
    source: Any
    id: Any
    name: Any
    days: Any
    dryRun: Any
    force: Any
    reason: Any
    mode: Any
    enabled: Any
    key: Any
    value: Any
    prefs: Any
