"""The gateway: process runner, v4 WebSocket protocol server, HTTP probes and RPC methods.

Import submodules directly; this package keeps its import cheap so client
commands never pull in the server stack.
"""
