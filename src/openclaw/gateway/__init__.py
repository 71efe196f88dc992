"""The gateway, in layers (each imports only those below it):

- `process/`: one gateway process from start to stop: the runner, the composition root
  (`services.py`), locks, config reload, the crash-loop breaker;
- `transport/`: the WebSocket server and its connections (handshake, outbox, guards), HTTP
  serving of probes, pages and the derived-port sidecars;
- `methods/` (RPC) and `httpapi/` (OpenAI-compatible HTTP): the handlers;
- `state/`: the running gateway as handlers see it, its services and hooks as Protocols;
- beside them, what every layer shares: settings, limits, protocol, params, scopes, auth, httpserve.

Import submodules directly; this package keeps its import cheap so client
commands never pull in the server stack.
"""
