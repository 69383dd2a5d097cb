"""Live updates as server-sent events: what the agent UI and integrations listen to.

Each event names what changed (`message.created`, `conversation.updated`, ...); clients
refetch what they show. A comment line every 15 s keeps proxies and dead tabs honest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from balie.events import Bus, Event
from balie.web.deps import DB, ApiActor

HEARTBEAT_SECONDS = 15.0
# How often a stream calls its `on_alive` (an agent's presence): a minute is what presence needs.
ALIVE_SECONDS = 60.0
router = APIRouter(prefix="/api/v1", tags=["events"])


def format_event(item: Event) -> str:
    return f"event: {item.type}\ndata: {json.dumps(item.data, separators=(',', ':'))}\n\n"


async def event_stream(
    request: Request, bus: Bus, shop_id: int, on_alive: Callable[[], Awaitable[None]] | None = None
) -> AsyncIterator[str]:
    """Yields SSE frames for one shop until the client goes away; calls `on_alive` about once
    a minute while the client is still there."""
    loop = asyncio.get_running_loop()
    alive_at = loop.time()
    subscription = bus.subscribe(shop_id).__aiter__()
    # Subscribe before the first frame goes out, so nothing published after "ready" is missed.
    next_event: asyncio.Task[Event] = asyncio.ensure_future(subscription.__anext__())
    yield "retry: 1000\nevent: ready\ndata: {}\n\n"
    try:
        while not await request.is_disconnected():
            if on_alive is not None and loop.time() - alive_at >= ALIVE_SECONDS:
                alive_at = loop.time()
                await on_alive()
            done, _ = await asyncio.wait({next_event}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield ": keep-alive\n\n"
                continue
            item = next_event.result()
            next_event = asyncio.ensure_future(subscription.__anext__())
            if item.type.startswith("outbox."):
                continue  # internal: wakes the dispatcher, means nothing to a client
            yield format_event(item)
    finally:
        next_event.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await next_event
        await subscription.aclose()  # type: ignore[attr-defined]


def sse_response(
    request: Request, bus: Bus, shop_id: int, on_alive: Callable[[], Awaitable[None]] | None = None
) -> StreamingResponse:
    return StreamingResponse(
        event_stream(request, bus, shop_id, on_alive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/events", response_class=StreamingResponse)
def events(request: Request, actor: ApiActor, db: DB) -> StreamingResponse:
    """Server-sent events for the token's shop: message.created, conversation.updated,
    customer.merged, message.delivery."""
    db.close()  # a stream lasts hours: it must not hold one of the pool's connections
    return sse_response(request, request.app.state.context.bus, actor.shop_id)
