#!/usr/bin/env python3
"""What a Discord client costs a gateway: import time and memory of discord.py next to this
project's own gateway + REST client over aiohttp (which every gateway already holds).

Each variant runs in a fresh interpreter after importing aiohttp, asyncio and ssl, and reports
the extra wall time and RSS of importing the client and creating it. discord.py is not a dependency:
to compare, pass --discordpy with a directory it is installed in (`pip install --target DIR discord.py`).

    python bench/discord_clients.py --discordpy /tmp/dpylib --runs 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_clients import print_table

VARIANTS = {
    "this project: channels.discord (+ discord_api, discord_gateway)":
        "import asyncio\nfrom openclaw.channels import discord\n"
        "async def make():\n    import aiohttp\n    async with aiohttp.ClientSession() as s:\n"
        "        discord.DiscordGateway(discord.DiscordApi(s, 'x'), 'x', None)\nasyncio.run(make())",
    "discord.py 2.x (discord.Client)":
        "import sys\nsys.path.insert(0, {dpy!r})\nimport asyncio, discord\n"
        "async def make():\n    discord.Client(intents=discord.Intents.default())\nasyncio.run(make())",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discordpy", default="", help="a directory discord.py is installed in")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dpy = repr(args.discordpy)
    variants = {name: None if "{dpy!r}" in code and not args.discordpy else code.replace("{dpy!r}", dpy)
                for name, code in VARIANTS.items()}
    print_table(variants, sys.executable, args.runs, "failed to import", "not measured (no --discordpy)")


if __name__ == "__main__":
    main()
