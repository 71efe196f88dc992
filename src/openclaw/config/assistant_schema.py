"""The assistant's reach in `openclaw.json`: `memory` (and upstream's legacy `memorySearch`),
`hooks`, `mcp` and `skills`, typed as far as we read them; upstream's other keys pass through."""

# ruff: noqa: RUF012  (pydantic copies a field's mutable default for each instance)
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from openclaw.config.sections import OpenSection, SecretRef, Section


class MemorySearchRemote(OpenSection):
    base_url: str | None = None
    api_key: str | SecretRef | None = None
    headers: dict[str, str] | None = None


class MemorySearchQuery(OpenSection):
    max_results: Annotated[int, Field(ge=1)] | None = None
    min_score: Annotated[float, Field(ge=0, le=1)] | None = None


class MemoryExtraPath(Section):
    path: str
    pattern: str | None = None


class MemorySearch(OpenSection):
    """The keys of upstream's `memory.search` that memory reads (memory/settings.py)."""

    enabled: bool | None = None
    provider: str | None = None
    model: str | None = None
    remote: MemorySearchRemote | None = None
    query: MemorySearchQuery | None = None
    extra_paths: list[str | MemoryExtraPath] | None = None


class Memory(OpenSection):
    search: MemorySearch | None = None
    citations: Literal["auto", "on", "off"] | None = None


class HookEntry(OpenSection):
    enabled: bool | None = None
    messages: Annotated[int, Field(ge=1)] | None = None  # session-memory: messages kept in the note


class HooksInternal(OpenSection):
    enabled: bool | None = None
    entries: dict[str, HookEntry] | None = None


class Hooks(OpenSection):
    """Upstream's hooks; ours runs the bundled `session-memory` (memory/sessionnote.py)."""

    internal: HooksInternal | None = None


MAX_MCP_SERVERS = 256  # servers one gateway manages at most (upstream's bound)
McpScalar = str | int | float | bool
PositiveMs = Annotated[int | float, Field(gt=0, le=2_147_483_647)]


class McpToolFilter(Section):
    include: list[str] | None = None
    exclude: list[str] | None = None


class McpServer(OpenSection):
    """`mcp.servers.<name>`: a stdio server (`command`) or an HTTP one (`url`), in upstream's spelling."""

    command: str | None = None
    args: list[str] | None = None
    env: dict[str, McpScalar] | None = None
    cwd: str | None = None
    working_directory: str | None = None
    url: str | None = None
    transport: str | None = None
    type: str | None = None
    headers: dict[str, McpScalar] | None = None
    enabled: bool | None = None
    connection_timeout_ms: PositiveMs | None = None
    request_timeout_ms: PositiveMs | None = None
    tool_filter: McpToolFilter | None = None
    supports_parallel_tool_calls: bool | None = None

    @model_validator(mode="after")
    def _launchable(self) -> McpServer:
        from urllib.parse import urlsplit

        if self.command is not None and not self.command.strip():
            raise ValueError("command is empty: name the program that runs the server")
        if self.command is None and not (self.url or "").strip():
            raise ValueError("needs a command (a stdio server) or a url (an HTTP server)")
        if self.url is not None and self.command is None and urlsplit(self.url.strip()).scheme not in ("http", "https"):
            raise ValueError(f"url {self.url!r} is not an http:// or https:// URL")
        kind = (self.transport or "").lower() or (self.type or "").lower()
        if kind and kind not in ("sse", "streamable-http", "http", "stdio"):
            raise ValueError(f"transport {kind!r} is not one of sse, streamable-http (type: http) or stdio")
        return self


class Mcp(OpenSection):
    servers: dict[str, McpServer] = {}
    session_idle_ttl_ms: Annotated[int | float, Field(ge=0)] | None = None

    @field_validator("servers")
    @classmethod
    def _bounded(cls, value: dict[str, McpServer]) -> dict[str, McpServer]:
        if len(value) > MAX_MCP_SERVERS:
            raise ValueError(f"{len(value)} servers; a gateway manages at most {MAX_MCP_SERVERS}")
        if any(not name.strip() for name in value):
            raise ValueError("a server name is empty")
        return value


class SkillsLoad(OpenSection):
    extra_dirs: list[str] = []
    allow_symlink_targets: list[str] = []
    watch: bool | None = None


class SkillsLimits(OpenSection):
    max_candidates_per_root: Annotated[int, Field(ge=1, le=2000)] | None = None
    max_skills_loaded_per_source: Annotated[int, Field(ge=0, le=1000)] | None = None
    max_skill_file_bytes: Annotated[int, Field(ge=1024, le=2_000_000)] | None = None
    max_skills_in_prompt: Annotated[int, Field(ge=0, le=1000)] | None = None
    max_skills_prompt_chars: Annotated[int, Field(ge=0, le=200_000)] | None = None


class SkillEntry(OpenSection):
    enabled: bool | None = None
    env: dict[str, str] = {}
    api_key: str | SecretRef | None = None
    config: dict[str, object] = {}


class Skills(OpenSection):
    """Upstream's `skills` section; `install` and `workshop` pass through."""

    load: SkillsLoad = SkillsLoad()
    limits: SkillsLimits = SkillsLimits()
    allow_bundled: list[str] | None = None
    entries: dict[str, SkillEntry] = {}
