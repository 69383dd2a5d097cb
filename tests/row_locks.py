"""Two transactions at once on PostgreSQL, in a set order: the second must wait for a row
lock the first holds, and then see what the first committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from servers import poll


def second_waits_for_first(factory: sessionmaker[Session], first: Callable[[Session], object],
                           second: Callable[[Session], object]) -> None:
    """Runs `first` in a transaction and keeps it open; runs `second` in another, on a thread,
    until it waits for a lock; then commits the first, and the second after it."""
    with factory() as one, factory() as two:
        two_pid = two.scalar(text("select pg_backend_pid()"))
        first(one)
        failure: list[BaseException] = []

        def run_second() -> None:
            try:
                second(two)
                two.commit()
            except BaseException as error:
                failure.append(error)

        thread = threading.Thread(target=run_second)
        thread.start()
        with factory() as watcher:
            waiting = poll(lambda: watcher.scalar(text("select wait_event_type from pg_stat_activity where pid = :pid"),
                                                  {"pid": two_pid}),
                           lambda kind: kind == "Lock", time.monotonic() + 10)
        one.commit()
        thread.join(timeout=10)
    assert waiting == "Lock", "the second transaction never waited for the first one's lock"
    assert not thread.is_alive() and not failure, failure
