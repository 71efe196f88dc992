"""A managed Chromium for one profile: launch, readiness, adoption of a leftover, clean stop.

Chromium runs in its own process group so stopping it takes its helpers
along. A pidfile records it; if the gateway was killed with `kill -9`, the
next gateway finds the still-running browser on the profile's CDP port,
checks it is ours (same `--user-data-dir`), and adopts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from openclaw.browser import cdp
from openclaw.browser.errors import BrowserError
from openclaw.browser.profiles import BrowserProfile
from openclaw.fsutil import atomic_write, ensure_private_dir
from openclaw.procutil import pid_alive, start_marker

READY_TIMEOUT_S = 15.0
STOP_GRACE_S = 3.0
BASE_FLAGS = (
    "--no-first-run", "--no-default-browser-check", "--disable-sync", "--disable-background-networking",
    "--disable-component-update", "--disable-features=Translate,MediaRouter", "--disable-session-crashed-bubble",
    "--hide-crash-restore-bubble", "--password-store=basic", "--disable-quic", "--no-proxy-server",
)


def needs_headless(configured: bool | None, env: Mapping[str, str]) -> bool:
    """`browser.headless` wins; otherwise headless when Linux has no display."""
    if configured is not None:
        return configured
    if sys.platform.startswith("linux"):
        return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return False


def launch_args(executable: str, profile: BrowserProfile, headless: bool, no_sandbox: bool = False) -> list[str]:
    args = [executable, f"--remote-debugging-port={profile.cdp_port}", f"--user-data-dir={profile.user_data_dir}",
            *BASE_FLAGS]
    if headless:
        args += ["--headless=new", "--disable-gpu"]
    if no_sandbox or (hasattr(os, "geteuid") and os.geteuid() == 0):
        args.append("--no-sandbox")  # asked for, or as root (Chromium refuses its sandbox there)
    if sys.platform.startswith("linux"):
        args.append("--disable-dev-shm-usage")
    return [*args, "about:blank"]


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """Chromium's environment. Its singleton socket lives under TMPDIR and UNIX socket paths are
    limited to ~107 bytes, so an inherited long TMPDIR is swapped for /tmp."""
    env = dict(env)
    tmp = env.get("TMPDIR", "")
    if len(tmp) + len("/org.chromium.Chromium.XXXXXX/SingletonSocket") >= 100 and os.path.isdir("/tmp"):
        env["TMPDIR"] = "/tmp"
    return env


def process_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        try:
            import psutil

            return psutil.Process(pid).cmdline()
        except Exception:  # noqa: BLE001 - gone or not ours to read
            return []


class ManagedBrowser:
    def __init__(self, profile: BrowserProfile, executable: str, kind: str, headless: bool,
                 no_sandbox: bool, env: Mapping[str, str]) -> None:
        self.profile = profile
        self.env = env  # the gateway's, for Chromium's own (see child_env)
        self.no_sandbox = no_sandbox
        self.executable = executable
        self.kind = kind
        self.headless = headless
        self.pid: int | None = None
        self.adopted = False
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def home(self) -> Path:
        assert self.profile.user_data_dir is not None
        return self.profile.user_data_dir.parent

    @property
    def pidfile(self) -> Path:
        return self.home / "chromium.pid"

    def ours(self, pid: int) -> bool:
        return f"--user-data-dir={self.profile.user_data_dir}" in process_cmdline(pid)

    def leftover_pid(self) -> int | None:
        """A still-running browser this profile launched before (e.g. before a kill -9 of the gateway)."""
        try:
            record = json.loads(self.pidfile.read_text())
        except (OSError, ValueError):
            return None
        pid = record.get("pid")
        if isinstance(pid, int) and pid_alive(pid, record.get("startMarker")) and self.ours(pid):
            return pid
        return None

    async def start(self, session: aiohttp.ClientSession) -> None:
        base = self.profile.cdp_url
        leftover = self.leftover_pid()
        if await cdp.version(session, base) is not None:
            if leftover is None:
                raise BrowserError(409, "PORT_IN_USE",
                                   f'Port {self.profile.cdp_port} is in use for profile "{self.profile.name}" '
                                   "but not by openclaw; stop that process or give the profile another cdpPort")
            self.pid, self.adopted = leftover, True
            return
        if leftover is not None:  # alive but not answering: replace it
            await self._terminate_group(leftover)
        await self._launch(session)

    async def _launch(self, session: aiohttp.ClientSession) -> None:
        ensure_private_dir(self.home)
        self.profile.user_data_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        log = open(self.home / "chromium.log", "ab")  # noqa: SIM115, ASYNC230 - handed to the child; a local file
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *launch_args(self.executable, self.profile, self.headless, self.no_sandbox),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                env=child_env(self.env),
            )
        except OSError as exc:
            raise BrowserError(500, "LAUNCH_FAILED", f"cannot run {self.executable}: {exc.strerror or exc}") from None
        finally:
            log.close()
        self.pid = self._proc.pid
        record = json.dumps({"pid": self.pid, "startMarker": start_marker(self.pid),
                             "cdpPort": self.profile.cdp_port}) + "\n"
        await asyncio.to_thread(atomic_write, self.pidfile, record)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.returncode is not None:
                break
            if await cdp.version(session, self.profile.cdp_url, timeout=0.5) is not None:
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise BrowserError(500, "LAUNCH_FAILED",
                           f'Failed to start Chromium CDP on port {self.profile.cdp_port} for profile '
                           f'"{self.profile.name}": {self._log_tail()}')

    def _log_tail(self) -> str:
        try:
            lines = (self.home / "chromium.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no output"
        fatal = [line for line in lines if "FATAL" in line]
        return " | ".join(fatal[-2:] or lines[-3:])[:500] or "no output"

    def alive(self) -> bool:
        return self.pid is not None and pid_alive(self.pid)

    async def stop(self) -> bool:
        """SIGTERM the whole group, wait, then SIGKILL; True if something was running."""
        pid = self.pid
        if pid is None:
            return False
        await self._terminate_group(pid)
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                await asyncio.wait_for(self._proc.wait(), 1.0)
        self.pid, self._proc = None, None
        self.pidfile.unlink(missing_ok=True)
        return True

    async def _terminate_group(self, pid: int) -> None:
        for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig) if hasattr(os, "killpg") else os.kill(pid, sig)
            deadline = time.monotonic() + STOP_GRACE_S
            while time.monotonic() < deadline:
                if not self._group_alive(pid):
                    return
                await asyncio.sleep(0.05)

    def _group_alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.returncode is None  # our child: alive until reaped
        return pid_alive(pid)

    def info(self) -> dict[str, Any]:
        return {"pid": self.pid, "adopted": self.adopted, "executable": self.executable, "kind": self.kind,
                "headless": self.headless}
