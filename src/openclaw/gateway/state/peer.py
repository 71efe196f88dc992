"""A client connection as the gateway's state and its method handlers see it: who it is, what it may
do, and how to send to it or close it. The transport's `Connection` is one."""

from __future__ import annotations

from typing import Any, Protocol


class Buffered(Protocol):
    """What a connection holds waiting to be sent."""

    @property
    def buffered(self) -> int: ...

    @property
    def peak(self) -> int: ...


class Peer(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def remote(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def scopes(self) -> list[str]: ...

    @property
    def client(self) -> dict[str, Any]: ...

    @property
    def device_id(self) -> str | None: ...

    @property
    def authenticated(self) -> bool: ...

    @property
    def ephemeral(self) -> bool: ...

    @property
    def in_flight(self) -> int: ...

    @property
    def outbox(self) -> Buffered: ...

    def send(self, frame: dict[str, Any]) -> None: ...

    def send_event(self, event: str, payload: bytes) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...
