"""Request dependencies: the context, a database session per request, the acting agent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from balie.agents import service as agent_service
from balie.agents.service import Actor
from balie.errors import Unauthorized
from balie.web.context import Context


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def get_db(request: Request) -> Iterator[Session]:
    """The request owns the transaction: endpoints call commit(); anything else rolls back."""
    session = get_context(request).factory()
    try:
        yield session
    finally:
        session.close()


def api_actor(request: Request, db: Annotated[Session, Depends(get_db)]) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token: Authorization: Bearer <token>")
    return agent_service.actor_for_token(db, token.strip())


DB = Annotated[Session, Depends(get_db)]
ApiActor = Annotated[Actor, Depends(api_actor)]
Ctx = Annotated[Context, Depends(get_context)]
