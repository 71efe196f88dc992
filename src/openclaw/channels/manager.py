"""Starting, stopping and reloading the configured channels of one gateway."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openclaw import logfile
from openclaw.channels.base import Channel
from openclaw.channels.bus import MessageBus
from openclaw.channels.messages import enabled
from openclaw.config.view import Config

CHANNELS = {"telegram": "openclaw.channels.telegram:TelegramChannel",
            "slack": "openclaw.channels.slack:SlackChannel",
            "discord": "openclaw.channels.discord:DiscordChannel"}
LABELS = {"telegram": "Telegram",
          "slack": "Slack",
          "discord": "Discord"}


def configured(config: Config) -> dict[str, dict[str, Any]]:
    """Channel sections present in `channels.*` (a present section means: start it)."""
    return {name: dict(config.channel(name)) for name in config.channel_names if name in CHANNELS}


class ChannelManager:
    def __init__(self, config: Callable[[], Config], bus: MessageBus, state_dir: Path, env: Mapping[str, str]) -> None:
        self._config = config
        self.env = env
        self.bus = bus
        self.state_dir = state_dir
        self.channels: dict[str, Channel] = {}
        self.suppressed: set[str] = set()
        self._sections: dict[str, dict[str, Any]] = {}

    def _make(self, name: str, section: dict[str, Any]) -> Channel:
        module, attr = CHANNELS[name].split(":")
        cls = getattr(importlib.import_module(module), attr)
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise TypeError(f"{module}:{attr} is not a channel")
        return cls(section, self.bus, self.state_dir, self.env)

    async def start_all(self, autostart: bool = True) -> None:
        for name, section in configured(self._config()).items():
            if not enabled(section):
                continue
            if not autostart:
                self.suppressed.add(name)
                logfile.warn("channel autostart suppressed by crash-loop breaker; "
                             f"refusing automatic start for {name}. "
                             f"Start it with: openclaw channels start {name}", subsystem="channels")
                continue
            await self.start(name)

    async def start(self, name: str) -> dict[str, Any]:
        if name not in CHANNELS:
            raise KeyError(f"unknown channel {name!r} (known: {', '.join(CHANNELS)})")
        section = configured(self._config()).get(name)
        if section is None:
            raise KeyError(f"channel {name} is not configured (add channels.{name} to the config)")
        await self.stop(name)
        channel = self._make(name, section)
        self.channels[name], self._sections[name] = channel, section
        self.suppressed.discard(name)
        self.bus.attach(name, channel.send, channel.typing)
        await channel.start()
        logfile.info(f"channel {name} started", subsystem="channels")
        return channel.status()

    async def stop(self, name: str) -> bool:
        channel = self.channels.pop(name, None)
        self._sections.pop(name, None)
        if channel is None:
            return False
        self.bus.detach(name)
        await channel.stop()
        logfile.info(f"channel {name} stopped", subsystem="channels")
        return True

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(name) for name in list(self.channels)))

    async def reload(self) -> list[str]:
        """Apply edited channel config live: restart changed channels, start new ones, stop removed ones."""
        wanted = {n: s for n, s in configured(self._config()).items() if enabled(s)}
        touched = []
        for name in list(self.channels):
            if name not in wanted:
                await self.stop(name)
                touched.append(name)
        for name, section in wanted.items():
            if name in self.suppressed:
                continue  # the breaker holds it until an operator starts it
            if self._sections.get(name) != section:
                await self.start(name)
                touched.append(name)
        return touched

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, section in configured(self._config()).items():
            channel = self.channels.get(name)
            out[name] = {"label": LABELS[name], "enabled": enabled(section),
                         "suppressed": name in self.suppressed, **(channel.status() if channel else
                                                                   {"running": False, "connected": False})}
        return out

    async def probe(self) -> dict[str, Any]:
        out = self.status()
        for name, channel in self.channels.items():
            out[name].update(await channel.probe())
        return out

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(name)
