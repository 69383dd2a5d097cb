"""What a running Balie process holds: settings, database, event bus, file store, limiter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from balie import events
from balie.config import Settings
from balie.db import make_engine, make_sessionmaker
from balie.ratelimit import Limiter, make_limiter
from balie.storage import FileStore


@dataclass
class Context:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: events.Bus
    store: FileStore
    limiter: Limiter


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
    )
