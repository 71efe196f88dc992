"""The command tree. Each command's module is imported only when that command runs."""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose subcommands live in modules loaded on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            command = getattr(importlib.import_module(module), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}:{attr} is not a click command")
            return command
        return super().get_command(ctx, name)


COMMANDS = {
    "setup": "openclaw.cli.setup_cmd:setup",
    "onboard": "openclaw.cli.onboard_cmd:onboard",
    "doctor": "openclaw.cli.doctor_cmd:doctor",
    "config": "openclaw.cli.config_cmd:config",
    "gateway": "openclaw.cli.gateway_cmd:gateway",
    "gateways": "openclaw.cli.gateways_cmd:gateways",
    "fleet": "openclaw.cli.fleet_cmd:fleet",
    "browser": "openclaw.cli.browser_cmd:browser",
    "channels": "openclaw.cli.channels_cmd:channels",
    "pairing": "openclaw.cli.pairing_cmd:pairing",
    "health": "openclaw.cli.health_cmd:health",
    "status": "openclaw.cli.status_cmd:status",
    "logs": "openclaw.cli.logs_cmd:logs",
    "agent": "openclaw.cli.agent_cmd:agent",
    "sessions": "openclaw.cli.sessions_cmd:sessions",
    "memory": "openclaw.cli.memory_cmd:memory",
    "models": "openclaw.cli.models_cmd:models",
    "dashboard": "openclaw.cli.dashboard_cmd:dashboard",
    "devices": "openclaw.cli.devices_cmd:devices",
    "cron": "openclaw.cli.cron_cmd:cron",
    "deploy": "openclaw.cli.deploy_cmd:deploy",
    "sandbox": "openclaw.cli.sandbox_cmd:sandbox",
    "mcp": "openclaw.cli.mcp_cmd:mcp",
    "skills": "openclaw.cli.skills_cmd:skills",
    "system": "openclaw.cli.system_cmd:system",
}

ROOT_HELP = """Run and inspect OpenClaw gateways; many isolated instances per host.

\b
Global flags (anywhere before a bare --):
  --profile NAME   use ~/.openclaw-NAME (its own config, state, workspace, ports)
  --dev            the dev profile (~/.openclaw-dev, base port 19001)
  --no-color       plain output
  --log-level LVL  override logging.level
"""


@click.group(cls=LazyGroup, lazy=COMMANDS, help=ROOT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=None, version=__import__("openclaw").__version__, prog_name="openclaw")
def cli() -> None:
    pass
