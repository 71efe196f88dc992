"""An instance's config made fit for a pod: secrets out into a Secret, host paths and ports in.

What stays in the ConfigMap must be safe to read by anyone who can read the namespace's
ConfigMaps, so every secret-named value (tokens, passwords, API keys), every `env.vars` value
and every secret file the config names is moved out, and the config refers to it by
`${NAME}` (or, for `...File` keys, by the path where the Secret is mounted). The gateway's
config loader substitutes `${NAME}` from the environment, and config writes keep the reference,
so later edits in the pod never write the secret into the volume's config either.
"""

from __future__ import annotations

import copy
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw.config.redact import is_secret_key
from openclaw.config.secret_env import CHANNEL_TOKENS, default_account_env
from openclaw.config.view import Config, section
from openclaw.deploy.kubernetes.layout import POD_PORT, SECRET_FILES_DIR, STATE_MOUNT
from openclaw.errors import ConfigError
from openclaw.profiles.paths import InstancePaths

_REF = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")
_ANY_REF = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)\}")
FIXED_NAMES = {("gateway", "auth", "token"): "OPENCLAW_GATEWAY_TOKEN",
               ("gateway", "auth", "password"): "OPENCLAW_GATEWAY_PASSWORD"}


@dataclass
class PodConfig:
    config: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)  # Secret keys given to the container as env
    files: dict[str, str] = field(default_factory=dict)  # Secret keys mounted under SECRET_FILES_DIR
    missing: list[str] = field(default_factory=list)  # referenced here but not set on this host
    notes: list[str] = field(default_factory=list)  # what the user should know (generated token, host paths)
    browser: bool = False
    workspace: dict[str, str] = field(default_factory=dict)  # prompt files (AGENTS.md, SOUL.md, ...)


