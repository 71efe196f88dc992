"""The fleet for harnesses, in-process and async:

    async with Fleet(20, prefix="eval") as fleet:
        for member in fleet.members:
            ...  # member.url, member.token, member.http_url

The supervisor is started with a lifeline (its stdin, held by this process): if the harness
dies without leaving the `async with`, the supervisor sees the pipe close and stops every member.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from openclaw.errors import OpenClawError
from openclaw.fleet import launch
from openclaw.fleet.control import request
from openclaw.fleet.members import DEFAULT_PREFIX, check_count, fleet_files
from openclaw.profiles.env import resolve_home


@dataclass(frozen=True)
class FleetMember:
    """One member as a harness uses it: where it listens and the token it takes."""

    name: str
    url: str
    http_url: str
    port: int
    token: str
    state_dir: Path
    config_path: Path
    pid: int | None
    state: str

    @property
    def env(self) -> dict[str, str]:
        """What points `openclaw` (ours or upstream's) at this member."""
        return {"OPENCLAW_PROFILE": self.name}


class Fleet:
    """N isolated gateways, up on enter and down on exit."""

    def __init__(self, count: int, *, prefix: str = DEFAULT_PREFIX, model: str | None = None,
                 from_config: str | Path | None = None, base_port: int | None = None,
                 memory: str | None = None, open_files: int | None = None, agent_concurrency: int | None = None,
                 env: Mapping[str, str] | None = None, timeout: float = launch.READY_TIMEOUT_S,
                 purge_on_exit: bool = False) -> None:
        self.env = dict(os.environ if env is None else env)
        self.files = fleet_files(prefix, resolve_home(self.env))
        limits, overrides = launch.limits_asked(memory, open_files, agent_concurrency)
        self.request = launch.FleetRequest(check_count(count), self.files.prefix, model,
                                           Path(from_config) if from_config else None, base_port, limits, overrides)
        self.timeout = timeout
        self.purge_on_exit = purge_on_exit
        self.members: list[FleetMember] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._record: dict[str, Any] = {}

    async def __aenter__(self) -> Fleet:
        await self.up()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.down(purge=self.purge_on_exit)

    def __getitem__(self, name: str) -> FleetMember:
        return next(m for m in self.members if m.name == name)

    async def up(self) -> list[FleetMember]:
        self._proc, self._record, ready = await asyncio.to_thread(
            launch.up, self.files, self.request, self.env, self.timeout, True)
        self.members = await asyncio.to_thread(self._members, ready)
        return self.members

    def _members(self, live: dict[str, Any]) -> list[FleetMember]:
        out = []
        for m in launch.merge_report(self._record, live):
            config = json.loads(Path(m["configPath"]).read_text())
            token = str(config.get("gateway", {}).get("auth", {}).get("token") or "")
            out.append(FleetMember(m["name"], m["url"], m["httpUrl"], int(m["ports"]["base"]), token,
                                   Path(m["stateDir"]), Path(m["configPath"]), m["pid"], m["state"]))
        return out

    async def status(self) -> dict[str, Any]:
        return await asyncio.to_thread(launch.status, self.files)

    async def restart(self, name: str) -> dict[str, Any]:
        answer = await asyncio.to_thread(request, Path(self._record["socket"]), "restart", name=name)
        if not answer.get("ok"):
            raise OpenClawError(f"fleet restart: {answer.get('error')}")
        return answer

    async def down(self, purge: bool = False) -> None:
        """Stop every member and the supervisor (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()  # the lifeline: the supervisor stops all members and exits
            try:
                await asyncio.to_thread(proc.wait, 30.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        if purge:
            await asyncio.to_thread(launch.purge_members, self.files, self._record or None)
