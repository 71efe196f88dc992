"""The canvas symlink race: a thread swaps links under the canvas root between a file inside it and
another instance's state dir while requests run. Shared by tests/test_canvas.py and bench/hostile.py."""

from __future__ import annotations

import http.client
import os
import threading
from pathlib import Path
from typing import Any

INSIDE = "inside the canvas root"


def plant(root: Path, other_state: Path, secret: str) -> list[str]:
    """Files for the race; returns the URL paths (below the canvas) to request."""
    (root / "swap.txt").write_text(INSIDE)
    (root / "sub").mkdir(exist_ok=True)
    (root / "sub" / "notes.txt").write_text(INSIDE)
    (other_state / "notes.txt").write_text(f"another instance's file: {secret}")
    return ["swap.txt", "sub/notes.txt"]


class Swapper(threading.Thread):
    """As fast as it can: `swap.txt` is a plain file, then a link to the other instance's config (each
    atomically); `sub` is a real folder, then a link to the other instance's state dir."""

    def __init__(self, root: Path, other_state: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.other = other_state
        self.swaps = 0
        self.stop = threading.Event()

    def run(self) -> None:
        root, tmp = self.root, self.root / "swap-tmp"
        while not self.stop.is_set():
            os.symlink(self.other / "openclaw.json", tmp)
            os.replace(tmp, root / "swap.txt")
            tmp.write_text(INSIDE)
            os.replace(tmp, root / "swap.txt")
            os.rename(root / "sub", root / "sub-held")
            os.symlink(self.other, root / "sub")
            os.unlink(root / "sub")
            os.rename(root / "sub-held", root / "sub")
            self.swaps += 2


def race(ports: list[tuple[int, str]], root: Path, other_state: Path, secret: str, count: int) -> dict[str, Any]:
    """`count` GETs spread over `ports` ((port, URL prefix)) while the links swap; what came back."""
    paths = plant(root, other_state, secret)
    swapper = Swapper(root, other_state)
    conns = [(http.client.HTTPConnection("127.0.0.1", port, timeout=10), prefix) for port, prefix in ports]
    counts = {"requests": 0, "leaks": 0, "served": 0, "refused": 0, "other": 0}
    swapper.start()
    try:
        for i in range(count):
            conn, prefix = conns[i % len(conns)]
            conn.request("GET", f"{prefix}/{paths[(i // len(conns)) % len(paths)]}")
            resp = conn.getresponse()
            body = resp.read()
            counts["requests"] += 1
            if secret.encode() in body:
                counts["leaks"] += 1
            elif resp.status == 200 and body == INSIDE.encode():
                counts["served"] += 1
            elif resp.status == 404:
                counts["refused"] += 1
            else:
                counts["other"] += 1
    finally:
        swapper.stop.set()
        swapper.join()
        for conn, _ in conns:
            conn.close()
    return {**counts, "swaps": swapper.swaps}
