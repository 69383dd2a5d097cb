"""/api/v1/commerce/connections: an admin links the shop to a platform; the secret is shown
once; agents cannot; bad secrets and unknown platforms are refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.commerce import connections, deliveries
from balie.shops.models import Shop
from factories import Tenant

URL = "/api/v1/commerce/connections"


def test_an_admin_connects_shopify_and_the_secret_is_shown_once(client: TestClient, tenant: Tenant,
                                                                  factory: sessionmaker[Session]) -> None:
    put = client.put(f"{URL}/shopify", json={"secret": "shpss_0123456789abcdef"}, headers=tenant.headers)
    listed = client.get(URL, headers=tenant.headers).json()["items"]

    assert put.status_code == 200, put.text
    with factory() as session:
        key = session.get_one(Shop, tenant.shop_id).public_key
        found = connections.by_public_key(session, key, "shopify")
    assert put.json()["secret"] == "shpss_0123456789abcdef"
    assert put.json()["webhook_url"] == f"/webhooks/shopify/{key}"
    assert [(item["platform"], item["secret"]) for item in listed] == [("shopify", None)]
    assert found is not None and found.secret == "shpss_0123456789abcdef"


def test_a_tracking_connection_without_a_secret_gets_one_made_by_balie(client: TestClient, tenant: Tenant) -> None:
    first = client.put(f"{URL}/tracking", json={}, headers=tenant.headers).json()
    second = client.put(f"{URL}/tracking", json={}, headers=tenant.headers).json()

    assert len(first["secret"]) >= 32 and first["secret"] != second["secret"]


def test_bad_connections_are_refused(client: TestClient, tenant: Tenant) -> None:
    short = client.put(f"{URL}/shopify", json={"secret": "kort"}, headers=tenant.headers)
    unknown = client.put(f"{URL}/magento", json={"secret": "0123456789abcdef0"}, headers=tenant.headers)
    bad_url = client.put(f"{URL}/woocommerce", json={"secret": "0123456789abcdef0", "api_url": "ftp://winkel.nl"},
                         headers=tenant.headers)
    hostile = client.put(f"{URL}/shopify", json={"secret": "0123456789abcdef\n0"}, headers=tenant.headers)

    assert short.status_code == 400 and short.json()["detail"].startswith("secret:")
    assert unknown.status_code == 404
    assert bad_url.status_code == 400 and bad_url.json()["detail"].startswith("api_url:")
    assert hostile.status_code == 400
    assert client.delete(f"{URL}/shopify", headers=tenant.headers).status_code == 404


def test_only_admins_connect(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", password="correct horse")
        shop = session.get_one(Shop, tenant.shop_id)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
        token = agent_service.create_token(session, agent=agent, shop=shop)
    headers = {"Authorization": f"Bearer {token}"}

    response = client.put(f"{URL}/shopify", json={"secret": "0123456789abcdef0"}, headers=headers)

    assert response.status_code == 403 and response.json()["error"] == "admin_only"
    assert client.get(URL, headers=headers).status_code == 403


def test_a_delivery_is_taken_once(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        first = deliveries.first_time(session, tenant.shop_id, "shopify", "b54557e4-bdd9", "orders/create")
        again = deliveries.first_time(session, tenant.shop_id, "shopify", "b54557e4-bdd9", "orders/create")
        other = deliveries.first_time(session, tenant.shop_id, "woocommerce", "b54557e4-bdd9")

    assert (first, again, other) == (True, False, True)
