"""Blocking and muting a customer: admins only, audited, scoped to the shop, and the customer's
next messages are stored but start nothing automatic."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.audit.models import AuditEvent
from balie.conversations.models import Message
from balie.customers import blocking
from balie.outbox.models import OutboxEntry
from balie.scheduling import runner
from balie.shops.models import Shop
from balie.sla import acknowledgement_settings
from balie.worker import HANDLERS
from factories import Tenant, post_message
from statements import counting


def block(client: TestClient, tenant: Tenant, customer_id: object, **body: object) -> dict[str, object]:
    response = client.post(f"/api/v1/customers/{customer_id}/block", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def audit(factory: sessionmaker[Session], customer_id: object) -> list[tuple[str, dict[str, object]]]:
    with factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "customer",
                                                        AuditEvent.object_id == customer_id)
                               .order_by(AuditEvent.id)).all()
        return [(row.action, row.data) for row in rows]


def test_an_admin_blocks_and_unblocks_a_customer(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                                 frozen_clock: clock.FrozenClock) -> None:
    customer_id = post_message(client, tenant)["customer_id"]
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["block"] is None

    customer = block(client, tenant, customer_id, mode="blocked", reason="  Scheldt  elke week\tagenten uit ")

    assert customer["block"] == {"mode": "blocked", "since": "2026-11-24T10:00:00Z", "by_agent_id": tenant.agent_id,
                                 "by_agent_name": "Ada Agent", "reason": "Scheldt elke week agenten uit"}
    frozen_clock.advance(minutes=5)
    unblocked = client.delete(f"/api/v1/customers/{customer_id}/block", headers=tenant.headers)
    assert unblocked.status_code == 200 and unblocked.json()["block"] is None
    assert audit(factory, customer_id) == [
        ("customer.blocked", {"mode": "blocked", "before": None, "reason": "Scheldt elke week agenten uit"}),
        ("customer.unblocked", {"before": "blocked"}),
    ]


def test_blocking_again_is_idempotent_and_switching_mode_is_audited(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    customer_id = post_message(client, tenant)["customer_id"]
    first = block(client, tenant, customer_id, mode="muted", reason="Nieuwsbrief")
    frozen_clock.advance(hours=1)
    again = block(client, tenant, customer_id, mode="muted", reason="Nieuwsbrief")
    assert again["block"] == first["block"]  # the same: nothing changed, not even the time
    switched = block(client, tenant, customer_id, mode="blocked")
    assert switched["block"]["mode"] == "blocked" and switched["block"]["reason"] == ""  # type: ignore[index]
    assert switched["block"]["since"] == "2026-11-24T11:00:00Z"  # type: ignore[index]
    assert [action for action, _ in audit(factory, customer_id)] == ["customer.blocked", "customer.blocked"]


def test_bad_requests_are_explained(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                    factory: sessionmaker[Session]) -> None:
    customer_id = post_message(client, tenant)["customer_id"]
    theirs = post_message(client, other_tenant, customer={"email": "ander@example.nl"})["customer_id"]
    url = f"/api/v1/customers/{customer_id}/block"

    unknown = client.post(url, headers=tenant.headers, json={"mode": "banned"})
    huge = client.post(url, headers=tenant.headers, json={"mode": "blocked", "reason": "x" * 501})
    control = client.post(url, headers=tenant.headers, json={"mode": "blocked", "reason": "a\x00b"})
    malformed = client.post(url, headers=tenant.headers, json={"mode": "blocked", "extra": 1})
    foreign = client.post(f"/api/v1/customers/{theirs}/block", headers=tenant.headers, json={"mode": "blocked"})
    missing = client.post("/api/v1/customers/99999999/block", headers=tenant.headers, json={"mode": "blocked"})
    not_blocked = client.delete(url, headers=tenant.headers)

    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_mode")
    assert (huge.status_code, huge.json()["error"]) == (400, "invalid_reason")
    assert (control.status_code, control.json()["error"]) == (400, "invalid_text")
    assert malformed.status_code == 422
    assert foreign.status_code == 404 and missing.status_code == 404
    assert (not_blocked.status_code, not_blocked.json()["error"]) == (409, "not_blocked")
    assert audit(factory, customer_id) == [] and audit(factory, theirs) == []
    with factory() as session:
        assert not blocking.muted(session, other_tenant.shop_id, theirs)  # type: ignore[arg-type]


def test_only_admins_block(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    customer_id = post_message(client, tenant)["customer_id"]
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", name="Cor Collega", password="x" * 12)
        shop = session.get_one(Shop, tenant.shop_id)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
        token = agent_service.create_token(session, agent=agent, shop=shop)
    headers = {"Authorization": f"Bearer {token}"}

    refused = client.post(f"/api/v1/customers/{customer_id}/block", headers=headers, json={"mode": "muted"})

    assert (refused.status_code, refused.json()["error"]) == (403, "admin_only")
    assert client.delete(f"/api/v1/customers/{customer_id}/block", headers=headers).status_code == 403
    # Agents do see the state.
    block(client, tenant, customer_id, mode="muted")
    seen = client.get(f"/api/v1/customers/{customer_id}", headers=headers).json()
    assert seen["block"]["mode"] == "muted"


def test_a_blocked_customers_messages_are_stored_but_start_nothing(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="api", on=True,
                                             actor_agent_id=None)
    first = post_message(client, tenant, text="Super snel geleverd, dank jullie wel!")
    # Blocked before the worker got to the first message: that one starts nothing either.
    block(client, tenant, first["customer_id"], mode="blocked")
    later = post_message(client, tenant, text="Dank jullie wel, geweldig!")
    assert later["conversation_id"] == first["conversation_id"]
    outcomes = runner.run_due(factory, HANDLERS)

    assert [outcome.state for outcome in outcomes] == ["done", "done"]
    detail = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers).json()
    assert [m["text"] for m in detail["messages"]] == ["Super snel geleverd, dank jullie wel!",
                                                       "Dank jullie wel, geweldig!"]  # stored and visible
    assert "compliment" not in detail["tags"]  # no step ran, not even the compliment marking
    with factory() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
        assert session.scalars(select(Message).where(Message.direction == "out")).all() == []


def test_the_check_is_one_query_for_both_states(factory: sessionmaker[Session], tenant: Tenant,
                                                client: TestClient) -> None:
    customer_id = int(str(post_message(client, tenant)["customer_id"]))
    for mode in ("blocked", "muted"):
        with factory() as session, session.begin():
            blocked = blocking.block(session, shop_id=tenant.shop_id, customer_id=customer_id, mode=mode,
                                     actor_agent_id=None, reason="door een regel")
            assert blocked.blocked_by_id is None  # a rule, not an agent
        with factory() as session:
            with counting(session.get_bind()) as statements:
                assert blocking.muted(session, tenant.shop_id, customer_id)
            assert len(statements) == 1


def test_conversations_say_whether_their_customer_is_blocked(client: TestClient, tenant: Tenant) -> None:
    blocked = post_message(client, tenant, customer={"email": "boos@example.nl"})
    plain = post_message(client, tenant, customer={"email": "blij@example.nl"})
    block(client, tenant, blocked["customer_id"], mode="muted")

    listed = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"]
    states = {item["id"]: item["customer_block_state"] for item in listed}
    detail = client.get(f"/api/v1/conversations/{blocked['conversation_id']}", headers=tenant.headers).json()
    customer = client.get(f"/api/v1/customers/{blocked['customer_id']}", headers=tenant.headers).json()

    assert states == {blocked["conversation_id"]: "muted", plain["conversation_id"]: None}
    assert detail["customer_block_state"] == "muted"
    assert [entry["conversation"]["customer_block_state"] for entry in customer["timeline"]] == ["muted"]
