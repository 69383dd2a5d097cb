"""GET/PUT /api/v1/commerce/promise-settings: the defaults, replacing them, and what it does
with malformed, oversized, hostile and foreign input; the figures and an order's vouchers
are the shop's own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from promise_support import enable
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.shops.models import Shop
from factories import Tenant

URL = "/api/v1/commerce/promise-settings"


def test_a_shop_starts_with_good_defaults_and_watching_off(client: TestClient, tenant: Tenant) -> None:
    found = client.get(URL, headers=tenant.headers).json()
    assert found["saved"] is False and found["enabled"] is False and found["enabled_at"] is None
    assert found["cutoff"] == "22:00" and found["transit_days"] == 2 and found["channel"] == "auto"
    assert found["compensation"] == [{"min_days_late": 1, "min_order_total": "20.00", "amount": "5.00"},
                                     {"min_days_late": 3, "min_order_total": "20.00", "amount": "10.00"}]
    assert set(found["templates"]) == {"nl", "en"}
    assert "{{voucher}}" in found["templates"]["nl"]["body"] and "{{new_date}}" in found["templates"]["en"]["body"]
    assert "order.number" in found["variables"]


def test_an_admin_replaces_them(client: TestClient, tenant: Tenant) -> None:
    saved = enable(client, tenant, cutoff="21:30", transit_days=3, carriers={" PostNL ": 1, "DHL": 4},
                   channel="email", compensation=[{"min_days_late": 2, "min_order_total": "50", "amount": "7.5"}],
                   templates={"en": {"subject": "Late: {{order.number}}", "body": "Sorry {{customer.name}}"}})
    again = client.get(URL, headers=tenant.headers).json()
    assert saved == again
    assert again["saved"] is True and again["enabled"] is True and again["cutoff"] == "21:30"
    assert again["enabled_at"] is not None
    assert again["carriers"] == {"postnl": 1, "dhl": 4} and again["channel"] == "email"
    assert again["compensation"] == [{"min_days_late": 2, "min_order_total": "50.00", "amount": "7.50"}]
    assert again["templates"]["en"] == {"subject": "Late: {{order.number}}", "body": "Sorry {{customer.name}}"}
    assert again["templates"]["nl"]["subject"].startswith("Je bestelling")  # left out: the default


@pytest.mark.parametrize(("change", "field"), [
    ({"cutoff": "25:00"}, "cutoff"),
    ({"cutoff": "9:5;"}, "cutoff"),
    ({"transit_days": 0}, "transit_days"),
    ({"transit_days": 10**9}, "transit_days"),
    ({"extra_days": -1}, "extra_days"),
    ({"channel": "pigeon"}, "channel"),
    ({"carriers": {"DHL": 0}}, "carriers.dhl"),
    ({"carriers": {"": 2}}, "carriers"),
    ({"carriers": {f"c{number}": 2 for number in range(60)}}, "carriers"),
    ({"templates": {"de": {"subject": "x", "body": "y"}}}, "templates"),
    ({"templates": {"nl": {"subject": "", "body": "y"}}}, "templates.nl.subject"),
    ({"templates": {"nl": {"subject": "a\nb", "body": "y"}}}, "templates.nl.subject"),
    ({"templates": {"nl": {"subject": "x", "body": "y\x00"}}}, "templates.nl.body"),
    ({"templates": {"nl": {"subject": "x", "body": "{{customer.__class__}}"}}}, "templates.nl.body"),
    ({"templates": {"en": {"subject": "{{ shop.secret }}", "body": "y"}}}, "templates.en.subject"),
    ({"compensation": [{"min_days_late": 0, "amount": "5"}]}, "compensation[0].min_days_late"),
    ({"compensation": [{"min_days_late": 1, "amount": "-5"}]}, "compensation[0].amount"),
    ({"compensation": [{"min_days_late": 1, "amount": "0"}]}, "compensation[0].amount"),
    ({"compensation": [{"min_days_late": 1, "amount": "5.001"}]}, "compensation[0].amount"),
    ({"compensation": [{"min_days_late": 1, "amount": "NaN"}]}, "compensation[0].amount"),
    ({"compensation": [{"min_days_late": 1, "min_order_total": "abc", "amount": "5"}]},
     "compensation[0].min_order_total"),
])
def test_a_wrong_field_is_named_and_nothing_changes(client: TestClient, tenant: Tenant, change: dict[str, Any],
                                                    field: str) -> None:
    before = client.get(URL, headers=tenant.headers).json()
    response = client.put(URL, json={"enabled": True, **change}, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(field)
    assert client.get(URL, headers=tenant.headers).json() == before


@pytest.mark.parametrize("body", [
    {},  # enabled is required
    {"enabled": True, "surprise": 1},
    {"enabled": True, "templates": {"nl": {"subject": "x", "body": "y" * 5001}}},
    {"enabled": True, "compensation": [{"min_days_late": 1, "amount": "5"}] * 21},
    {"enabled": "maybe"},
    [],
])
def test_a_body_of_the_wrong_shape_is_refused(client: TestClient, tenant: Tenant, body: Any) -> None:
    response = client.put(URL, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert client.get(URL, headers=tenant.headers).json()["saved"] is False


def test_only_an_admin_sees_and_changes_them(client: TestClient, tenant: Tenant,
                                             factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="agent@example.test", name="Gewone Agent")
        shop = session.get_one(Shop, tenant.shop_id)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
        token = agent_service.create_token(session, agent=agent, shop=shop)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(URL, headers=headers).status_code == 403
    assert client.put(URL, json={"enabled": True}, headers=headers).json()["error"] == "admin_only"
    assert client.get(URL, headers={}).status_code == 401
    assert client.get("/api/v1/commerce/promise-stats", headers=headers).status_code == 200


def test_each_shop_sees_only_its_own(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    enable(client, other_tenant, cutoff="18:00")
    assert client.get(URL, headers=tenant.headers).json()["saved"] is False
    placed = client.post("/api/v1/orders", headers=other_tenant.headers, json={
        "number": "9", "total": "10.00", "currency": "EUR", "placed_at": "2026-11-23T10:00:00+01:00"}).json()
    for path in ("vouchers", "promise-breaches"):
        assert client.get(f"/api/v1/orders/{placed['id']}/{path}", headers=tenant.headers).status_code == 404
        assert client.get(f"/api/v1/orders/{placed['id']}/{path}", headers=other_tenant.headers).json() == {
            "items": []}
    assert client.get("/api/v1/orders/99999999999999999999999/vouchers", headers=tenant.headers).status_code in (
        404, 422)


def test_the_figures_of_a_quiet_shop(client: TestClient, tenant: Tenant) -> None:
    stats = client.get("/api/v1/commerce/promise-stats?days=7", headers=tenant.headers).json()
    assert stats["broken"] == 0 and stats["told_first_share"] is None and stats["median_seconds_to_notice"] is None
    assert stats["voucher_amounts"] == []
    for days in ("0", "367", "abc"):
        assert client.get(f"/api/v1/commerce/promise-stats?days={days}", headers=tenant.headers).status_code == 422
