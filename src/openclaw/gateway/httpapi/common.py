"""What every OpenAI-compatible handler (and `/tools/invoke`) shares: bearer auth with the
gateway's rate limiter, JSON bodies within the body budget, errors in OpenAI's `{"error": {...}}`
shape, agent targets, session keys and the turn input built from a conversation."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from openclaw.gateway.auth import check_bearer, client_of
from openclaw.gateway.httpapi.body import (
    MAX_BODY_BYTES,
    WAIT_S,
    BodyTooLarge,
    is_json,
    parse_body,
    read_limited,
)
from openclaw.gateway.httpapi.state import HTTP_API
from openclaw.locality import is_local_request

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.gateway.state.context import GatewayContext

GatewayHandler = Callable[[web.Request, "GatewayContext"], Awaitable[web.StreamResponse]]

RESERVED_PREFIXES = ("subagent:", "cron:", "acp:")


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}

    def response(self) -> web.Response:
        return error_response(self.status, self.message, self.kind, self.headers)


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind}}, status=status, headers=headers)


def authorize(request: web.Request, gateway: GatewayContext) -> None:
    """Bearer token or password (unless auth mode is `none`). Failures count towards the lockout of
    the client (as a trusted proxy reports it); a direct local caller is exempt, as on the WebSocket."""
    outcome = check_bearer(request.headers.get("Authorization"), gateway.settings.auth, gateway.rate_limiter,
                           client_of(request, gateway.settings), is_local_request(request))
    if outcome.locked_ms:
        raise ApiError(429, "Too many failed authentication attempts. Please try again later.", "rate_limited",
                       {"Retry-After": str(max(1, outcome.locked_ms // 1000))})
    if not outcome.ok:
        raise ApiError(401, "Unauthorized", "unauthorized")


def allow_methods(request: web.Request, *methods: str) -> None:
    if request.method not in methods:
        raise web.HTTPMethodNotAllowed(request.method, list(methods))


async def json_body(request: web.Request, gateway: GatewayContext) -> dict[str, Any]:
    """The request's JSON object. Only `application/json` (415 otherwise: no form a page may post
    cross-site without asking first); read within the process-wide body budget."""
    if not is_json(request):
        raise ApiError(415, "Content-Type must be application/json", "unsupported_media_type")
    budget = request.app[HTTP_API]().bodies
    limit = min(MAX_BODY_BYTES, budget.limit)
    declared = request.content_length
    if declared is not None and declared > limit:
        raise ApiError(413, "Payload too large")
    size = limit if declared is None else declared  # chunked: the most it may grow to
    if not await budget.acquire(size, WAIT_S):
        raise ApiError(503, "the gateway is reading too many large request bodies at once; retry shortly",
                       "service_unavailable", {"Retry-After": "1"})
    try:
        value, problem = await parse_body(await read_limited(request, limit))
    except BodyTooLarge:
        raise ApiError(413, "Payload too large") from None
    finally:
        budget.release(size)
    if problem:
        raise ApiError(400, problem)
    if not isinstance(value, dict):
        raise ApiError(400, "request body must be a JSON object")
    return value


def header(request: web.Request, name: str) -> str:
    """A header's text, stripped; 400 when it is not Unicode (aiohttp keeps bad bytes as surrogates,
    which would fail later, deep in a session store)."""
    value = request.headers.get(name, "").strip()
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ApiError(400, f"header {name} is not valid UTF-8") from None
    return value


def reserved_session_key(key: str) -> bool:
    """`subagent:`, `cron:` and `acp:` keys (bare or under `agent:<id>:`) belong to the gateway."""
    bare = key.split(":", 2)[2] if key.startswith("agent:") and key.count(":") >= 2 else key
    return bare.lower().startswith(RESERVED_PREFIXES)


def refuse_tools(body: dict[str, Any]) -> None:
    """Both APIs let a caller define tools; the agent brings its own, so such a request is refused."""
    if body.get("tools"):
        raise ApiError(400, "caller-defined tools are not supported by this gateway; the agent uses its own tools")


def model_name(body: dict[str, Any]) -> str:
    """The `model` a reply echoes: the caller's, or `openclaw`."""
    return body["model"] if isinstance(body.get("model"), str) else "openclaw"


