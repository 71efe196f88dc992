"""Recent conversations in memory, so a turn does not re-read and re-decode its whole transcript.

Bounded by count and by size; written through by the session store, whose
database stays the record (a miss just reads it again).
"""

from __future__ import annotations

from collections import OrderedDict

from openclaw.models.types import Message

CACHE_SESSIONS = 128  # histories kept in memory, most recently used first...
CACHE_BYTES = 8 * 1024 * 1024  # ...within this budget (roughly: characters plus per-message overhead)
MESSAGE_OVERHEAD = 300


class HistoryCache:
    """session id -> the messages the model sees, least recently used first out."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[list[Message], int]] = OrderedDict()
        self.size = 0

    @staticmethod
    def weight(message: Message) -> int:
        return len(message.content) + MESSAGE_OVERHEAD + sum(len(str(c.arguments)) for c in message.tool_calls)

    def get(self, session_id: str) -> list[Message] | None:
        item = self._items.get(session_id)
        if item is None:
            return None
        self._items.move_to_end(session_id)
        return list(item[0])

    def put(self, session_id: str, messages: list[Message]) -> None:
        self.drop(session_id)
        weight = sum(self.weight(m) for m in messages)
        self._items[session_id] = (list(messages), weight)
        self.size += weight
        self._trim()

    def add(self, session_id: str, message: Message) -> None:
        item = self._items.get(session_id)
        if item is not None:
            item[0].append(message)
            weight = self.weight(message)
            self._items[session_id] = (item[0], item[1] + weight)
            self.size += weight
            self._trim()

    def drop(self, session_id: str) -> None:
        item = self._items.pop(session_id, None)
        if item is not None:
            self.size -= item[1]

    def _trim(self) -> None:
        while self._items and (len(self._items) > CACHE_SESSIONS or self.size > CACHE_BYTES):
            self.size -= self._items.popitem(last=False)[1][1]
