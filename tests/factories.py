"""Small factories and helpers shared by the tests (import them from here, not from conftest)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.shops import service as shop_service

STRICT = os.environ.get("BALIE_TEST_STRICT") == "1"


def unavailable(reason: str) -> None:
    """Skip on a laptop; fail in CI (BALIE_TEST_STRICT=1), where every service must be there."""
    if STRICT:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass
class Tenant:
    shop_id: int
    agent_id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_tenant(factory: sessionmaker[Session], name: str = "Winkel", email: str | None = None,
                webhook_url: str | None = None, password: str = "correct horse") -> Tenant:
    with factory() as session, session.begin():
        shop = shop_service.create(session, name=name, webhook_url=webhook_url)
        agent = agent_service.create(session, email=email or f"agent-{uuid.uuid4().hex[:6]}@example.test",
                                     name="Ada Agent", password=password)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="admin")
        token = agent_service.create_token(session, agent=agent, shop=shop)
        return Tenant(shop_id=shop.id, agent_id=agent.id, email=agent.email, token=token)


def colleague(factory: sessionmaker[Session], tenant: Tenant, role: str = "agent") -> Tenant:
    """Another agent in the tenant's shop, with their own token (an agent, not an admin, by default)."""
    with factory() as session, session.begin():
        shop = shop_service.get(session, tenant.shop_id)
        agent = agent_service.create(session, email=f"collega-{uuid.uuid4().hex[:6]}@example.test",
                                     name="Cas Collega", password="correct horse")
        agent_service.add_to_shop(session, agent=agent, shop=shop, role=role)
        token = agent_service.create_token(session, agent=agent, shop=shop)
        return Tenant(shop_id=shop.id, agent_id=agent.id, email=agent.email, token=token)


def post_message(client: TestClient, tenant: Tenant, **body: object) -> dict[str, object]:
    payload = {"customer": {"email": "klant@example.nl", "name": "Klaas Klant"}, "text": "Hallo!"}
    payload.update(body)
    response = client.post("/api/v1/messages", json=payload, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]

