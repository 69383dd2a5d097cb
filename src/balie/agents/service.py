"""Agents: accounts, shop memberships, API tokens and browser sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from balie import clock, security
from balie.agents.models import ROLES, Agent, ApiToken, Membership, Team, TeamMember, WebSession
from balie.errors import Conflict, Invalid, NotFound, Unauthorized
from balie.inputs import valid_id
from balie.shops.models import Shop


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which shop: what every authenticated request resolves to."""

    agent_id: int
    shop_id: int
    role: str
    email: str
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise Invalid(f"not an e-mail address: {email!r}")
    return email


def create(
    session: Session, *, email: str, name: str = "", password: str | None = None
) -> Agent:
    email = normalise_email(email)
    if session.scalars(select(Agent).where(Agent.email == email)).first() is not None:
        raise Conflict(f"agent {email} already exists")
    agent = Agent(
        email=email,
        name=(name or email.split("@")[0]).strip()[:200],
        password_hash=security.hash_password(password) if password else None,
    )
    session.add(agent)
    session.flush()
    return agent


def by_email(session: Session, email: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.email == email.strip().lower())).first()


def set_password(session: Session, agent: Agent, password: str) -> None:
    if len(password) < 8:
        raise Invalid("a password needs at least 8 characters")
    agent.password_hash = security.hash_password(password)


