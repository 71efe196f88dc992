"""The params of every RPC method: one closed `TypedDict` per shape, as upstream's schemas have them.

Handlers name their model (`@method(..., params="AgentParams")`); this module is imported with the
first call of any method, not at start, and each model's validator is built with its first call
(gateway/params.py): some 40 classes cost a gateway start nothing until they are used.
Keys a model types as `Any` are upstream's that are accepted and not acted on, unless noted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required

from annotated_types import Ge, Le
from typing_extensions import TypedDict

from openclaw.gateway.params import NonEmpty, NonNegative, Object, Positive, Strings, closed
from openclaw.logtail import MAX_BYTES, MAX_LIMIT

MAX_HISTORY = 1000  # chat.history's largest page


@closed
class NoParams(TypedDict):
    """A method that takes nothing (`{}` or no params at all)."""


# -- methods/health.py -----------------------------------------------------------------------------
@closed
class HealthParams(TypedDict, total=False):
    probe: bool


# -- methods/status.py -----------------------------------------------------------------------------
@closed
class StatusParams(TypedDict, total=False):
    includeChannelSummary: bool
    includeCliProjection: bool


# -- methods/logs.py -------------------------------------------------------------------------------
@closed
class LogsTailParams(TypedDict, total=False):
    cursor: NonNegative
    limit: Annotated[int, Ge(1), Le(MAX_LIMIT)]
    maxBytes: Annotated[int, Ge(1), Le(MAX_BYTES)]


# -- methods/diagnostics.py ------------------------------------------------------------------------
@closed
class StabilityParams(TypedDict, total=False):
    limit: Any  # checked by the handler, which accepts numeric strings too
    type: Any
    sinceSeq: Any


@closed
class UsageCostParams(TypedDict, total=False):
    days: Annotated[int, Ge(1), Le(3650)]
    agentId: str
    agentScope: str
    startDate: Any
    endDate: Any
    mode: Any
    utcOffset: Any


# -- methods/agents.py -----------------------------------------------------------------------------
@closed
class AgentParams(TypedDict, total=False):
    message: Required[NonEmpty]
    idempotencyKey: Required[NonEmpty]
    agentId: str
    model: str
    sessionId: str
    sessionKey: str
    timeout: NonNegative
    # the rest of upstream's AgentParams: accepted, not acted on
    to: Any
    replyTo: Any
    provider: Any
    thinking: Any
    deliver: Any
    attachments: Any
    channel: Any
    replyChannel: Any
    accountId: Any
    replyAccountId: Any
    threadId: Any
    groupId: Any
    groupChannel: Any
    groupSpace: Any
    bestEffortDeliver: Any
    lane: Any
    cwd: Any
    promptMode: Any
    extraSystemPrompt: Any
    bootstrapContextMode: Any
    bootstrapContextRunKind: Any
    expectedExistingSessionId: Any
    inputProvenance: Any
    sessionEffects: Any
    label: Any
    modelRun: Any
    suppressPromptPersistence: Any
    sourceReplyDeliveryMode: Any
    disableMessageTool: Any
    voiceWakeTrigger: Any


@closed
class AgentWaitParams(TypedDict, total=False):
    runId: Required[NonEmpty]
    timeoutMs: NonNegative


@closed
class AgentIdentityGetParams(TypedDict, total=False):
    agentId: str
    sessionKey: str


@closed
class ModelsListParams(TypedDict, total=False):
    agentId: str
    sessionKey: str
    authProfileId: str
    provider: str
    includeDetails: bool
    includeProviderCapabilities: bool
    includeDefaultModels: bool
    preparedOnly: bool
    refresh: bool
    view: str


# -- methods/chat.py -------------------------------------------------------------------------------
@closed
class ChatSendParams(TypedDict, total=False):
    sessionKey: Required[NonEmpty]
    message: Required[str]
    idempotencyKey: Required[NonEmpty]
    agentId: str
    # upstream's keys that are accepted and not acted on
    mentions: Any
    workContext: Any
    intent: Any
    thinking: Any
    fastMode: Any
    fastAutoOnSeconds: Any
    queueMode: Any
    deliver: Any
    originatingChannel: Any
    originatingTo: Any
    originatingAccountId: Any
    originatingThreadId: Any
    replyToId: Any
    attachments: Any
    toolBindings: Any
    timeoutMs: Any
    systemInputProvenance: Any
    systemProvenanceReceipt: Any
    suppressCommandInterpretation: Any
    expectedLeafEntryId: Any
    expectedSessionRoutingContract: Any
    expectedPermissionMode: Any
    expectedToolOverrides: Any
    sessionId: Any


@closed
class ChatHistoryParams(TypedDict, total=False):
    sessionKey: Required[NonEmpty]
    agentId: str
    limit: Annotated[int, Ge(1), Le(MAX_HISTORY)]
    # upstream's keys that are accepted and not acted on
    cursor: Any
    maxBytes: Any
    offset: Any
    pendingBefore: Any
    inputRunIds: Any
    messageId: Any
    sessionId: Any
    maxChars: Any


@closed
class ChatAbortParams(TypedDict, total=False):
    sessionKey: Required[NonEmpty]
    agentId: str
    runId: str
    preserveSideRuns: bool


# -- methods/sessions.py ---------------------------------------------------------------------------
@closed
class SessionsListParams(TypedDict, total=False):
    limit: Positive
    agentId: str
    # upstream's keys that are accepted and not acted on
    offset: Any
    activeMinutes: Any
    activeOnly: Any
    requireLastInteraction: Any
    sortBy: Any
    includeGlobal: Any
    includeUnknown: Any
    excludeSubagents: Any
    excludeCron: Any
    excludeSystem: Any
    configuredAgentsOnly: Any
    includeDerivedTitles: Any
    includeLastMessage: Any
    includeActivitySummary: Any
    label: Any
    projectId: Any
    workspaceDir: Any
    group: Any
    pinned: Any
    boardFace: Any
    hasBoard: Any
    creatorId: Any
    ownerId: Any
    ownerFirst: Any
    involvingMe: Any
    profileRelation: Any
    involvingProfileId: Any
    includePeople: Any
    spawnedBy: Any
    search: Any
    archived: Any


@closed
class SessionsPreviewParams(TypedDict, total=False):
    keys: Required[Strings]
    limit: Positive
    maxChars: Annotated[int, Ge(20)]


@closed
class SessionsResetParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    reason: str
    expectedSessionId: str


@closed
class SessionsDeleteParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    deleteTranscript: bool
    # upstream's keys that are accepted and not acted on
    expectedSessionId: Any
    expectedLifecycleRevision: Any
    expectedSessionUpdatedAt: Any
    emitLifecycleHooks: Any
    archivedOnly: Any


@closed
class SessionsCompactParams(TypedDict, total=False):
    key: Required[NonEmpty]
    agentId: str
    maxLines: Positive


# -- methods/channels.py ---------------------------------------------------------------------------
@closed
class ChannelsStatusParams(TypedDict, total=False):
    probe: bool
    timeoutMs: Positive


@closed
class ChannelTarget(TypedDict, total=False):
    channel: Required[NonEmpty]
    accountId: str


# -- methods/pairing.py ----------------------------------------------------------------------------
@closed
class ChannelsPairingListParams(TypedDict, total=False):
    channel: NonEmpty
    accountId: NonEmpty


@closed
class PairingTarget(TypedDict):
    channel: NonEmpty
    accountId: NonEmpty
    requestId: NonEmpty


@closed
class ChannelsPairingApproveParams(PairingTarget, total=False):
    notify: bool
    bootstrapCommandOwner: bool


# -- methods/devices.py ----------------------------------------------------------------------------
@closed
class DeviceRequestParams(TypedDict):
    requestId: NonEmpty


@closed
class DeviceRemoveParams(TypedDict):
    deviceId: NonEmpty


# -- methods/instances.py --------------------------------------------------------------------------
@closed
class InstancesRunParams(TypedDict):
    profile: NonEmpty
    action: NonEmpty


# -- methods/cron.py -------------------------------------------------------------------------------
@closed
class CronListParams(TypedDict, total=False):
    includeDisabled: bool
    limit: Positive
    offset: NonNegative
    agentId: str
    # upstream's keys that are accepted and not acted on
    query: Any
    enabled: Any
    scheduleKind: Any
    compact: Any
    lastRunStatus: Any
    trigger: Any
    sortBy: Any
    sortDir: Any
    sessionKey: Any
    sessionAgentId: Any
    includeDeliveryPreviews: Any


@closed
class CronAddParams(TypedDict, total=False):
    name: Required[NonEmpty]
    schedule: Required[Object]
    payload: Required[Object]
    # the job's other fields (EDITABLE in methods/cron.py): checked with the job
    description: Any
    enabled: Any
    delivery: Any
    agentId: Any
    timeoutSeconds: Any
    deleteAfterRun: Any
    sessionTarget: Any
    wakeMode: Any
    displayName: Any


@closed
class CronUpdateParams(TypedDict, total=False):
    id: str
    jobId: str
    patch: Required[Object]


@closed
class CronRemoveParams(TypedDict, total=False):
    id: str
    jobId: str


@closed
class CronRunParams(TypedDict, total=False):
    id: str
    jobId: str
    mode: str


@closed
class CronRunsParams(TypedDict, total=False):
    id: str
    jobId: str
    limit: Annotated[int, Ge(1), Le(1000)]
    offset: NonNegative
    sortDir: Literal["asc", "desc"]
    agentId: str
    status: str
    statuses: list[str]
    deliveryStatus: str
    deliveryStatuses: list[str]
    query: str
    runId: str
    # upstream's keys that are accepted and not acted on
    scope: Any


# -- methods/config_methods.py ---------------------------------------------------------------------
@closed
class ConfigSetParams(TypedDict, total=False):
    raw: Required[NonEmpty]
    baseHash: NonEmpty


@closed
class ConfigPatchParams(ConfigSetParams, total=False):
    sessionKey: str
    deliveryContext: Object
    note: str
    restartDelayMs: NonNegative
    replacePaths: Strings


@closed
class ConfigRollbackParams(TypedDict, total=False):
    baseHash: NonEmpty


@closed
class ConfigApplyParams(ConfigSetParams, total=False):
    sessionKey: str
    deliveryContext: Object
    note: str
    restartDelayMs: Annotated[int, Ge(0), Le(600_000)]


# -- methods/browser.py ----------------------------------------------------------------------------
@closed
class BrowserRequestParams(TypedDict, total=False):
    method: Required[NonEmpty]
    path: Required[NonEmpty]
    query: Object
    body: Object
    timeoutMs: Annotated[int, Ge(1), Le(600_000)]
