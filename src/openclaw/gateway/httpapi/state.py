"""What the OpenAI-compatible endpoints keep between requests, held by the gateway's services
(not in module globals): the HTTP turns in flight, which session each recent response
continues, and the budget of request-body bytes held at once. All bounded; all survive an
in-process restart, as the agent runtime does."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from openclaw.gateway.httpapi.body import BodyBudget

if TYPE_CHECKING:
    from openclaw.agents.run import Run

MAX_IN_FLIGHT = 256  # HTTP turns running or waiting at once; beyond, 429 (each holds a connection)
MAX_REMEMBERED = 1000  # `previous_response_id`s a later request may continue


class HttpApiState:
    def __init__(self, body_budget_bytes: int) -> None:
        self.in_flight: set[str] = set()
        self.responses: OrderedDict[str, tuple[str, str]] = OrderedDict()  # response id -> (agent, session key)
        self.bodies = BodyBudget(body_budget_bytes)

    def full(self) -> bool:
        return len(self.in_flight) >= MAX_IN_FLIGHT

    def track(self, run: Run) -> None:
        if not run.finished:
            self.in_flight.add(run.id)
            run.done.add_done_callback(lambda _: self.in_flight.discard(run.id))

    def remember(self, response_id: str, agent: str, key: str) -> None:
        self.responses[response_id] = (agent, key)
        while len(self.responses) > MAX_REMEMBERED:
            self.responses.popitem(last=False)

    def recall(self, response_id: str) -> tuple[str, str] | None:
        return self.responses.get(response_id)


HTTP_API: web.AppKey[Callable[[], HttpApiState]] = web.AppKey("http_api")  # this gateway's, made on first use