def runtime(gateway: GatewayContext) -> AgentRuntime:
    from openclaw.gateway.protocol import RpcError
    from openclaw.gateway.state.runstream import runtime_for

    try:
        return runtime_for(gateway)
    except RpcError as exc:
        raise ApiError(503, exc.message, "service_unavailable") from None


def agent_for(request: web.Request, agents: AgentRuntime, model: Any) -> str:
    """The agent a request targets: `openclaw`, `openclaw/default`, `openclaw/<id>`, `openclaw:<id>`,
    `agent:<id>`, or the `x-openclaw-agent-id` header."""
    from openclaw.models.types import ModelError

    wanted = header(request, "x-openclaw-agent-id") or None
    if wanted is None and isinstance(model, str) and model.strip():
        name = model.strip()
        for prefix in ("openclaw/", "openclaw:", "agent:"):
            if name.startswith(prefix):
                wanted = name[len(prefix):] or None
                break
        else:
            if name != "openclaw":
                raise ApiError(400, f"model {name!r} is not an agent target (use openclaw, openclaw/default or "
                                    "openclaw/<agentId>; GET /v1/models lists them)")
        wanted = None if wanted == "default" else wanted
    try:
        return agents.agent_id(wanted)
    except ModelError as exc:
        raise ApiError(400, str(exc)) from None


def session_for(request: web.Request, agents: AgentRuntime, agent: str, user: Any, prefix: str) -> str:
    from openclaw.gateway.state.runstream import session_key

    explicit = header(request, "x-openclaw-session-key")
    if explicit:
        if reserved_session_key(explicit):
            raise ApiError(400, f"session key {explicit!r} is in a reserved namespace (subagent:, cron:, acp:)")
        return session_key(agents, explicit, agent)
    if isinstance(user, str) and user.strip():
        return f"agent:{agent}:{prefix}-user:{user.strip()}"
    return f"agent:{agent}:{prefix}:{uuid.uuid4()}"


def text_of(content: Any) -> str:
    """OpenAI message content: a string, or parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
                       and p.get("type") in ("text", "input_text", "output_text", None))
    return ""


@dataclass
class Prompt:
    message: str
    system: str | None
    latest: str = ""  # the last user message's own text (a chat command when it is one)


def prompt_from(entries: list[tuple[str, str]]) -> Prompt:
    """(role, text) pairs -> the turn's message: system/developer text becomes the caller's
    instructions; the last user (or tool) entry is the message, earlier ones its context."""
    system = [text for role, text in entries if role in ("system", "developer") and text.strip()]
    talk = [(role, text.strip()) for role, text in entries if role in ("user", "assistant", "tool") and text.strip()]
    current = max((i for i, (role, _) in enumerate(talk) if role in ("user", "tool")), default=len(talk) - 1)
    if current < 0:
        raise ApiError(400, "messages must include a user message with text")
    names = {"user": "User", "assistant": "Assistant", "tool": "Tool"}
    history = [f"{names[role]}: {text}" for role, text in talk[:current]]
    role, text = talk[current]
    latest = text if role == "user" else ""
    if history or role == "tool":
        text = ("[Conversation so far]\n" + "\n".join(history) + "\n\n[Current message]\n"
                f"{names[role]}: {text}") if history else f"{names[role]}: {text}"
    return Prompt(text, "\n\n".join(system) or None, latest)


def handle_errors(handler: GatewayHandler) -> GatewayHandler:
    async def wrapped(request: web.Request, gateway: GatewayContext) -> web.StreamResponse:
        try:
            return await handler(request, gateway)
        except ApiError as exc:
            return exc.response()

    return wrapped
