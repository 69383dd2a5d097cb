"""Helpers shared by the follow-up tests."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.agents.service import Actor
from balie.follow_ups import service as follow_up_service
from balie.follow_ups.service import FollowUp
from factories import Tenant


def actor(factory: sessionmaker[Session], tenant: Tenant) -> Actor:
    with factory() as session:
        return agent_service.actor(session, agent_id=tenant.agent_id, shop_id=tenant.shop_id)


def schedule(factory: sessionmaker[Session], tenant: Tenant, conversation_id: int, due_at: dt.datetime,
             note: str = "Nagaan of PostNL het pakket heeft gevonden") -> FollowUp:
    with factory() as session, session.begin():
        follow_up, _ = follow_up_service.schedule(session, actor(factory, tenant), conversation_id,
                                                  due_at=due_at, note=note)
        return follow_up


def conversation(client: TestClient, tenant: Tenant, conversation_id: int) -> dict[str, object]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def notes(client: TestClient, tenant: Tenant, conversation_id: int) -> list[dict[str, object]]:
    messages = conversation(client, tenant, conversation_id)["messages"]
    return [message for message in messages if message["direction"] == "note"]  # type: ignore[union-attr]
