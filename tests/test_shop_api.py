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


def test_webhooks_into_the_private_network_are_refused(settings, factory, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    """A shop admin must not make Balie call its own database port or the cloud's metadata address."""
    import dataclasses

    from balie.app import create_app

    strict = dataclasses.replace(settings, webhook_allow_private=False)
    with TestClient(create_app(strict, run_worker=False)) as client:
        for url in ("http://127.0.0.1:5432/", "http://localhost/hook", "http://10.1.2.3/hook",
                    "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://0.0.0.0/"):
            response = client.patch("/api/v1/shop", headers=tenant.headers, json={"webhook_url": url})
            assert response.status_code == 400, url
            assert response.json()["error"] == "invalid_webhook_url"
            assert "internal address" in response.json()["detail"], url


def test_delivery_to_a_private_address_is_refused_at_send_time(tenant: Tenant) -> None:
    from balie.channels.api.adapter import WebhookAdapter
    from balie.channels.base import Delivery, PermanentFailure
    from balie.shops.models import Shop

    shop = Shop(id=1, name="X", public_key="pk", webhook_secret="s", webhook_url="http://127.0.0.1:9/")
    delivery = Delivery(delivery_id="d", shop=shop, conversation=None, message=None,  # type: ignore[arg-type]
                        customer=None, identities=[], agent_name="")  # type: ignore[arg-type]
    import pytest

    with pytest.raises(PermanentFailure, match="internal address"):
        WebhookAdapter(allow_private=False).deliver(delivery)
