"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when configured),
the app with its worker run inline, and small factories."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, migrate, security
from balie.config import Settings
from balie.db import make_engine
from balie.models import metadata
from factories import Tenant, make_tenant, unavailable

# Argon2 at its lowest cost: the tests check what a password does, not how hard it is to guess.
security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "[postgresql]" in item.nodeid:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    url = os.environ.get("BALIE_TEST_DATABASE_URL")
    if not url:
        unavailable("BALIE_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert url is not None
    try:
        import psycopg

        with psycopg.connect(re.sub(r"^postgresql\+\w+://", "postgresql://", url), connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as error:
        unavailable(f"PostgreSQL unavailable at {url}: {error}")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("BALIE_TEST_REDIS_URL")
    if not url:
        unavailable("BALIE_TEST_REDIS_URL is not set (Redis tests)")
    assert url is not None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as error:
        unavailable(f"Redis unavailable at {url}: {error}")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "balie.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_base_url: str) -> Iterator[str]:
    """One schema for the whole run, migrated once; tests empty it instead of recreating it."""
    import psycopg

    schema = f"balie_test_{uuid.uuid4().hex[:10]}"
    raw = re.sub(r"^postgresql\+\w+://", "postgresql://", postgres_base_url)
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    sep = "&" if "?" in postgres_base_url else "?"
    url = re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", postgres_base_url)
    url = f"{url}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'drop schema "{schema}" cascade')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "balie.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_schema_url")
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(_emptying(conn)))
    engine.dispose()
    return url


def _emptying(conn: Connection) -> str:
    """Empties every table and restarts every id at 1. DELETE, children first, instead of
    TRUNCATE: a test leaves a few rows in a few of the 50 tables, and TRUNCATE's cost is per
    table (new files for each table and index): 0.3 to 1.2 s a test against 20 ms."""
    sequences = conn.scalars(text("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "WHERE c.relkind = 'S' AND n.nspname = current_schema()")).all()
    deletes = "; ".join(f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables))
    restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
    return f"{deletes}; SELECT {restarts}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The tests' webhook receivers listen on loopback.
    return Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_allow_private=True)


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    frozen = clock.FrozenClock(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    clock.set_clock(frozen)
    yield frozen
    clock.reset()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from balie.app import create_app

    application = create_app(settings, run_worker=False)
    yield application
    application.state.context.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def factory(app) -> sessionmaker[Session]:  # type: ignore[no-untyped-def]
    return app.state.context.factory  # type: ignore[no-any-return]


@pytest.fixture
def tenant(factory: sessionmaker[Session]) -> Tenant:
    return make_tenant(factory)


@pytest.fixture
def other_tenant(factory: sessionmaker[Session]) -> Tenant:
    return make_tenant(factory, name="Andere Winkel")
