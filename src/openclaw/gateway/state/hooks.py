"""What the gateway's handlers may ask of the process around them, as Protocols: the runner's hooks
(restart, reload) and the long-lived services. The composition root (`process/services.py`)
implements them; handlers see these shapes only, never the server or the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from openclaw.agents.runtime import AgentRuntime
    from openclaw.browser.service import BrowserService
    from openclaw.channels.manager import ChannelManager
    from openclaw.chat.commands import CommandRegistry
    from openclaw.cron.scheduler import CronScheduler
    from openclaw.gateway.state.devicestore import DeviceStore
    from openclaw.mcp.manager import McpManager


class Hooks(Protocol):
    """The runner's operations a method may request."""

    def restart_soon(self, delay_s: float) -> None:
        """An in-process restart after `delay_s` (time for the caller's answer to go out)."""

    def config_changed_now(self) -> None:
        """The config file was just written here: reload it without waiting for the next poll."""


class CrashLoop(Protocol):
    """What handlers read of the crash-loop breaker."""

    @property
    def tripped(self) -> bool: ...

    @property
    def unclean(self) -> list[float]: ...


class Services(Protocol):
    """The long-lived services (kept across in-process restarts), each with its type. `None`: not
    running (yet); the accessors create on first use what is made lazily."""

    @property
    def channels(self) -> ChannelManager | None: ...

    @property
    def devices(self) -> DeviceStore: ...

    @property
    def breaker(self) -> CrashLoop: ...

    @property
    def browser_started(self) -> BrowserService | None: ...

    def browser(self) -> BrowserService:
        """The browser service, created (and its modules imported) on first use."""

    def agents(self) -> AgentRuntime:
        """The agent runtime, created (and the agent stack imported) with the first turn."""

    def commands(self) -> CommandRegistry:
        """The chat commands every surface answers, made (and the chat package loaded) on first use."""

    @property
    def mcp_started(self) -> McpManager | None:
        """The MCP servers' runtimes, once a turn found servers configured (None before)."""

    async def scheduler(self, start: bool = False) -> CronScheduler | None:
        """The cron scheduler: running once there are jobs; `start` starts it with none."""
