"""Request dependencies: the context, a database session per request, the acting agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie.agents import service as agent_service
from balie.agents.service import Actor
from balie.errors import Unauthorized
from balie.web.context import Context

# The cheap dependencies are `async def`: FastAPI runs a plain `def` dependency in its
# thread pool, and each hop there cost a request more CPU than the work (docs/benchmarks.md).


async def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request owns the transaction: endpoints call commit(); anything else rolls back."""
    session = request.app.state.context.factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # a rollback: I/O, kept off the event loop
        else:
            session.close()


async def api_token(request: Request) -> str:
    """The bearer token as sent (checked against the database by `api_actor`)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token: Authorization: Bearer <token>")
    return token.strip()


def api_actor(token: Annotated[str, Depends(api_token)], db: Annotated[Session, Depends(get_db)]) -> Actor:
    return agent_service.actor_for_token(db, token)


DB = Annotated[Session, Depends(get_db)]
ApiActor = Annotated[Actor, Depends(api_actor)]
ApiToken = Annotated[str, Depends(api_token)]
Ctx = Annotated[Context, Depends(get_context)]