def add_to_shop(session: Session, *, agent: Agent, shop: Shop, role: str = "agent") -> Membership:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    membership = session.scalars(
        select(Membership).where(Membership.shop_id == shop.id, Membership.agent_id == agent.id)
    ).first()
    if membership is None:
        membership = Membership(shop_id=shop.id, agent_id=agent.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


@dataclass(frozen=True)
class ShopOfAgent:
    id: int
    name: str
    role: str


def shops_of(session: Session, agent_id: int) -> list[ShopOfAgent]:
    """The shops an agent works in, by name; every signed-in page shows them."""
    rows = session.connection().execute(_SHOPS_OF, {"agent_id": agent_id})
    return [ShopOfAgent(*row) for row in rows]


# The columns of the two lookups every request makes (the agent behind a session or a token).
_agent, _token, _membership = Agent.__table__.c, ApiToken.__table__.c, Membership.__table__.c


_shop = Shop.__table__.c
_SHOPS_OF = (
    select(_shop.id, _shop.name, _membership.role)
    .select_from(Shop.__table__)
    .join(Membership.__table__, _membership.shop_id == _shop.id)
    .where(_membership.agent_id == bindparam("agent_id"))
    .order_by(_shop.name, _shop.id)
)

# Every request of a signed-in agent runs this; built once, on the tables (as _ACTOR_FOR_TOKEN).
_ACTOR = (
    select(_agent.id, _membership.shop_id, _membership.role, _agent.email, _agent.name)
    .select_from(Agent.__table__)
    .join(Membership.__table__, _membership.agent_id == _agent.id)
    .where(_agent.id == bindparam("agent_id"), _membership.shop_id == bindparam("shop_id"))
)


def actor(session: Session, *, agent_id: int, shop_id: int) -> Actor:
    if not (valid_id(agent_id) and valid_id(shop_id)):
        raise Unauthorized("this agent does not work in this shop")
    row = session.connection().execute(_ACTOR, {"agent_id": agent_id, "shop_id": shop_id}).first()
    if row is None:
        raise Unauthorized("this agent does not work in this shop")
    return Actor(*row)


def members(session: Session, shop_id: int) -> list[Agent]:
    query = (
        select(Agent)
        .join(Membership, Membership.agent_id == Agent.id)
        .where(Membership.shop_id == shop_id)
        .order_by(Agent.name)
    )
    return list(session.scalars(query))


def member(session: Session, *, shop_id: int, agent_id: int) -> Agent:
    if not valid_id(agent_id):
        raise NotFound(f"agent {agent_id} not found in this shop")
    agent = session.scalars(
        select(Agent)
        .join(Membership, Membership.agent_id == Agent.id)
        .where(Membership.shop_id == shop_id, Agent.id == agent_id)
    ).first()
    if agent is None:
        raise NotFound(f"agent {agent_id} not found in this shop")
    return agent


def create_team(session: Session, *, shop_id: int, name: str, agent_ids: list[int]) -> Team:
    team = Team(shop_id=shop_id, name=name)
    session.add(team)
    session.flush()
    for agent_id in agent_ids:
        session.add(TeamMember(shop_id=shop_id, team_id=team.id, agent_id=agent_id))
    session.flush()
    return team


# --- API tokens -------------------------------------------------------------------------


def create_token(session: Session, *, agent: Agent, shop: Shop, name: str = "") -> str:
    actor(session, agent_id=agent.id, shop_id=shop.id)  # must be a member
    token = security.new_token("blt")
    session.add(
        ApiToken(shop_id=shop.id, agent_id=agent.id, token_hash=security.token_hash(token), name=name)
    )
    session.flush()
    return token


# Every API request runs this: built once, on the tables rather than the ORM classes, and run
# on the session's connection, which skips the ORM's per-row work (docs/benchmarks.md).
_ACTOR_FOR_TOKEN = (
    select(_agent.id, _token.shop_id, _membership.role, _agent.email, _agent.name)
    .select_from(Agent.__table__)
    .join(ApiToken.__table__, _token.agent_id == _agent.id)
    .join(Membership.__table__, (_membership.agent_id == _agent.id) & (_membership.shop_id == _token.shop_id))
    .where(_token.token_hash == bindparam("token_hash"), _token.revoked_at.is_(None))
)


def actor_for_token(session: Session, token: str) -> Actor:
    """One query: every API request pays for it."""
    row = session.connection().execute(_ACTOR_FOR_TOKEN, {"token_hash": security.token_hash(token)}).first()
    if row is None:
        raise Unauthorized("unknown or revoked API token, or its agent no longer works in this shop")
    return Actor(*row)


# --- browser sessions -------------------------------------------------------------------


def authenticate(session: Session, *, email: str, password: str) -> Agent:
    agent = by_email(session, email)
    if not security.verify_password(agent.password_hash if agent else None, password):
        raise Unauthorized("wrong e-mail address or password")
    assert agent is not None
    return agent


def start_session(
    session: Session, *, agent: Agent, days: int, shop_id: int | None = None
) -> tuple[str, WebSession]:
    shops = shops_of(session, agent.id)
    if not shops:
        raise Unauthorized("this agent does not work in any shop yet")
    if shop_id is None or shop_id not in {shop.id for shop in shops}:
        shop_id = shops[0].id
    token = security.new_token("bls")
    agent.last_seen_at = clock.now()  # present from the moment they sign in
    web_session = WebSession(
        token_hash=security.token_hash(token),
        agent_id=agent.id,
        shop_id=shop_id,
        csrf_token=security.new_token("csrf"),
        expires_at=clock.now() + dt.timedelta(days=days),
    )
    session.add(web_session)
    session.flush()
    return token, web_session


def find_session(session: Session, token: str) -> WebSession | None:
    web_session = session.scalars(
        select(WebSession).where(WebSession.token_hash == security.token_hash(token))
    ).first()
    if web_session is None or web_session.expires_at <= clock.now():
        return None
    return web_session


@dataclass(frozen=True)
class SignedSession:
    """A browser session that is valid now, and the agent acting through it."""

    id: int
    csrf_token: str
    actor: Actor
    last_seen_at: dt.datetime | None = None  # the agent's presence, read in the same query


_web = WebSession.__table__.c
# Every page of a signed-in agent runs this: session, agent and membership in one trip.
_SIGNED_SESSION = (
    select(_web.id, _web.csrf_token, _web.expires_at,
           _agent.id, _membership.shop_id, _membership.role, _agent.email, _agent.name, _agent.last_seen_at)
    .select_from(WebSession.__table__)
    .join(Agent.__table__, _agent.id == _web.agent_id)
    .join(Membership.__table__, and_(_membership.agent_id == _web.agent_id, _membership.shop_id == _web.shop_id))
    .where(_web.token_hash == bindparam("token_hash"))
)


def signed_session(session: Session, token: str) -> SignedSession | None:
    """The session behind a cookie's token; None when it is unknown, expired, or its agent
    no longer works in the session's shop."""
    row = session.connection().execute(_SIGNED_SESSION, {"token_hash": security.token_hash(token)}).first()
    if row is None or row[2] <= clock.now():
        return None
    return SignedSession(id=row[0], csrf_token=row[1], actor=Actor(*row[3:8]), last_seen_at=clock.aware(row[8]))


def move_session(session: Session, session_id: int, shop_id: int) -> None:
    """Point a browser session at another shop (the caller checked the agent works there)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(shop_id=shop_id))


def end_session(session: Session, token: str) -> None:
    web_session = find_session(session, token)
    if web_session is not None:
        session.delete(web_session)


# --- presence ---------------------------------------------------------------------------

# Written at most once a minute per agent, so the pages agents keep open cost no write;
# "online" is a wider window than that, so an agent between two writes stays online.
PRESENCE_REFRESH = dt.timedelta(minutes=1)
ONLINE_WINDOW = dt.timedelta(minutes=5)


def touch_presence(session: Session, agent_id: int, *, last_seen_at: dt.datetime | None = None) -> bool:
    """Marks the agent as present now, at most once a minute. A caller that already read the
    agent's `last_seen_at` (the signed-in page does, in its one query) passes it, and a fresh
    one costs nothing; otherwise this is one conditional UPDATE. Returns whether it wrote
    (the caller commits: presence is kept even when the request's own work fails)."""
    now = clock.now()
    if last_seen_at is not None and now - last_seen_at < PRESENCE_REFRESH:
        return False
    result = session.execute(
        update(Agent)
        .where(Agent.id == agent_id, or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < now - PRESENCE_REFRESH))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def online_agents(session: Session, shop_id: int, now: dt.datetime) -> list[Agent]:
    """The shop's members seen within the last five minutes, by name."""
    query = (
        select(Agent)
        .join(Membership, Membership.agent_id == Agent.id)
        .where(Membership.shop_id == shop_id, Agent.last_seen_at >= now - ONLINE_WINDOW)
        .order_by(Agent.name, Agent.id)
    )
    return list(session.scalars(query))
