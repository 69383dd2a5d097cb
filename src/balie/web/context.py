"""What a running Balie process holds: settings, database, event bus, file store, limiter."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from balie import events
from balie.config import Settings
from balie.db import lock_conflict, make_engine, make_sessionmaker
from balie.ratelimit import Limiter, make_limiter
from balie.storage import FileStore

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: events.Bus
    store: FileStore
    limiter: Limiter
    # SQLite: a read-then-write ingest must not interleave with another in this process
    # (SQLite takes its write lock only at the first write). PostgreSQL locks rows instead.
    ingest_lock: contextlib.AbstractContextManager[object]


    def commit_retrying(self, session: Session, work: Callable[[], T]) -> T:
        """Runs `work` and commits, under the ingest lock. After a unique-key conflict (the same
        customer created, or the same message stored, by someone else just now) or a deadlock
        PostgreSQL ended in the other transaction's favour (a parcel and its order locked in
        two orders by two deliveries) it rolls back and runs once more: the second run finds
        their rows, or waits for them."""
        with self.ingest_lock:
            try:
                result = work()
                session.commit()
            except (IntegrityError, OperationalError) as error:
                if isinstance(error, OperationalError) and not lock_conflict(error):
                    raise
                session.rollback()
                result = work()
                session.commit()
        return result


def build(settings: Settings) -> Context:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    bus = events.make_bus(settings.redis_url, settings.redis_prefix)
    return Context(
        settings=settings,
        engine=engine,
        factory=make_sessionmaker(engine, events.session_info(bus)),
        bus=bus,
        store=FileStore(settings.data_dir),
        limiter=make_limiter(settings.redis_url, settings.redis_prefix),
        ingest_lock=threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext(),
    )
