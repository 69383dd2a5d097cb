"""Presence: who is online for the widget, written at most once a minute."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.agents.models import Agent
from factories import Tenant
from statements import counting
from ui_support import sign_in


def last_seen(factory: sessionmaker[Session], agent_id: int) -> dt.datetime | None:
    with factory() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        return clock.aware(agent.last_seen_at)


def updates_during(factory: sessionmaker[Session], work) -> list[str]:  # type: ignore[no-untyped-def]
    with counting(factory) as statements:
        work()
    return [statement for statement in statements if statement.lstrip().upper().startswith("UPDATE AGENT")]


def test_touch_writes_at_most_once_a_minute(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    start = frozen_clock.current
    with factory() as session:
        assert agent_service.touch_presence(session, tenant.agent_id)
        session.commit()
        assert not agent_service.touch_presence(session, tenant.agent_id)  # fresh: the UPDATE matches nothing
        frozen_clock.advance(seconds=30)
        assert not agent_service.touch_presence(session, tenant.agent_id, last_seen_at=start)
        frozen_clock.advance(seconds=31)
        assert agent_service.touch_presence(session, tenant.agent_id, last_seen_at=start)
        session.commit()
    assert last_seen(factory, tenant.agent_id) == start + dt.timedelta(seconds=61)


def test_signed_in_pages_keep_the_agent_present_without_a_write_per_page(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    sign_in(client, tenant)  # signing in counts as being seen
    assert last_seen(factory, tenant.agent_id) == frozen_clock.current
    assert updates_during(factory, lambda: client.get("/inbox")) == []
    frozen_clock.advance(minutes=2)
    assert len(updates_during(factory, lambda: client.get("/inbox"))) == 1
    assert last_seen(factory, tenant.agent_id) == frozen_clock.current
    assert updates_during(factory, lambda: client.get("/inbox")) == []


def test_online_agents_are_the_shops_members_seen_in_five_minutes(
    factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session:
        agent_service.touch_presence(session, tenant.agent_id)
        agent_service.touch_presence(session, other_tenant.agent_id)
        session.commit()
        now = frozen_clock.current
        assert [a.id for a in agent_service.online_agents(session, tenant.shop_id, now)] == [tenant.agent_id]
        later = now + dt.timedelta(minutes=5, seconds=1)
        assert agent_service.online_agents(session, tenant.shop_id, later) == []
