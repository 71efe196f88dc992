"""Provider-neutral conversation parts and the result of one model call."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]  # parsed; {} when the model sent none


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: a name, what it does, a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Message:
    role: str  # user | assistant | tool
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for role=tool: which call this answers
    name: str | None = None  # for role=tool: the tool's name


@dataclass
class Usage:
    input: int = 0
    output: int = 0

    def add(self, other: Usage) -> None:
        self.input += other.input
        self.output += other.output

    def as_dict(self) -> dict[str, int]:
        return {"input": self.input, "output": self.output, "total": self.input + self.output}


@dataclass
class Completion:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    model: str = ""  # the ref that answered (after fallbacks)


@dataclass(frozen=True)
class Request:
    model: str  # the provider's model id
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 4096
    stream: bool = True


OnText = Callable[[str], Awaitable[None]]


class ModelError(Exception):
    """A failed call. `kind`: rate_limit | overloaded | server | timeout | network | auth | bad_request |
    context_overflow | protocol | config. `retryable` says whether the same call may succeed later."""

    RETRYABLE = frozenset({"rate_limit", "overloaded", "server", "timeout", "network"})

    def __init__(self, kind: str, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind, self.status, self.retry_after = kind, status, retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


# what providers answer when the conversation does not fit the model's context window: OpenAI's
# code, then the wording of OpenAI-compatible servers (vLLM, llama.cpp, Ollama) and Anthropic's
OVERFLOW_CODES = frozenset({"context_length_exceeded"})
OVERFLOW_WORDS = ("maximum context length", "context length exceeded", "context_length_exceeded",
                  "prompt is too long", "exceeds the context", "context window", "context size",
                  "too many tokens")


def provider_error(body: str) -> tuple[str, str]:
    """(message, code) of an OpenAI- or Anthropic-shaped error body; else (the body, "")."""
    try:
        data = json.loads(body)
    except ValueError:
        return body, ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or body), str(error.get("code") or "")
    return (error, "") if isinstance(error, str) else (body, "")


def error_for_status(status: int, body: str, retry_after: str | None) -> ModelError:
    """What an HTTP error status means for retrying (and whether the conversation was too long)."""
    wait: float | None = None
    if retry_after:
        try:
            wait = max(0.0, float(retry_after))
        except ValueError:
            wait = None
    message, code = provider_error(body)
    detail = message.strip().replace("\n", " ")[:300]
    if status in (400, 413, 422) and (code in OVERFLOW_CODES or any(w in message.lower() for w in OVERFLOW_WORDS)):
        return ModelError("context_overflow", f"the conversation is too long for the model ({status}): {detail}",
                          status)
    if status == 429:
        return ModelError("rate_limit", f"rate limited (429): {detail}", status, wait)
    if status in (503, 529):
        return ModelError("overloaded", f"overloaded ({status}): {detail}", status, wait)
    if status >= 500:
        return ModelError("server", f"server error ({status}): {detail}", status, wait)
    if status in (401, 403):
        return ModelError("auth", f"the API key was refused ({status}): {detail}", status)
    return ModelError("bad_request", f"request refused ({status}): {detail}", status)
