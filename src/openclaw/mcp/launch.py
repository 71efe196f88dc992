"""How a server is reached: a stdio server's command line inside the instance fence, or an HTTP
transport. Blocking parts (the fence reads the registry and probes the host) run in a thread.

A stdio server runs as the agent's `exec` does in its main session: fenced off from every other
instance's state and secrets, with an environment that holds none of this gateway's secrets, plus
the entry's own `env`. It starts through `launcher.py`, which ties its life to the gateway's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import ssl
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from openclaw import logfile
from openclaw.agents.workspace import agent_workspace
from openclaw.config.view import Config
from openclaw.mcp.config import ServerConfig
from openclaw.mcp.http import LegacySse, StreamableHttp, Tls, tls_context
from openclaw.mcp.session import McpError, Transport
from openclaw.mcp.stdio import StdioProcess
from openclaw.profiles.paths import InstancePaths
from openclaw.sandbox.confine import Refused, confinement

LAUNCHER = Path(__file__).with_name("launcher.py")


@dataclasses.dataclass(frozen=True)
class StdioLaunch:
    argv: list[str]
    cwd: str
    env: dict[str, str]
    fence: str  # bubblewrap | landlock | none (unfenced)


def program_folders(server: ServerConfig, env: Mapping[str, str]) -> tuple[Path, ...]:
    """The folders of what the entry names, given back read-only where the fence would hide them
    (a program or script under the host's /tmp, say): the command's folder (its virtualenv's root
    when it is one) and the folder of each absolute path among its arguments. Never anything inside
    what another instance owns (the view refuses those)."""
    import shutil

    assert server.command is not None
    found = shutil.which(server.command, path=env.get("PATH")) if os.sep not in server.command else server.command
    folders: list[Path] = []
    if found:
        folder = Path(found).absolute().parent
        folders.append(folder.parent if (folder.parent / "pyvenv.cfg").is_file() else folder)
    for arg in server.args:
        path = Path(arg)
        if path.is_absolute() and path.exists():
            folders.append(path if path.is_dir() else path.parent)
    return tuple(folders)


def stdio_launch(server: ServerConfig, paths: InstancePaths, config: Config, env: Mapping[str, str]) -> StdioLaunch:
    """Blocking: the fenced command line, folder and environment of a stdio server."""
    assert server.command is not None
    agent = config.default_agent_id
    workspace = agent_workspace(config, paths, dict(env), agent)
    workspace.mkdir(parents=True, exist_ok=True)
    given = program_folders(server, env)
    confined = confinement(paths, config, env, agent, f"agent:{agent}:main", workspace, prepare=True, readable=given)
    cwd = Path(os.path.expanduser(server.cwd)) if server.cwd else confined.view.workdir
    cwd = cwd if cwd.is_absolute() else workspace / cwd
    if not cwd.is_dir():
        raise McpError(f"its working directory {cwd} does not exist")
    confined = dataclasses.replace(confined, view=dataclasses.replace(confined.view, workdir=cwd))
    try:
        argv = confined.command([server.command, *server.args])
    except Refused as exc:
        raise McpError(str(exc)) from None
    if server.dropped_env:
        logfile.warn(f"MCP server {server.name}: env {', '.join(server.dropped_env)} left out (interpreter, loader "
                     "and shell start-up keys are never passed); remove them from its entry", subsystem="mcp")
    fence = confined.backend.name if confined.fenced else "none"
    mode = "exec" if fence == "bubblewrap" else "supervise"  # bubblewrap's PID namespace takes the children
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER), mode, str(os.getpid()), "--"]
    return StdioLaunch([*launcher, *argv], str(cwd), {**confined.env, **dict(server.env)}, fence)


async def transport_for(server: ServerConfig, paths: InstancePaths, config: Config, env: Mapping[str, str],
                        on_stderr: Callable[[str], None]) -> Transport:
    if server.transport == "stdio":
        launch = await asyncio.to_thread(stdio_launch, server, paths, config, env)
        return StdioProcess(launch.argv, launch.cwd, launch.env, on_stderr)
    assert server.url is not None
    tls: Tls = server.tls_verify
    if server.client_cert:
        try:
            tls = await asyncio.to_thread(tls_context, server.tls_verify, server.client_cert, server.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise McpError(f"cannot load clientCert/clientKey: {exc}") from None
    cls = StreamableHttp if server.transport == "streamable-http" else LegacySse
    return cls(server.url, dict(server.headers), server.connect_timeout_s, tls)
