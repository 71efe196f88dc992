#!/usr/bin/env python3
"""Drive upstream's interactive `openclaw configure --section gateway` in a pseudo-terminal (its
prompts have no flags), answering: port 19789, the bind mode after loopback, defaults elsewhere.

    HOME=/tmp/x python scripts/upstream_configure.py /path/to/openclaw-upstream
"""

from __future__ import annotations

import re
import sys
import time

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DOWN, ENTER = "\x1b[B", "\r"


def main() -> None:
    child = pexpect.spawn(sys.argv[1], ["configure", "--section", "gateway"], encoding="utf-8", timeout=60,
                          dimensions=(40, 120))
    while True:
        index = child.expect(["◆", pexpect.EOF])
        if index == 1:
            break
        child.expect(r"[^\r\n]*\r\n")
        title = ANSI.sub("", child.match.group(0)).strip()
        time.sleep(0.3)  # let the prompt finish drawing
        if title.startswith("Gateway port"):
            child.send("\x7f" * 8 + "19789" + ENTER)
        elif title.startswith("Gateway bind mode"):
            child.send(DOWN + ENTER)
        else:
            child.send(ENTER)
    child.close()
    if child.exitstatus not in (0, None):
        sys.exit(f"configure exited {child.exitstatus}")


if __name__ == "__main__":
    main()
