"""The `openclaw.json` schema: strict inside the sections we own, other sections kept as-is.

Field names are snake_case in Python and camelCase in the file (upstream's
spelling). Only validation uses these models; writes always go through the
raw JSON so unknown sections and key order survive.
"""

# ruff: noqa: RUF012  (pydantic copies a field's mutable default for each instance)
from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from openclaw.config.assistant_schema import Hooks, Mcp, Memory, Skills
from openclaw.config.discord_schema import Discord
from openclaw.config.heartbeat_schema import DefaultHeartbeat, Heartbeat
from openclaw.config.sections import OpenSection, SecretRef, Section
from openclaw.config.slack_schema import Slack

Port = Annotated[int, Field(ge=1, le=65535)]
LogLevel = Literal["silent", "fatal", "error", "warn", "info", "debug", "trace"]


class GatewayAuth(Section):
    mode: Literal["none", "token", "password"] | None = None
    token: str | None = None
    password: str | None = None


class GatewayReload(Section):
    # "hot"/"restart" are retired upstream spellings; both behave as "hybrid".
    mode: Literal["off", "hybrid", "hot", "restart"] = "hybrid"


class ControlUi(Section):
    enabled: bool = True
    base_path: str | None = None
    allowed_origins: list[str] = []
    root: str | None = None  # a Control UI build to serve instead of ours (upstream's dist/control-ui, say)

    @field_validator("base_path")
    @classmethod
    def _base_path(cls, value: str | None) -> str | None:
        import re

        text = (value or "").strip("/")
        if (text and not re.fullmatch(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", text)) or ".." in text.split("/"):
            raise ValueError("must be a URL path such as /openclaw (letters, digits, . _ ~ - and /)")
        if text.split("/")[0] in ("v1", "tools", "__openclaw__", "health", "healthz", "ready", "readyz",
                                  "startup", "startupz", "assets"):
            raise ValueError(f"/{text.split('/')[0]} is taken by the gateway's own endpoints")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        from openclaw.locality import parse_origin

        for origin in value:
            if parse_origin(origin) is None:
                raise ValueError(f"{origin!r} is not an origin such as https://host.example:8443")
        return value


class Toggle(Section):
    enabled: bool = False


class HttpEndpoints(Section):
    chat_completions: Toggle = Toggle()
    responses: Toggle = Toggle()


class GatewayHttp(Section):
    endpoints: HttpEndpoints = HttpEndpoints()


class GatewayTools(Section):
    """Which agent tools `/tools/invoke` may call on top of (allow) or besides (deny) its defaults."""

    allow: list[str] = []
    deny: list[str] = []


class GatewayRemote(Section):
    url: str | None = None
    token: str | None = None
    password: str | None = None


class GatewayTailscale(Section):
    mode: Literal["off", "serve", "funnel"] = "off"
    reset_on_exit: bool = False


class Gateway(Section):
    mode: Literal["local", "remote"] | None = None
    port: Port | None = None
    bind: Literal["loopback", "lan", "tailnet", "auto", "custom"] | None = None
    custom_bind_host: str | None = None
    auth: GatewayAuth = GatewayAuth()
    reload: GatewayReload = GatewayReload()
    control_ui: ControlUi = ControlUi()
    http: GatewayHttp = GatewayHttp()
    tools: GatewayTools = GatewayTools()
    remote: GatewayRemote | None = None
    tailscale: GatewayTailscale | None = None
    trusted_proxies: list[str] = []  # proxies whose X-Forwarded-For names the client (auth rate limits)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        from openclaw.locality import parse_proxy_entry

        for entry in value:
            if not parse_proxy_entry(entry):
                raise ValueError(f"{entry!r} is not an address or CIDR block such as 10.0.0.0/8")
        return value

    @field_validator("custom_bind_host")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                raise ValueError("must be an IPv4 address such as 192.168.1.10") from None
        return value


class ModelSelection(Section):
    primary: str
    fallbacks: list[str] = []


ModelRef = str | ModelSelection


class ModelAlias(OpenSection):
    alias: str | None = None
    params: dict[str, object] | None = None


class ToolPolicy(OpenSection):
    allow: list[str] | None = None
    deny: list[str] | None = None


class BubblewrapSandbox(Section):
    network: Literal["on", "off"] | None = None
    binds: list[str] | None = None

    @field_validator("binds")
    @classmethod
    def _binds(cls, value: list[str] | None) -> list[str] | None:
        from openclaw.config.binds import parse_bind

        for spec in value or []:
            parse_bind(spec)
        return value


class Sandbox(OpenSection):
    """Upstream's `sandbox` section (its other keys pass through) plus our `fence` and `bubblewrap`."""

    fence: bool | None = None
    mode: Literal["off", "non-main", "all"] | None = None
    scope: Literal["agent", "session", "shared"] | None = None
    backend: Literal["bubblewrap", "docker", "podman", "ssh", "openshell"] | None = None
    workspace_access: Literal["none", "ro", "rw"] | None = None
    workspace_root: str | None = None
    bubblewrap: BubblewrapSandbox | None = None


class AgentDefaults(Section):
    workspace: str | None = None
    skills: list[str] | None = None  # the skills every agent may use (None: all)
    model: ModelRef | None = None
    models: dict[str, ModelAlias] = {}
    max_concurrent: Annotated[int, Field(ge=1, le=1024)] | None = None
    timeout_seconds: Annotated[int, Field(ge=0)] | None = None
    bootstrap_max_chars: Annotated[int, Field(ge=0)] | None = None
    bootstrap_total_max_chars: Annotated[int, Field(ge=0)] | None = None
    sandbox: Sandbox | None = None
    heartbeat: DefaultHeartbeat | None = None
    memory_search: dict[str, Any] | None = None  # upstream's legacy place of `memory.search`, still read


class AgentEntry(Section):
    name: str | None = None
    workspace: str | None = None
    skills: list[str] | None = None  # replaces agents.defaults.skills for this agent
    model: ModelRef | None = None
    default: bool = False
    tools: ToolPolicy | None = None
    sandbox: Sandbox | None = None
    heartbeat: Heartbeat | None = None


class AgentListItem(AgentEntry):
    id: str


class Agents(Section):
    defaults: AgentDefaults = AgentDefaults()
    entries: dict[str, AgentEntry] = {}
    legacy_list: list[AgentListItem] | None = Field(default=None, alias="list")


class BrowserProfile(Section):
    cdp_port: Port | None = None
    cdp_url: str | None = None
    color: str | None = None


class Browser(Section):
    enabled: bool = True
    control_port: Port | None = None
    cdp_url: str | None = None
    cdp_port_range_start: Annotated[int, Field(ge=1, le=65436)] | None = None
    headless: bool | None = None
    executable_path: str | None = None
    no_sandbox: bool = False
    default_profile: str | None = None
    profiles: dict[str, BrowserProfile] = {}


class CanvasHost(Section):
    enabled: bool = True
    port: Port | None = None
    root: str | None = None
    live_reload: bool = True


DmPolicy = Literal["pairing", "allowlist", "open", "disabled"]
SenderId = str | int


class TelegramGroup(Section):
    enabled: bool = True
    require_mention: bool = True


class TelegramAccount(Section):
    enabled: bool = True
    name: str | None = None
    bot_token: str | None = None
    token_file: str | None = None
    api_root: str | None = None
    dm_policy: DmPolicy | None = None
    allow_from: list[SenderId] | None = None
    groups: dict[str, TelegramGroup] | None = None


class Telegram(Section):
    enabled: bool = True
    bot_token: str | None = None
    token_file: str | None = None
    api_root: str | None = None
    dm_policy: DmPolicy = "pairing"
    allow_from: list[SenderId] = []
    groups: dict[str, TelegramGroup] = {}
    accounts: dict[str, TelegramAccount] = {}

    @model_validator(mode="after")
    def _policies(self) -> Telegram:
        for where, policy, allow in [("", self.dm_policy, self.allow_from)] + [
            (f"accounts.{k}.", a.dm_policy, a.allow_from if a.allow_from is not None else self.allow_from)
            for k, a in self.accounts.items() if a.dm_policy
        ]:
            if policy == "allowlist" and not allow:
                raise ValueError(f"{where}dmPolicy allowlist needs at least one allowFrom entry")
            if policy == "open" and "*" not in [str(x) for x in allow]:
                raise ValueError(f'{where}dmPolicy open needs "*" in allowFrom')
        return self


class ProviderModel(OpenSection):
    id: str
    name: str | None = None
    context_window: Annotated[int, Field(ge=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None


class ModelProvider(OpenSection):
    base_url: str | None = None
    api_key: str | SecretRef | None = None
    api: str | None = None
    headers: dict[str, str] = {}
    timeout_seconds: Annotated[float, Field(gt=0)] | None = None
    models: list[ProviderModel] = []


class Models(OpenSection):
    mode: Literal["merge", "replace"] = "merge"
    providers: dict[str, ModelProvider] = {}


class SessionMaintenance(OpenSection):
    mode: Literal["enforce", "warn"] | None = None
    prune_after: str | None = None  # a duration: 30d, 12h, 90m
    max_entries: Annotated[int, Field(ge=1)] | None = None


class SessionSettings(OpenSection):
    dm_scope: Literal["main", "per-peer", "per-channel-peer", "per-account-channel-peer"] = "main"
    group_scope: Literal["per-group", "main"] = "per-group"
    main_key: str = "main"
    maintenance: SessionMaintenance | None = None


class WebFetch(OpenSection):
    allow_private_network: bool = False


class Tools(OpenSection):
    allow: list[str] | None = None
    deny: list[str] | None = None
    web_fetch: WebFetch | None = None


class Channels(Section):
    telegram: Telegram | None = None
    slack: Slack | None = None
    discord: Discord | None = None


class Logging(Section):
    level: LogLevel | None = None
    console_level: LogLevel | None = None
    max_file_bytes: Annotated[int, Field(ge=1024)] | None = None


class Env(Section):
    vars: dict[str, str] = {}


class Rescue(Section):
    targets: list[str] | None = None


class OpenClawConfig(BaseModel):
    """The whole file. Unknown top-level sections are allowed and preserved."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, strict=True)

    gateway: Gateway = Gateway()
    agents: Agents = Agents()
    browser: Browser = Browser()
    canvas_host: CanvasHost = CanvasHost()
    logging: Logging = Logging()
    env: Env = Env()
    rescue: Rescue = Rescue()
    channels: Channels = Channels()
    models: Models = Models()
    session: SessionSettings = SessionSettings()
    tools: Tools = Tools()
    mcp: Mcp = Mcp()
    skills: Skills = Skills()
    memory: Memory = Memory()
    hooks: Hooks = Hooks()
    memory_search: dict[str, Any] | None = None  # upstream's legacy place of `memory.search`, still read

    @model_validator(mode="after")
    def _one_default_agent(self) -> OpenClawConfig:
        defaults = [k for k, v in self.agents.entries.items() if v.default]
        if len(defaults) > 1:
            raise ValueError(f"agents.entries: only one agent may be default (found {', '.join(defaults)})")
        return self


KNOWN_SECTIONS = frozenset(
    field.alias or name for name, field in OpenClawConfig.model_fields.items()
)
