"""Which widget sockets this process holds, and routing the event bus to them.

One subscription to the bus per process, not one per socket: with thousands of visitors
connected, each event goes straight to the sockets of the one customer it concerns
(by shop and customer id) instead of being offered to every socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from balie.events import Bus, Event

log = logging.getLogger(__name__)

# What a socket does with an event for its customer (fetch and send what changed).
Handler = Callable[[Event], Awaitable[None]]
ROUTED = ("message.created", "chat.message", "chat.seen", "chat.typing")


class Hub:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._sockets: dict[tuple[int, int], set[Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()  # deliveries under way (kept referenced)

    @property
    def connections(self) -> int:
        return sum(len(handlers) for handlers in self._sockets.values())

    def join(self, shop_id: int, customer_id: int, handler: Handler) -> None:
        self._sockets.setdefault((shop_id, customer_id), set()).add(handler)

    def leave(self, shop_id: int, customer_id: int, handler: Handler) -> None:
        handlers = self._sockets.get((shop_id, customer_id))
        if handlers is not None:
            handlers.discard(handler)
            if not handlers:
                del self._sockets[(shop_id, customer_id)]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._route())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _route(self) -> None:
        async for item in self.bus.subscribe(None):
            if item.type not in ROUTED:
                continue
            customer_id = item.data.get("customer_id")
            if not isinstance(customer_id, int):
                continue
            for handler in list(self._sockets.get((item.shop_id, customer_id), ())):
                # A task each: a socket that reads the database for its event must not hold up
                # the events of every other socket behind it.
                task = asyncio.create_task(self._deliver(handler, item))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _deliver(handler: Handler, item: Event) -> None:
        try:
            await handler(item)
        except Exception:  # one broken socket must not stop the others
            log.exception("widget socket failed to take an event")
