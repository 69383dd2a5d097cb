"""Domain events, published only after the transaction that raised them commits.

In one process the bus is in memory. With BALIE_REDIS_URL set, events travel over
Redis pub/sub so that every `balie serve` process can push them to its agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    shop_id: int
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        body = json.loads(raw)
        return cls(type=str(body["type"]), shop_id=int(body["shop_id"]), data=dict(body["data"]))


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, shop_id: int | None) -> None:
        self.loop = loop
        self.shop_id = shop_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    def offer(self, item: Event) -> None:
        if self.shop_id is not None and item.shop_id != self.shop_id:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:  # a stuck browser tab must not hold up everybody else
            log.warning("dropping event for a slow subscriber")


class Bus:
    """In-memory fan-out; thread-safe publish, asyncio subscribers."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Event], None]] = []

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Synchronous in-process listeners (for example: wake the dispatcher)."""
        self._listeners.append(listener)

    def publish(self, item: Event) -> None:
        self.deliver_local(item)

    def deliver_local(self, item: Event) -> None:
        for listener in self._listeners:
            try:
                listener(item)
            except Exception:
                log.exception("event listener failed")
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            if subscriber.loop.is_closed():
                continue
            subscriber.loop.call_soon_threadsafe(subscriber.offer, item)

    async def subscribe(self, shop_id: int | None = None) -> AsyncIterator[Event]:
        subscriber = _Subscriber(asyncio.get_running_loop(), shop_id)
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)

    async def start(self) -> None:
        """Nothing to start in memory."""

    async def stop(self) -> None:
        """Nothing to stop in memory."""


class RedisBus(Bus):
    """Publishes to Redis; a listener task delivers what Redis sends to local subscribers."""

    def __init__(self, url: str, prefix: str = "balie") -> None:
        super().__init__()
        import redis

        self.url = url
        self.channel = f"{prefix}:events"
        self._redis = redis.Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None

    def publish(self, item: Event) -> None:
        try:
            self._redis.publish(self.channel, item.to_json())
        except Exception:
            # Redis down must not lose the change (it is committed); agents see it on reload.
            log.exception("could not publish to Redis; delivering locally only")
            self.deliver_local(item)

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(ready))
        await asyncio.wait_for(ready.wait(), timeout=10)

    async def _listen(self, ready: asyncio.Event) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.deliver_local(Event.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis subscription lost; reconnecting")
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._redis.close()


def make_bus(redis_url: str | None, prefix: str = "balie") -> Bus:
    return RedisBus(redis_url, prefix) if redis_url else Bus()


_PENDING = "balie.pending_events"
_BUS_KEY = "balie.bus"


def session_info(bus: Bus) -> dict[str, Any]:
    """What a sessionmaker needs in its `info` so its sessions publish to `bus`."""
    return {_BUS_KEY: bus}


def publish_on_commit(session: Session, item: Event) -> None:
    session.info.setdefault(_PENDING, []).append(item)


@contextlib.contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """`session.begin_nested()`, whose events go with it when it rolls back: what was undone
    must not be announced when the outer transaction commits."""
    mark = len(session.info.get(_PENDING, []))
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del session.info.get(_PENDING, [])[mark:]
        raise


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending: list[Event] = session.info.pop(_PENDING, [])
    bus: Bus | None = session.info.get(_BUS_KEY)
    if bus is None:
        return
    for item in pending:
        bus.publish(item)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
