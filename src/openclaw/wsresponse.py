"""A server-side WebSocket that lets go of its connection once closed (every WebSocket we serve)."""

from __future__ import annotations

from aiohttp import web


class WebSocket(web.WebSocketResponse):
    """aiohttp's WebSocket, minus a heartbeat that outlives the socket.

    aiohttp re-arms the heartbeat timer whenever data arrives, even after `close()` has
    cancelled it: the peer's close frame answering ours (what every real client sends) arms
    a 30 s timer, then a 15 s pong timer, and each holds the whole connection (request,
    protocol, parser, buffers: ~10 KB). A rejected handshake therefore cost 10 KB for 45 s,
    so a sequential attacker grew the gateway by ~100 MB per 10,000 attempts. A closed
    socket never re-arms here.
    """

    def _reset_heartbeat(self) -> None:
        if not self.closed:
            super()._reset_heartbeat()
