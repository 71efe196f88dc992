"""Upstream OpenClaw's CLI and gateway in one HOME: run a command, start and stop `gateway run`.
Used by scripts/upstream_state_fixtures.py and tests/test_state_roundtrip.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from helpers import upstream_bin, wait_for

SLOW = 300.0  # each upstream CLI call and gateway start boots Node: tens of seconds on a loaded machine
BINARY = upstream_bin()


def parse_json(text: str) -> Any:
    """The JSON document in a CLI's output (upstream may print a banner line first)."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise AssertionError(f"no JSON in output:\n{text}")
    return json.loads(text[min(starts):])


class Upstream:
    """Upstream's CLI and gateway with HOME=`home` (never the real one)."""

    def __init__(self, binary: str, home: Path, extra_env: dict[str, str] | None = None) -> None:
        self.binary, self.home = binary, home
        self.vars = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
        self.vars.update(HOME=str(home), NO_COLOR="1", **(extra_env or {}))
        self.gateway: subprocess.Popen[bytes] | None = None
        self.log = home / "upstream-gateway.log"

    @property
    def state_dir(self) -> Path:
        return self.home / ".openclaw"

    def run(self, *args: str, timeout: float = SLOW, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.binary, *args], env=self.vars, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"upstream openclaw {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n"
                                 f"{proc.stderr}")
        return proc

    def run_json(self, *args: str) -> Any:
        return parse_json(self.run(*args).stdout)

    def start(self, port: int) -> Upstream:
        """`gateway run --port PORT` in its own process group, waited on until /startupz answers 200
        (it answers 503 while channels and sidecars start, and `connect` is refused until then)."""
        with self.log.open("ab") as out:
            self.gateway = subprocess.Popen([self.binary, "gateway", "run", "--port", str(port)], env=self.vars,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self._healthy(port), timeout=SLOW, interval=0.25, what="upstream's gateway to finish starting")
        return self

    def _healthy(self, port: int) -> bool:
        if self.gateway is not None and self.gateway.poll() is not None:
            raise AssertionError(f"upstream's gateway exited {self.gateway.returncode}:\n"
                                 f"{self.log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/startupz", timeout=2) as res:
                return bool(res.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM to the gateway's process group (its workers too), SIGKILL after a minute."""
        if self.gateway is None or self.gateway.poll() is not None:
            return
        os.killpg(self.gateway.pid, signal.SIGTERM)
        try:
            self.gateway.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.gateway.pid, signal.SIGKILL)
            self.gateway.wait()
