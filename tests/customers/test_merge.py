"""Merging two customers: nothing lost, audited, visible in the timeline, scoped to the shop."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.audit.models import AuditEvent
from balie.customers.models import CustomerTag
from factories import Tenant, post_message


def test_agent_merges_two_customers(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    mail = post_message(client, tenant, customer={"email": "jan@example.nl", "name": "Jan"}, text="per mail")
    phone = post_message(client, tenant, customer={"phone": "+32470123456"}, text="per telefoon")
    response = client.post(f"/api/v1/customers/{mail['customer_id']}/merge", headers=tenant.headers,
                           json={"other_id": phone["customer_id"]})
    assert response.status_code == 200, response.text
    customer = response.json()
    assert customer["id"] == mail["customer_id"] and customer["name"] == "Jan"
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("email", "jan@example.nl"), ("phone", "+32470123456")}
    conversations = [e["conversation"]["id"] for e in customer["timeline"] if e["type"] == "conversation"]
    assert sorted(conversations) == sorted([mail["conversation_id"], phone["conversation_id"]])
    merges = [e for e in customer["timeline"] if e["type"] == "merge"]
    assert len(merges) == 1 and merges[0]["merged_id"] == phone["customer_id"]
    # The old id still leads somewhere: to the customer it became.
    old = client.get(f"/api/v1/customers/{phone['customer_id']}", headers=tenant.headers).json()
    assert old["id"] == mail["customer_id"]
    # New messages on either identity land on the survivor.
    later = post_message(client, tenant, customer={"phone": "+32 470 12 34 56"}, text="nog eens")
    assert later["customer_id"] == mail["customer_id"]
    with factory() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.merged")).all()
        assert {row.object_id for row in audit} == {mail["customer_id"], phone["customer_id"]}
        assert all(row.actor_agent_id == tenant.agent_id for row in audit)


def test_merge_errors(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    mine = post_message(client, tenant, customer={"email": "a@example.nl"})
    theirs = post_message(client, other_tenant, customer={"email": "b@example.nl"})
    url = f"/api/v1/customers/{mine['customer_id']}/merge"
    same = client.post(url, headers=tenant.headers, json={"other_id": mine["customer_id"]})
    assert same.status_code == 400 and same.json()["error"] == "invalid"
    foreign = client.post(url, headers=tenant.headers, json={"other_id": theirs["customer_id"]})
    assert foreign.status_code == 404
    assert client.post(url, headers=tenant.headers, json={"other_id": "x"}).status_code == 422
    assert client.post(url, headers=tenant.headers, json={}).status_code == 422
    assert client.get(f"/api/v1/customers/{theirs['customer_id']}", headers=other_tenant.headers).status_code == 200


def test_identity_left_on_a_merged_customer_leads_to_the_survivor(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    """What a message threaded during a merge can leave behind: an identity on the absorbed customer."""
    from balie.customers.models import Customer, Identity

    kept = post_message(client, tenant, customer={"email": "blijft@example.nl"})
    gone = post_message(client, tenant, customer={"email": "weg@example.nl"})
    with factory() as session, session.begin():
        session.get_one(Customer, gone["customer_id"]).merged_into_id = kept["customer_id"]
        assert session.scalars(select(Identity).where(Identity.value == "weg@example.nl")).one()
    later = post_message(client, tenant, customer={"email": "weg@example.nl"}, text="weer ik")
    assert later["customer_id"] == kept["customer_id"]


def test_merging_moves_the_tags_to_the_survivor(client: TestClient, tenant: Tenant,
                                                factory: sessionmaker[Session]) -> None:
    kept = post_message(client, tenant, customer={"email": "blijft@example.nl"})["customer_id"]
    gone = post_message(client, tenant, customer={"email": "weg@example.nl"})["customer_id"]
    for customer_id, tags in ((kept, ["vip", "retour"]), (gone, ["vip", "zakelijk"])):
        for tag in tags:
            added = client.post(f"/api/v1/customers/{customer_id}/tags", json={"tag": tag}, headers=tenant.headers)
            assert added.status_code == 201, added.text

    merged = client.post(f"/api/v1/customers/{kept}/merge", json={"other_id": gone}, headers=tenant.headers)

    assert merged.status_code == 200 and merged.json()["tags"] == ["retour", "vip", "zakelijk"]  # vip once
    assert client.get(f"/api/v1/customers/{gone}", headers=tenant.headers).json()["tags"] == ["retour", "vip",
                                                                                            "zakelijk"]
    with factory() as session:
        assert session.scalars(select(CustomerTag).where(CustomerTag.customer_id == gone)).all() == []
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.merged")).first()
        assert audit is not None and audit.data["tags_moved"] == 1  # zakelijk; the survivor had vip already


def test_a_merge_keeps_every_tag_even_past_the_limit(client: TestClient, tenant: Tenant) -> None:
    """Nothing is lost in a merge; the limit stops the next tag an agent adds instead."""
    kept = post_message(client, tenant, customer={"email": "blijft@example.nl"})["customer_id"]
    gone = post_message(client, tenant, customer={"email": "weg@example.nl"})["customer_id"]
    for customer_id, prefix in ((kept, "a"), (gone, "b")):
        for number in range(15):
            added = client.post(f"/api/v1/customers/{customer_id}/tags", json={"tag": f"{prefix}{number}"},
                                headers=tenant.headers)
            assert added.status_code == 201, added.text

    merged = client.post(f"/api/v1/customers/{kept}/merge", json={"other_id": gone}, headers=tenant.headers)

    assert len(merged.json()["tags"]) == 30
    more = client.post(f"/api/v1/customers/{kept}/tags", json={"tag": "c"}, headers=tenant.headers)
    assert (more.status_code, more.json()["error"]) == (400, "too_many_tags")
