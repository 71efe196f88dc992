"""A small MCP server for the tests (the maintained SDK's MCPServer), over stdio, streamable HTTP
or SSE: `echo_server.py stdio|http|http-json|sse [PORT] [TAG]`. Its tools: echo, add, slow (sleeps),
broken (fails), picture (an image), grow (adds a tool and says the list changed), look (what
the server can see: its environment, folder and files), crash (exits); a resource and a prompt."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("echo-test")


@server.tool(description="Repeat the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Add two numbers; also reports how long the server took (ms).")
def add(a: float, b: float) -> str:
    return str(a + b)


@server.tool(description="Sleep, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "awake"


@server.tool(description="Always fails.")
def broken() -> str:
    raise RuntimeError("the broken tool broke, as it does")


@server.tool(description="An image and a caption.")
def picture() -> list[object]:
    from mcp.types import ImageContent, TextContent

    data = base64.b64encode(b"\x89PNG" + b"0" * 96).decode()
    return [TextContent(type="text", text="a tiny picture"),
            ImageContent(type="image", data=data, mimeType="image/png")]


@server.tool(description="Add a tool named extra and tell the client the tool list changed.")
async def grow(ctx: Context) -> str:
    def extra() -> str:
        return "extra!"

    server.add_tool(extra, name="extra", description="Appears after grow.")
    await ctx.session.send_tool_list_changed()  # what clients of the handshake protocols hear
    return "grown"


@server.tool(description="What the server sees: an environment variable, its folder, a file's text.")
def look(variable: str = "", path: str = "") -> str:
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return f"file: {fh.read()}"
        except OSError as exc:
            return f"file error: {exc.strerror}"
    return f"{variable}={os.environ.get(variable, '(unset)')} cwd={os.getcwd()}"


@server.tool(description="Exit at once, without answering.")
def crash() -> str:
    os._exit(3)


@server.tool(description="The time on the server, for timing checks.")
def clock() -> str:
    return repr(time.perf_counter())


@server.resource("note://greeting", description="A greeting, as a resource.")
def greeting() -> str:
    return "hello from a resource"


@server.prompt(description="Ask for a haiku.")
def haiku(topic: str) -> str:
    return f"Write a haiku about {topic}."


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "http":
        server.run("streamable-http", port=int(argv[2]))
    elif mode == "http-json":  # answers as plain JSON bodies rather than event streams
        server.run("streamable-http", port=int(argv[2]), json_response=True)
    else:
        server.run("sse", port=int(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
