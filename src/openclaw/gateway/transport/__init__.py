"""The transport: the WebSocket server and its connections, handshake, guards, HTTP serving and probes."""
