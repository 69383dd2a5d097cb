"""Engine, sessions and the declarative base; nothing domain-specific lives here.

Every row in Balie belongs to a shop. Reads go through `scoped()` / `get_scoped()`,
which require the shop, so an unscoped query has to be written on purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    create_engine,
    event,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator, TypeEngine

from balie import clock
from balie.errors import NotFound
from balie.inputs import valid_id

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Ids are 64-bit on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use balie.clock")
        value = value.astimezone(clock.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return clock.aware(value)


class Money(TypeDecorator[Decimal]):
    """An amount with two decimals, exact everywhere: NUMERIC(12, 2) on PostgreSQL; text on
    SQLite, which has no decimal type and would otherwise round through a float."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(String(24) if dialect.name == "sqlite" else Numeric(12, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.01"))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ShopScoped:
    """Mixin for every row that belongs to a shop."""

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), index=True)


class ShopScopedByComposite(ShopScoped):
    """Mixin for a shop's rows whose table has composite indexes starting with shop_id.

    No index on shop_id alone: it would cost every insert and update a write, and PostgreSQL,
    planning a statement before a new table has statistics, picks it over the composite
    index and then filters thousands of rows (ingest's statement did; docs/benchmarks.md)."""

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"))


def pk() -> Mapped[int]:
    return mapped_column(Id, primary_key=True, autoincrement=True)


def created_at() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=clock.now)


M = TypeVar("M", bound=ShopScoped)


def scoped(model: type[M], shop_id: int) -> Select[M]:
    return select(model).where(model.shop_id == shop_id)


def get_scoped(session: Session, model: type[M], shop_id: int, object_id: int) -> M:
    if not valid_id(object_id):  # beyond 64 bits no row can exist, and drivers refuse it
        raise NotFound(f"{model.__name__.lower()} {object_id} not found")
    row = session.scalars(scoped(model, shop_id).where(model.id == object_id)).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(f"{model.__name__.lower()} {object_id} not found")
    return row


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def lock_conflict(error: Exception) -> bool:
    """A deadlock or serialization failure (SQLSTATE 40P01, 40001): PostgreSQL stopped this
    transaction for another one's sake. Nothing is wrong with its work; it may run again."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40P01", "40001")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    # No pre-ping: it costs a round trip on every checkout (about 10 % of ingest). Connections
    # are recycled instead; one that died with the server fails one request, not all.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """`info` is copied into every session (the event bus travels this way)."""
    return sessionmaker(engine, expire_on_commit=False, info=info or {})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """For entry points outside HTTP (CLI, worker jobs): commit on success, else roll back."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
