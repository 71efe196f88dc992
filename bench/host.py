"""The hostile benchmarks' host: a throwaway HOME with the default instance set up and at most one
running gateway (bench/hostile.py and its scenario modules share it)."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from attacks import healthz_ms
from run import Bench

PY = sys.executable


class Host(Bench):
    """A throwaway HOME with the default instance set up and at most one running gateway."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(json.loads(self.cli("setup", "--json").stdout)["port"])
        self.state = Path(self.env["HOME"]) / ".openclaw"
        self.token = json.loads((self.state / "openclaw.json").read_text())["gateway"]["auth"]["token"]

    def launch(self, nofile: int | None = None, extra_env: dict[str, str] | None = None) -> int:
        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.log = (self.root / "gateway.out").open("wb")
        self.proc = subprocess.Popen([PY, "-m", "openclaw", "gateway"], env={**self.env, **(extra_env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limit)
        deadline = time.monotonic() + 30
        while healthz_ms(self.port, 0.5) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not become healthy: {(self.root / 'gateway.out').read_text()}")
            time.sleep(0.01)
        time.sleep(1.0)  # let start-up allocations settle before taking the idle baseline
        return self.proc.pid

    def stop(self) -> float:
        """SIGTERM; seconds until the process exited."""
        assert self.proc is not None
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.perf_counter() - started

    def output(self) -> str:
        return (self.root / "gateway.out").read_text(errors="replace")