class _Extractor:
    def __init__(self, env: Mapping[str, str], moves: Mapping[Path, str]) -> None:
        self.env = env
        self.moves = {os.path.abspath(host): pod for host, pod in moves.items()}
        self.out = PodConfig(config={})

    def need(self, name: str) -> None:
        """An env var the config refers to: its value from this host, or an empty key to fill in."""
        if name in self.out.env:
            return
        value = self.env.get(name)
        if value is None:
            self.out.missing.append(name)
        self.out.env[name] = value or ""

    def secret_env(self, path: tuple[Any, ...], value: str) -> str:
        name = FIXED_NAMES.get(path) or "OPENCLAW_SECRET_" + "_".join(
            re.sub(r"[^A-Z0-9]", "_", _snake(str(p)).upper()) for p in path)
        self.out.env[name] = value
        return "${" + name + "}"

    def secret_file(self, path: tuple[Any, ...], host_path: str) -> str:
        key = "-".join(re.sub(r"[^A-Za-z0-9_.-]", "-", str(p)) for p in path)
        self.out.files[key] = _read_host_file(path, host_path)
        return f"{SECRET_FILES_DIR}/{key}"

    def walk(self, node: Any, path: tuple[Any, ...] = ()) -> Any:
        if isinstance(node, dict):
            return {k: self.leaf(k, v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [self.walk(v, (*path, i)) for i, v in enumerate(node)]
        return node

    def leaf(self, key: str, value: Any, path: tuple[Any, ...]) -> Any:
        if path[:2] == ("env", "vars") and len(path) == 3 and isinstance(value, str):
            return self.env_var(key, value)
        if (is_secret_key(key) or _is_header(path)) and isinstance(value, str) and value:
            return self.secret_string(path, value)
        if is_secret_key(key) and isinstance(value, dict) and value.get("source") in ("env", "file"):
            return self.secret_ref(path, value)
        if key.endswith("File") and is_secret_key(key[:-4]) and isinstance(value, str) and value:
            return self.secret_file(path, value)
        if isinstance(value, str):
            return self.host_path(path, value)
        return self.walk(value, path)

    def env_var(self, key: str, value: str) -> str:
        """`env.vars` may hold API keys: the value goes to the Secret under its own name."""
        refs = _ANY_REF.findall(value)
        for name in refs:
            self.need(name)
        if not refs:
            self.out.env[key] = value
        return value if refs else "${" + key + "}"

    def secret_string(self, path: tuple[Any, ...], value: str) -> str:
        ref = _REF.match(value)
        if ref:
            self.need(ref.group(1))
            return value
        if _ANY_REF.search(value):  # mixed literal and reference: resolve here, keep it whole
            for name in _ANY_REF.findall(value):
                self.need(name)
            value = _ANY_REF.sub(lambda m: self.env.get(m.group(1), ""), value)
        return self.secret_env(path, value)

    def secret_ref(self, path: tuple[Any, ...], ref: dict[str, Any]) -> Any:
        ident = str(ref.get("id") or "")
        if ref["source"] == "env":
            self.need(ident)
            return ref
        return self.secret_env(path, _read_host_file(path, ident).strip())

    def host_path(self, path: tuple[Any, ...], value: str) -> str:
        """Paths inside the state dir move with it; other host paths do not exist in the pod."""
        expanded = os.path.expanduser(value)
        if not os.path.isabs(expanded) or value.startswith(("http:", "https:", "ws:", "wss:")):
            return value
        real = os.path.abspath(expanded)
        for host, pod in self.moves.items():
            if real == host or real.startswith(host + os.sep):
                return pod + real[len(host):]
        if os.path.exists(real):
            self.out.notes.append(f"{'.'.join(str(p) for p in path)} points at {value} on this host, which the "
                                  "pod does not have; copy it into the volume or change the key")
        return value


def _read_host_file(path: tuple[Any, ...], name: str) -> str:
    """A secret file a config key names, read on this host to go into the Secret."""
    source = Path(os.path.expanduser(name))
    try:
        return source.read_text(encoding="utf-8")
    except OSError as exc:
        dotted = ".".join(str(p) for p in path)
        raise ConfigError(f"{dotted} names {source}, which cannot be read ({exc.strerror}); fix or remove it "
                          "before rendering") from None


def _is_header(path: tuple[Any, ...]) -> bool:
    """Request headers (a provider's `Authorization`, `x-api-key`) are credentials as often as not."""
    return len(path) >= 2 and path[-2] == "headers"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)


def _set(data: dict[str, Any], *path_and_value: Any) -> None:
    *path, key, value = path_and_value
    node = data
    for part in path:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[key] = value


def model_keys(config: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    """`<PROVIDER>_API_KEY` for each provider the agents use whose key the config does not give:
    hosted providers always need one; others take it when this host has one."""
    from openclaw.models.catalog import KEYED, env_key_name

    refs: list[str] = []

    def collect(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                collect(v, k)
        elif isinstance(node, list):
            for v in node:
                collect(v, key)
        elif isinstance(node, str) and key in ("model", "primary", "fallbacks") and "/" in node:
            refs.append(node.split("/", 1)[0])

    collect(config.get("agents"))
    configured = Config(config).providers
    names = []
    for pid in dict.fromkeys(refs):
        entry = section(configured.get(pid))
        if not entry.get("apiKey") and (pid in KEYED or env.get(env_key_name(pid))):
            names.append(env_key_name(pid))
    return names


def pod_config(raw: dict[str, Any], paths: InstancePaths, env: Mapping[str, str], browser: bool) -> PodConfig:
    """The ConfigMap's copy of `raw` and what goes into the Secret. The state dir becomes the
    volume; the instance's default workspace (outside it for profiles) moves into the volume too."""
    ex = _Extractor(env, {paths.default_workspace: f"{STATE_MOUNT}/workspace", paths.state_dir: STATE_MOUNT})
    data = copy.deepcopy(raw)
    auth = Config(data).part("gateway", "auth")
    if auth.get("mode") == "none":
        raise ConfigError("gateway.auth.mode is none: in a pod the gateway listens beyond loopback (its Service "
                          "reaches it), so it needs a token; set gateway.auth.mode token (or password) first")
    if auth.get("mode") in (None, "token") and not auth.get("token"):
        if env.get("OPENCLAW_GATEWAY_TOKEN"):  # this host gives it from the environment
            _set(data, "gateway", "auth", "token", env["OPENCLAW_GATEWAY_TOKEN"])
        elif not auth.get("password"):
            ex.out.env["OPENCLAW_GATEWAY_TOKEN"] = secrets.token_urlsafe(32)
            _set(data, "gateway", "auth", "token", "${OPENCLAW_GATEWAY_TOKEN}")
            ex.out.notes.append("no gateway token was set: a new one is in the Secret")
    _set(data, "gateway", "port", POD_PORT)
    _set(data, "gateway", "bind", "lan")  # the Service reaches the pod's own address
    for stale in ("customBindHost",):
        data["gateway"].pop(stale, None)
    browser_on = browser and _browser_enabled(data)
    if browser_on:
        _set(data, "browser", "headless", True)  # no display in a pod
        _set(data, "browser", "noSandbox", True)  # containers refuse Chromium's user-namespace sandbox
        data["browser"].pop("executablePath", None)  # the image's Chromium is on PATH
    elif _browser_enabled(data):
        _set(data, "browser", "enabled", False)
    out = ex.out
    out.workspace, skipped = _workspace_files(raw, paths, env)
    if skipped:
        out.notes.append(f"workspace files not carried (too large, or names a ConfigMap cannot hold): "
                         f"{', '.join(skipped)}; kubectl cp them into the volume")
    out.config = ex.walk(data)
    out.browser = browser_on
    for name in model_keys(out.config, env):
        ex.need(name)
    _channel_env(ex, raw)
    return out


def _channel_env(ex: _Extractor, raw: dict[str, Any]) -> None:
    """A channel's default account with no token in the config reads it from the environment: the
    variable from this host goes into the Secret (the container gets it as env), or a note says that
    the pod's channel will have no token."""
    channels = raw.get("channels")
    for name in CHANNEL_TOKENS:
        for var in default_account_env(channels.get(name) if isinstance(channels, dict) else None, name):
            if var in ex.out.env:
                continue
            if ex.env.get(var):
                ex.out.env[var] = ex.env[var]
                ex.out.notes.append(f"channels.{name}: {var} from this environment is in the Secret "
                                    "(the channel's default account reads it there)")
            else:
                ex.out.notes.append(f"channels.{name} has no token in the config and {var} is not set here: the "
                                    f"pod's {name} channel will have no token (set {var} and render again, or "
                                    "put the token in the config)")


def _workspace_files(
    raw: dict[str, Any], paths: InstancePaths, env: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    from openclaw.agents.workspace import prompt_files, workspace_dir

    files, skipped = prompt_files(workspace_dir(Config(raw), paths, env))
    fit = {name: text for name, text in files.items() if re.fullmatch(r"[-._a-zA-Z0-9]+", name)}
    return fit, skipped + sorted(set(files) - set(fit))


def _browser_enabled(data: dict[str, Any]) -> bool:
    section = data.get("browser")
    return not (isinstance(section, dict) and section.get("enabled") is False)
