"""Doctor checks for the fence around the agent's tools and the sandbox settings."""

from __future__ import annotations

import os

from openclaw.config.store import read_config
from openclaw.config.view import Config
from openclaw.doctor.checks import Context, Finding


def _sandboxes(config: Config) -> list[tuple[str, str]]:
    """(agent id, where its sandbox section lives) for every agent."""
    return [(a.id, f"{a.where or 'agents.entries.' + a.id}.sandbox") for a in config.agents]


def check_sandbox(ctx: Context) -> list[Finding]:
    """The fence is on and has a mechanism; what the sandbox settings mean here."""
    from openclaw.sandbox.backend import INSTALL_HINT, detect
    from openclaw.sandbox.settings import sandbox_settings

    config = read_config(ctx.paths.config_path, ctx.env, validate=False).view()
    path = str(ctx.paths.config_path)
    backend = detect(ctx.env)
    out: list[Finding] = []
    agents = _sandboxes(config)
    settings = {agent: sandbox_settings(config, agent) for agent, _ in agents}
    for agent, where in agents:
        if not settings[agent].fence:
            out.append(Finding(
                "sandbox/fence-off", "warning", f"agent {agent}: the instance fence is off (sandbox.fence is false)",
                "its exec and file tools can read and change every instance's state dir on this host, tokens "
                "included", f"{ctx.prefix} config unset agents.defaults.sandbox.fence (and {where}.fence)", path))
        for note in settings[agent].notes:
            out.append(Finding("sandbox/setting", "warning", f"agent {agent}: {note}",
                               "the sandbox runs differently from what the config asks",
                               f"{ctx.prefix} sandbox explain --agent {agent}", path))
    if not backend.available:
        out.append(Finding("sandbox/unavailable", "error",
                           "nothing here can fence the agent's tools: exec, write and edit are refused",
                           "; ".join(backend.problems), INSTALL_HINT, path))
    elif backend.name == "landlock":
        out.append(Finding("sandbox/landlock", "info", f"tools are fenced with {backend.detail}, not bubblewrap",
                           "; ".join(backend.problems) + "; under Landlock commands see the host's processes "
                           "(without access to them), folders on the way to a hidden one cannot be listed, and "
                           "network off blocks TCP only", INSTALL_HINT.split(", or set")[0], path))
    others = [i for i in ctx.instances if os.path.abspath(i.state_dir) != os.path.abspath(ctx.paths.state_dir)]
    if others and all(s.mode == "off" for s in settings.values()):
        out.append(Finding("sandbox/tenants", "info",
                           f"{len(others) + 1} instances share this host and this one's tools may write anywhere "
                           "outside the state dirs", "a tool could plant a file another instance later runs",
                           f"{ctx.prefix} config set agents.defaults.sandbox.mode all", path))
    return out
