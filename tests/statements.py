"""Counting the SQL statements a request or a call sends, for the tests that pin that number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def counting(bind: sessionmaker[Session] | Engine | Connection,
             parameters: list[Any] | None = None) -> Iterator[list[str]]:
    """Yield the list of SQL texts sent through bind (a sessionmaker's engine, or an engine) while
    the block runs; the list may be cleared in between. Each statement's parameters go to
    parameters, when given."""
    target = bind.kw["bind"] if isinstance(bind, sessionmaker) else bind
    statements: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, sent: Any, *_: object) -> None:
        statements.append(statement)
        if parameters is not None:
            parameters.append(sent)

    event.listen(target, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", count)
