"""The models and the one migration history agree, on SQLite and PostgreSQL (`alembic check`)."""

from __future__ import annotations

from balie import migrate
from balie.db import make_engine


def test_models_match_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.check(engine)  # raises when autogenerate would find something to add or drop
    finally:
        engine.dispose()
