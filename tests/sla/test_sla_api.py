"""The `sla` object in lists, `sort=sla`, and the shop's targets through /api/v1/sla/policy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sla_support import customer_writes, local, moment, own_targets, patch
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.shops.models import Shop
from balie.sla.targets import TargetRow
from factories import Tenant

ONE = {"channel": "email", "priority": "normal", "kind": "first_response", "minutes": 60, "business": False}


def _listed(client: TestClient, tenant: Tenant, **params: object) -> dict[str, Any]:
    response = client.get("/api/v1/conversations", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_sort_by_sla_puts_breached_first_and_those_without_a_timer_last(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False),
                TargetRow("email", "urgent", "first_response", 10, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    slow = customer_writes(factory, tenant, email="a@example.nl")  # due 11:00
    frozen_clock.current = local(2026, 11, 30, 10, 20)
    later = customer_writes(factory, tenant, email="b@example.nl")  # due 11:20
    paused = customer_writes(factory, tenant, email="c@example.nl")
    patch(client, tenant, paused, status="pending")
    urgent = customer_writes(factory, tenant, email="d@example.nl")  # due 11:20, then urgent: 10:30
    patch(client, tenant, urgent, priority="urgent")
    frozen_clock.current = local(2026, 11, 30, 10, 50)  # "due soon" for the first at 10:48

    page = _listed(client, tenant, status="all", sort="sla")
    order = [(item["id"], item["sla"]["state"]) for item in page["items"]]
    assert order == [(urgent, "breached"), (slow, "due_soon"), (later, "on_track"), (paused, "paused")]
    assert moment(page["items"][0]["sla"]["first_response_due_at"]) == local(2026, 11, 30, 10, 30)

    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"status": "all", "sort": "sla", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = _listed(client, tenant, **params)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [urgent, slow, later, paused]


def test_an_unknown_sort_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/conversations", headers=tenant.headers, params={"sort": "soonest"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_filter"


def test_a_new_shop_has_the_defaults_and_replaces_them(client: TestClient, tenant: Tenant) -> None:
    policy = client.get("/api/v1/sla/policy", headers=tenant.headers).json()
    assert policy["custom"] is False and policy["near"] == 0.8
    assert {"channel": "email", "priority": "normal", "kind": "first_response", "minutes": 1440,
            "business": True} in policy["targets"]
    assert {"channel": "chat", "priority": "urgent", "kind": "next_response", "minutes": 2,
            "business": True} in policy["targets"]
    assert not [target for target in policy["targets"] if target["kind"] == "resolution"]

    response = client.put("/api/v1/sla/policy", headers=tenant.headers, json={"near": 0.75, "targets": [ONE]})
    assert response.status_code == 200, response.text
    assert response.json() == {"custom": True, "near": 0.75, "targets": [ONE]}
    assert client.get("/api/v1/sla/policy", headers=tenant.headers).json()["targets"] == [ONE]


@pytest.mark.parametrize(("body", "code"), [
    ({"targets": [{**ONE, "minutes": -5}]}, "invalid_target"),
    ({"targets": [{**ONE, "minutes": 0}]}, "invalid_target"),
    ({"targets": [{**ONE, "minutes": 10**12}]}, "invalid_target"),
    ({"targets": [{**ONE, "channel": "pigeon"}]}, "invalid_channel"),
    ({"targets": [{**ONE, "priority": "asap"}]}, "invalid_priority"),
    ({"targets": [{**ONE, "kind": "apology"}]}, "invalid_kind"),
    ({"targets": [ONE, {**ONE, "minutes": 90}]}, "duplicate_target"),
    ({"near": 1.5, "targets": [ONE]}, "invalid_near"),
    ({"near": 0, "targets": [ONE]}, "invalid_near"),
])
def test_wrong_targets_are_refused_and_nothing_changes(
    client: TestClient, tenant: Tenant, body: dict[str, Any], code: str
) -> None:
    response = client.put("/api/v1/sla/policy", headers=tenant.headers, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert client.get("/api/v1/sla/policy", headers=tenant.headers).json()["custom"] is False


def test_a_body_that_is_not_json_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.put("/api/v1/sla/policy", headers={**tenant.headers, "Content-Type": "application/json"},
                          content=b"{not json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


@pytest.mark.parametrize("body", [
    b'{"targets": "all"}', b'{"targets": [{"channel": "email"}]}',
    b'{"targets": [], "extra": 1}', b'{"targets": [{"channel": "email", "priority": "normal", '
    b'"kind": "first_response", "minutes": "sixty"}]}',
])
def test_malformed_policies_are_refused(client: TestClient, tenant: Tenant, body: bytes) -> None:
    response = client.put("/api/v1/sla/policy", headers={**tenant.headers, "Content-Type": "application/json"},
                          content=body)
    assert response.status_code == 422, response.text


def test_only_admins_see_and_change_targets(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", password="correct horse")
        shop = session.get_one(Shop, tenant.shop_id)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
        token = agent_service.create_token(session, agent=agent, shop=shop)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/sla/policy", headers=headers).status_code == 403
    response = client.put("/api/v1/sla/policy", headers=headers, json={"targets": []})
    assert response.status_code == 403 and response.json()["error"] == "admin_only"
