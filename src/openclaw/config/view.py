"""The config as the code reads it: one typed view per resolved snapshot.

Built once per load or reload (`ConfigSnapshot.view()`) and handed to every reader (settings, agents,
models, tools, channels, isolation, the CLI), so a key is interpreted in one place: an agent is
found the same way whether it lives in `agents.entries` or in upstream's `agents.list`, a model
is read the same way whether it is a string or `{primary, fallbacks}`. Plain classes over the
resolved dict, no pydantic: the CLI's fast paths read it too. A value of the wrong shape reads as
absent (validation is what reports it), so a hand-edited file never crashes a reader. Writes keep
going through the raw JSON (`ConfigSnapshot.data`), so keys we do not know survive byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

DEFAULT_AGENT_ID = "main"
DEFAULT_RUN_TIMEOUT_S = 172_800  # 48 h, as upstream; 0 = no limit


def section(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _names(value: Any) -> frozenset[str] | None:
    return frozenset(str(v) for v in value) if isinstance(value, list) else None


@dataclass(frozen=True)
class ModelChoice:
    """A model setting: a string is strict (no fallbacks); `{primary, fallbacks}` has fallbacks."""

    primary: str | None
    fallbacks: tuple[str, ...] = ()

    @classmethod
    def read(cls, value: Any) -> ModelChoice | None:
        if isinstance(value, str):
            return cls(value or None)
        if isinstance(value, Mapping):
            return cls(_str(value.get("primary")), tuple(str(f) for f in value.get("fallbacks") or ()))
        return None


@dataclass(frozen=True)
class ToolPolicy:
    allow: frozenset[str] | None  # None: every tool
    deny: frozenset[str]

    @classmethod
    def read(cls, value: Any) -> ToolPolicy:
        raw = section(value)
        return cls(_names(raw.get("allow")), _names(raw.get("deny")) or frozenset())


@dataclass(frozen=True)
class AgentConfig:
    """One agent: from `agents.entries.<id>` or an `agents.list[]` item, read the same way."""

    id: str
    name: str | None = None
    default: bool = False
    where: str = ""  # its key path: `agents.entries.<id>` or `agents.list[<i>]` ("" when implicit)
    workspace: str | None = None
    model: ModelChoice | None = None
    tools: Mapping[str, Any] = field(default_factory=dict)  # its own `tools` (allow/deny)
    sandbox: Mapping[str, Any] = field(default_factory=dict)  # its own `sandbox` overrides
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, agent_id: str, raw: Mapping[str, Any], default: bool, where: str = "") -> AgentConfig:
        return cls(agent_id, _str(raw.get("name")), default, where, _str(raw.get("workspace")),
                   ModelChoice.read(raw.get("model")), section(raw.get("tools")), section(raw.get("sandbox")), raw)


@dataclass(frozen=True)
class AgentDefaults:
    workspace: str | None
    model: ModelChoice | None
    aliases: Mapping[str, str]  # alias (lower-case) -> ref, from `models.<ref>.alias`
    max_concurrent: int | None
    timeout_s: float | None  # None: no limit
    bootstrap_max_chars: int | None
    bootstrap_total_max_chars: int | None
    sandbox: Mapping[str, Any]


@dataclass(frozen=True)
class SessionConfig:
    dm_scope: str
    group_scope: str | None
    main_key: str
    maintenance: Mapping[str, Any]


@dataclass(frozen=True)
class CanvasConfig:
    enabled: bool
    port: int | None
    root: str | None
    live_reload: bool


class Config:
    """Typed reading of one resolved config (cheap to build; every part computed on first use)."""

    def __init__(self, resolved: Mapping[str, Any] | None) -> None:
        self.raw: Mapping[str, Any] = section(resolved)

    @classmethod
    def of(cls, value: Config | Mapping[str, Any] | None) -> Config:
        """A view of `value` (a view already, or a resolved dict)."""
        return value if isinstance(value, Config) else cls(value)

    def get(self, *keys: str, default: Any = None) -> Any:
        """A value by key path, for the few keys read nowhere else."""
        node: Any = self.raw
        for key in keys:
            if not isinstance(node, Mapping) or key not in node:
                return default
            node = node[key]
        return node

    def part(self, *keys: str) -> Mapping[str, Any]:
        """The object at a key path (empty when absent or not an object)."""
        return section(self.get(*keys))

    # -- agents -------------------------------------------------------------------------------
    @cached_property
    def agents(self) -> tuple[AgentConfig, ...]:
        """Every declared agent (`agents.entries`, then upstream's `agents.list`), or the implicit
        `main`; exactly one is the default (the first marked so, else the first)."""
        section_ = self.part("agents")
        rows: list[tuple[str, Mapping[str, Any], str]] = []
        entries = section_.get("entries")
        if isinstance(entries, Mapping):
            rows += [(str(k), section(v), f"agents.entries.{k}") for k, v in entries.items()]
        legacy = section_.get("list")
        if isinstance(legacy, list):
            seen = {aid for aid, _, _ in rows}
            rows += [(str(v["id"]), v, f"agents.list[{i}]") for i, v in enumerate(legacy)
                     if isinstance(v, Mapping) and v.get("id") and str(v["id"]) not in seen]
        if not rows:
            return (AgentConfig.read(DEFAULT_AGENT_ID, {}, True),)
        default_id = next((aid for aid, v, _ in rows if v.get("default")), rows[0][0])
        return tuple(AgentConfig.read(aid, v, aid == default_id, where) for aid, v, where in rows)

    @property
    def default_agent_id(self) -> str:
        return next(a.id for a in self.agents if a.default)

    def agent(self, agent_id: str | None) -> AgentConfig:
        """The agent's own settings (empty for an id the config does not declare)."""
        wanted = agent_id or self.default_agent_id
        return next((a for a in self.agents if a.id == wanted), AgentConfig.read(wanted, {}, False))

    @cached_property
    def agent_defaults(self) -> AgentDefaults:
        raw = self.part("agents", "defaults")
        aliases = {str(e["alias"]).lower(): str(ref) for ref, e in section(raw.get("models")).items()
                   if isinstance(e, Mapping) and isinstance(e.get("alias"), str)}
        timeout = raw.get("timeoutSeconds", DEFAULT_RUN_TIMEOUT_S)
        concurrent = _int(raw.get("maxConcurrent"))
        return AgentDefaults(
            workspace=_str(raw.get("workspace")), model=ModelChoice.read(raw.get("model")), aliases=aliases,
            max_concurrent=concurrent if concurrent and concurrent > 0 else None,
            timeout_s=None if timeout in (0, None) or not isinstance(timeout, (int, float)) else float(timeout),
            bootstrap_max_chars=_int(raw.get("bootstrapMaxChars")),
            bootstrap_total_max_chars=_int(raw.get("bootstrapTotalMaxChars")),
            sandbox=section(raw.get("sandbox")))

    def model_choice(self, agent_id: str | None = None) -> ModelChoice:
        """The agent's own `model`, else `agents.defaults.model`."""
        own = self.agent(agent_id).model if agent_id else None
        return own or self.agent_defaults.model or ModelChoice(None)

    def tool_policy(self, agent_id: str) -> ToolPolicy:
        """`tools.{allow,deny}` with the agent's own on top: its `allow` replaces, `deny` adds."""
        top, own = self.part("tools"), self.agent(agent_id).tools
        allow = _names(own.get("allow")) if "allow" in own else _names(top.get("allow"))
        return ToolPolicy(allow, (_names(top.get("deny")) or frozenset()) | (_names(own.get("deny")) or frozenset()))

    # -- other sections -----------------------------------------------------------------------
    @cached_property
    def session(self) -> SessionConfig:
        raw = self.part("session")
        return SessionConfig(_str(raw.get("dmScope")) or "main", _str(raw.get("groupScope")),
                             _str(raw.get("mainKey")) or "main", section(raw.get("maintenance")))

    @cached_property
    def canvas(self) -> CanvasConfig:
        raw = self.part("canvasHost")
        return CanvasConfig(raw.get("enabled", True) is not False, _int(raw.get("port")), _str(raw.get("root")),
                            raw.get("liveReload", True) is not False)

    @property
    def browser(self) -> Mapping[str, Any]:
        return self.part("browser")

    @property
    def browser_enabled(self) -> bool:
        return self.browser.get("enabled", True) is not False

    @property
    def gateway(self) -> Mapping[str, Any]:
        return self.part("gateway")

    @property
    def gateway_port(self) -> int | None:
        return _int(self.gateway.get("port"))

    @property
    def models(self) -> Mapping[str, Any]:
        return self.part("models")

    @property
    def providers(self) -> Mapping[str, Any]:
        """`models.providers`: id -> the raw provider entry (the catalog resolves keys and defaults)."""
        return section(self.models.get("providers"))

    def channel(self, name: str) -> Mapping[str, Any]:
        return self.part("channels", name)

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(str(k) for k, v in self.part("channels").items() if isinstance(v, Mapping))

    @property
    def has_rescue_section(self) -> bool:
        return isinstance(self.raw.get("rescue"), Mapping)

    @property
    def rescue_targets(self) -> list[str] | None:
        targets = self.part("rescue").get("targets")
        return [str(t) for t in targets] if isinstance(targets, list) else None

    @property
    def web_fetch_private(self) -> bool:
        return self.part("tools", "webFetch").get("allowPrivateNetwork") is True

    @property
    def http_tools(self) -> ToolPolicy:
        """`gateway.tools`: what `/tools/invoke` may call beyond, or besides, its defaults."""
        return ToolPolicy.read(self.gateway.get("tools"))
