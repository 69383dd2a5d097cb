"""Context.commit_retrying, the one place request handlers commit what a platform or a
customer sent: a transaction PostgreSQL ends as a deadlock's victim runs again, so the
sender gets its answer instead of a 500; other database errors are not retried."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from balie.shops.models import Shop
from factories import Tenant
from servers import poll

ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def rename(session: Session, shop_id: int, name: str) -> None:
    session.execute(update(Shop).where(Shop.id == shop_id).values(name=name))


@ONLY_POSTGRESQL
def test_the_deadlock_victim_runs_again_and_both_writes_are_kept(
        app: Any, factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant) -> None:
    """The handler (`second`) locks shop B, then A; another transaction (`first`) holds A and
    then asks for B. The handler's check runs first (its deadlock_timeout is the shorter), so
    PostgreSQL ends the handler's transaction; the second run waits for `first` instead."""
    a, b = tenant.shop_id, other_tenant.shop_id
    runs: list[int] = []
    failure: list[BaseException] = []
    with factory() as first, factory() as second:
        # Each session keeps its connection until its transaction ends: the settings hold.
        second.execute(text("SET deadlock_timeout = '100ms'"))
        second_pid = second.scalar(text("select pg_backend_pid()"))
        first.execute(text("SET deadlock_timeout = '10s'"))
        rename(first, a, "Eerste")

        def work() -> None:
            runs.append(len(runs) + 1)
            rename(second, b, f"Tweede {len(runs)}")
            rename(second, a, f"Tweede {len(runs)}")

        def handler() -> None:
            try:
                app.state.context.commit_retrying(second, work)
            except BaseException as error:  # reported below, in the test's thread
                failure.append(error)

        thread = threading.Thread(target=handler)
        thread.start()
        with factory() as watcher:
            waiting = poll(lambda: watcher.scalar(text("select wait_event_type from pg_stat_activity where pid = :pid"),
                                                  {"pid": second_pid}), lambda kind: kind == "Lock",
                           time.monotonic() + 10)
        assert waiting == "Lock"
        rename(first, b, "Eerste")  # the cycle: PostgreSQL ends the handler's first run
        first.commit()
        thread.join(timeout=10)

    assert not thread.is_alive() and not failure, failure
    assert runs == [1, 2]
    with factory() as session:
        names = dict(session.execute(text("select id, name from shop where id in (:a, :b)"), {"a": a, "b": b}).all())
    assert names == {a: "Tweede 2", b: "Tweede 2"}  # the second run came after the first's commit


def test_other_database_errors_are_not_run_again(app: Any, factory: sessionmaker[Session]) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        session.execute(text("select * from no_such_table"))

    with factory() as session, pytest.raises(DBAPIError):
        app.state.context.commit_retrying(session, work)
    assert runs == [1]
