"""/api/v1/acknowledgements: a shop admin reads and switches the automatic acknowledgement per
channel; only the channels named change, each real change is audited once, and a wrong body
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.audit.models import AuditEvent
from balie.scheduling import runner
from balie.worker import HANDLERS
from factories import Tenant, colleague, post_message

URL = "/api/v1/acknowledgements"
ALL_OFF = {"channels": {"email": False, "chat": False, "api": False}}


def switches(factory: sessionmaker[Session], shop_id: int) -> list[tuple[str, str, int | None]]:
    """The shop's audited switches, oldest first: (action, channel, agent)."""
    with factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.shop_id == shop_id,
                                                        AuditEvent.action.like("acknowledgement.%"))
                               .order_by(AuditEvent.id))
        return [(row.action, row.data["channel"], row.actor_agent_id) for row in rows]


def put(client: TestClient, tenant: Tenant, channels: dict[str, Any]) -> dict[str, Any]:
    response = client.put(URL, headers=tenant.headers, json={"channels": channels})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_admin_turns_acknowledgements_on_and_customers_get_one(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    assert client.get(URL, headers=tenant.headers).json() == ALL_OFF

    assert put(client, tenant, {"email": True, "chat": True, "api": True}) == {
        "channels": {"email": True, "chat": True, "api": True}}
    assert client.get(URL, headers=tenant.headers).json() == {"channels": {"email": True, "chat": True, "api": True}}
    assert switches(factory, tenant.shop_id) == [("acknowledgement.turned_on", channel, tenant.agent_id)
                                                 for channel in ("email", "chat", "api")]

    conversation_id = post_message(client, tenant)["conversation_id"]  # the API channel
    runner.run_due(factory, HANDLERS)
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert [message["flags"] for message in detail["messages"] if message["direction"] == "out"] == [
        ["acknowledgement"]]


def test_only_the_channels_named_change(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    assert put(client, tenant, {"email": True})["channels"] == {"email": True, "chat": False, "api": False}
    assert put(client, tenant, {"chat": True})["channels"] == {"email": True, "chat": True, "api": False}
    assert put(client, tenant, {"email": False})["channels"] == {"email": False, "chat": True, "api": False}
    assert put(client, tenant, {})["channels"] == {"email": False, "chat": True, "api": False}
    assert [(action, channel) for action, channel, _ in switches(factory, tenant.shop_id)] == [
        ("acknowledgement.turned_on", "email"), ("acknowledgement.turned_on", "chat"),
        ("acknowledgement.turned_off", "email")]


def test_the_same_request_again_changes_and_audits_nothing(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    first = put(client, tenant, {"email": True, "api": False})
    again = put(client, tenant, {"email": True, "api": False})
    assert first == again == {"channels": {"email": True, "chat": False, "api": False}}
    assert switches(factory, tenant.shop_id) == [("acknowledgement.turned_on", "email", tenant.agent_id)]


def test_an_unknown_channel_is_named_and_nothing_changes(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    response = client.put(URL, headers=tenant.headers, json={"channels": {"email": True, "whatsapp": True}})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert "unknown channel 'whatsapp'" in body["detail"] and "email, chat, api" in body["detail"]
    assert client.get(URL, headers=tenant.headers).json() == ALL_OFF
    assert switches(factory, tenant.shop_id) == []


@pytest.mark.parametrize("body", [
    {"channels": {"email": "yes"}},
    {"channels": {"email": 1}},
    {"channels": {"email": "true"}},
    {"channels": {"email": None}},
    {"channels": ["email"]},
    {"channels": True},
    {"email": True},
    {},
    {"channels": {"email": True}, "also": 1},
])
def test_wrong_types_are_refused_and_nothing_changes(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, body: dict[str, Any]
) -> None:
    response = client.put(URL, headers=tenant.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error" and response.json()["detail"]
    assert client.get(URL, headers=tenant.headers).json() == ALL_OFF
    assert switches(factory, tenant.shop_id) == []


def test_a_body_that_is_not_json_or_too_large_is_refused(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    not_json = client.put(URL, headers=headers, content=b'{"channels": {"email": true}')
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_json"
    huge = client.put(URL, headers=headers,
                      content=b'{"channels": {"email": true, "' + b"x" * (3 * 1024 * 1024) + b'": true}}')
    assert huge.status_code == 413 and huge.json()["error"] == "request_too_large"
    assert client.get(URL, headers=tenant.headers).json() == ALL_OFF
    assert switches(factory, tenant.shop_id) == []


def test_only_admins_see_and_switch(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    agent = colleague(factory, tenant)
    read = client.get(URL, headers=agent.headers)
    assert read.status_code == 403 and read.json()["error"] == "admin_only"
    switched = client.put(URL, headers=agent.headers, json={"channels": {"email": True}})
    assert switched.status_code == 403 and switched.json()["error"] == "admin_only"
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=tenant.headers).json() == ALL_OFF
    assert switches(factory, tenant.shop_id) == []

    admin = colleague(factory, tenant, role="admin")
    assert put(client, admin, {"chat": True})["channels"]["chat"] is True
    assert switches(factory, tenant.shop_id) == [("acknowledgement.turned_on", "chat", admin.agent_id)]


def test_each_shop_switches_its_own(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                    other_tenant: Tenant) -> None:
    put(client, tenant, {"email": True})
    assert client.get(URL, headers=other_tenant.headers).json() == ALL_OFF
    put(client, other_tenant, {"chat": True, "email": False})
    assert client.get(URL, headers=tenant.headers).json() == {"channels": {"email": True, "chat": False,
                                                                           "api": False}}
    assert switches(factory, tenant.shop_id) == [("acknowledgement.turned_on", "email", tenant.agent_id)]
    assert switches(factory, other_tenant.shop_id) == [("acknowledgement.turned_on", "chat", other_tenant.agent_id)]
