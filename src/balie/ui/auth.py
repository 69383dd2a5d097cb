"""Who is looking at the UI: the session cookie, CSRF checks, and the dependencies views use.

The cookie holds a random token; the database keeps its hash and the session's CSRF
token. Every state-changing request carries that CSRF token, as the `csrf_token` form
field or the `X-CSRF-Token` header (the page's fetch calls).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from balie.agents import service as agent_service
from balie.agents.service import Actor
from balie.errors import Forbidden
from balie.ui.routing import CsrfRejected, LoginRequired
from balie.web.deps import DB

SESSION_COOKIE = "balie_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Signed:
    """A logged-in agent in the shop their session points at."""

    actor: Actor
    session_id: int
    csrf_token: str
    token: str


def require_admin(signed: Signed) -> None:
    """Settings pages: only the shop's admins change them."""
    if not signed.actor.is_admin:
        raise Forbidden("only a shop admin can change its settings", code="admin_only")


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    return token or None


def signed_in(request: Request, db: DB) -> Signed:
    token = session_token(request)
    # None also when the agent was removed from the session's shop since logging in.
    found = agent_service.signed_session(db, token) if token else None
    if token is None or found is None:
        raise LoginRequired
    # Presence (who is online for the chat widget): a write at most once a minute, committed
    # on its own so that it stays even when the page's own work fails or only reads.
    if agent_service.touch_presence(db, found.actor.agent_id, last_seen_at=found.last_seen_at):
        db.commit()
    return Signed(actor=found.actor, session_id=found.id, csrf_token=found.csrf_token, token=token)


def tokens_match(sent: str | None, expected: str | None) -> bool:
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def form_value(request: Request, name: str) -> str | None:
    form = await request.form()  # parsed once; FastAPI's Form() parameters reuse it
    value = form.get(name)
    return value if isinstance(value, str) else None


async def csrf_checked(request: Request, signed: Annotated[Signed, Depends(signed_in)]) -> Signed:
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        sent = await form_value(request, CSRF_FIELD)
    if not tokens_match(sent, signed.csrf_token):
        raise CsrfRejected
    return signed


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None,
               http_only: bool = True) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=http_only, samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")


Agent = Annotated[Signed, Depends(signed_in)]
CheckedAgent = Annotated[Signed, Depends(csrf_checked)]
