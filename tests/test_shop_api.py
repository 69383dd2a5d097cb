"""/api/v1/shop: an admin configures the webhook that replies go to."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.shops.models import Shop
from factories import Tenant


def test_admin_sets_webhook_url(client: TestClient, tenant: Tenant) -> None:
    shop = client.get("/api/v1/shop", headers=tenant.headers).json()
    assert shop["webhook_url"] is None and shop["webhook_secret"].startswith("whsec_")
    changed = client.patch("/api/v1/shop", headers=tenant.headers,
                           json={"webhook_url": "https://hooks.example.nl/balie", "reopen_window_days": 3})
    assert changed.status_code == 200
    assert changed.json()["webhook_url"] == "https://hooks.example.nl/balie"
    assert changed.json()["reopen_window_days"] == 3
    off = client.patch("/api/v1/shop", headers=tenant.headers, json={"webhook_url": None})
    assert off.json()["webhook_url"] is None


def test_bad_settings_are_refused(client: TestClient, tenant: Tenant) -> None:
    for body in ({"webhook_url": "javascript:alert(1)"}, {"webhook_url": "ftp://x"}, {"reopen_window_days": -1},
                 {"language": "fr"}, {"public_key": "mine"}, {"name": ""}):
        response = client.patch("/api/v1/shop", headers=tenant.headers, json=body)
        assert response.status_code in (400, 422), body
        assert response.json()["error"] in ("invalid_webhook_url", "validation_error")
    assert client.get("/api/v1/shop", headers=tenant.headers).json()["webhook_url"] is None


def test_only_admins_change_settings(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="colleague@example.nl", password="correct horse")
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
        token = agent_service.create_token(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/shop", headers=headers).json()["webhook_secret"] is None
    response = client.patch("/api/v1/shop", headers=headers, json={"webhook_url": "https://evil.example/"})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
