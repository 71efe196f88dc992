#!/usr/bin/env python3
"""Start a gateway and exit at its first `GET /healthz` 200, the gateway killed: a whole-process
stand-in for "start to healthy" that an outside timer can pair with a bare import, in turn:

    farm-bench -n 20 --vs "python bench/until_healthy.py --bare" -- python bench/until_healthy.py HOME PORT

`--bare` runs the yardstick through the same starter (spawn `python -c "import aiohttp"`, wait), so
both sides pay this process's own start and the spawn alike. HOME holds an instance set up on PORT
(`HOME=... openclaw setup --port PORT`, then one start so the config's validation is recorded).
Polls with a raw socket every 2 ms (no urllib: this process's own start stays small)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(REQUEST)
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main() -> int:
    if sys.argv[1:] == ["--bare"]:
        return subprocess.run([sys.executable, "-c", "import aiohttp"], check=False).returncode
    home, port = sys.argv[1], int(sys.argv[2])
    gateway = subprocess.Popen([sys.executable, "-m", "openclaw", "gateway"], env={**os.environ, "HOME": home},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    try:
        while not healthy(port):
            if gateway.poll() is not None or time.monotonic() > deadline:
                print("the gateway did not become healthy", file=sys.stderr)
                return 1
            time.sleep(0.002)
        return 0
    finally:
        gateway.kill()
        gateway.wait()


if __name__ == "__main__":
    sys.exit(main())
