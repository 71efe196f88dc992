"""aiohttp imported in a thread while the main thread starts a gateway up to its server.

Why: of a bare `import aiohttp`, a large part (80-100 ms here) is `aiohttp.connector` building two
TLS contexts at import, which loads the system's CA bundle in C with the GIL released. Started
before click and the CLI are imported (`openclaw.cli.main`), that time overlaps the main thread's
own work (click, the CLI, the runner's modules, config, locks) instead of adding to it; the runner
joins it where the server is built (`GatewayRunner._serve_loop`).

Why it is safe: importlib gives each module its own lock; a thread that wants a module another
thread is executing waits for it to finish, so a module still runs once and is seen whole. What
can go wrong is a circular import entered from its two ends by two threads at once (each gets the
other's half-built module). That cannot happen here: the thread runs exactly one statement,
`import aiohttp`, and nothing else ever runs in it; the main thread joins it (`join`) before it
imports anything that imports aiohttp or its dependencies (yarl, multidict, aiohappyeyeballs;
the runner imports the server and the services' aiohttp parts only after `join`, and a test
checks the runner's module imports none of them). Until then the two threads share only
standard-library modules (asyncio, ssl, typing, socket, ...), each entered whole by its
top-level name, none importing another in a circle; our own modules are never in the thread.
An error in the thread is kept and raised again on the main thread by `join`, where the gateway
would have imported aiohttp anyway. Only `openclaw gateway` / `openclaw gateway run` start it
(`openclaw.cli.main.runs_gateway`); every other command never creates the thread.
"""

from __future__ import annotations

import threading

_thread: threading.Thread | None = None
_error: BaseException | None = None


def _import() -> None:
    global _error
    try:
        import aiohttp  # noqa: F401 - the whole point: its import, off the main thread
    except BaseException as exc:  # noqa: BLE001 - kept for join, which raises it where it matters
        _error = exc


def start() -> None:
    """Begin importing aiohttp in a thread (once). Not a daemon: the interpreter never exits
    with an import half done."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_import, name="openclaw-preload-aiohttp")
        _thread.start()


def join() -> None:
    """Wait for the import started by `start` (if any) and raise what it raised."""
    global _error
    if _thread is not None:
        _thread.join()
    if _error is not None:
        exc, _error = _error, None
        raise exc
