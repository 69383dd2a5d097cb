"""Customer tags: added and removed by any agent, one spelling with conversation tags, limited,
audited, scoped to the shop, and on the survivor when the id was merged away."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.audit.models import AuditEvent
from balie.customers import tags as customer_tags
from balie.customers.models import CustomerTag
from balie.errors import Invalid, NotFound
from factories import Tenant, post_message


def customer_of(client: TestClient, tenant: Tenant, **customer: str) -> int:
    posted = post_message(client, tenant, customer=customer or {"email": "klant@example.nl"})
    return int(str(posted["customer_id"]))


def tag(client: TestClient, tenant: Tenant, customer_id: object, value: object, status: int = 201) -> dict[str, Any]:
    response = client.post(f"/api/v1/customers/{customer_id}/tags", json={"tag": value}, headers=tenant.headers)
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def audit(factory: sessionmaker[Session], customer_id: int) -> list[tuple[str, dict[str, object], int | None]]:
    with factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "customer",
                                                        AuditEvent.object_id == customer_id,
                                                        AuditEvent.action.like("customer.%tagged"))
                               .order_by(AuditEvent.id))
        return [(row.action, row.data, row.actor_agent_id) for row in rows]


def test_an_agent_tags_and_untags_a_customer(client: TestClient, tenant: Tenant,
                                             factory: sessionmaker[Session]) -> None:
    customer_id = customer_of(client, tenant)
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["tags"] == []

    tag(client, tenant, customer_id, "  Grote   Klant ")
    shown = tag(client, tenant, customer_id, "VIP")

    assert shown["id"] == customer_id and shown["tags"] == ["grote-klant", "vip"]  # spelled as conversation tags
    again = tag(client, tenant, customer_id, "vip", status=200)  # already there: nothing changes
    assert again["tags"] == ["grote-klant", "vip"]

    removed = client.delete(f"/api/v1/customers/{customer_id}/tags/VIP", headers=tenant.headers)
    assert removed.status_code == 204 and removed.content == b""
    gone_already = client.delete(f"/api/v1/customers/{customer_id}/tags/vip", headers=tenant.headers)
    assert gone_already.status_code == 204
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["tags"] == ["grote-klant"]
    # Only the real changes are in the audit trail, with the agent who made them.
    assert audit(factory, customer_id) == [
        ("customer.tagged", {"tag": "grote-klant"}, tenant.agent_id),
        ("customer.tagged", {"tag": "vip"}, tenant.agent_id),
        ("customer.untagged", {"tag": "vip"}, tenant.agent_id),
    ]


def test_a_tag_with_a_slash_can_be_removed(client: TestClient, tenant: Tenant) -> None:
    customer_id = customer_of(client, tenant)
    tag(client, tenant, customer_id, "retour/ruil")
    response = client.delete(f"/api/v1/customers/{customer_id}/tags/retour%2Fruil", headers=tenant.headers)
    assert response.status_code == 204
    plain = client.delete(f"/api/v1/customers/{customer_id}/tags/retour/ruil", headers=tenant.headers)
    assert plain.status_code == 204
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["tags"] == []


def test_bad_tags_are_explained(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    customer_id = customer_of(client, tenant)
    url = f"/api/v1/customers/{customer_id}/tags"

    def post(body: object) -> Any:
        return client.post(url, json=body, headers=tenant.headers)

    empty, blank = post({"tag": ""}), post({"tag": " \t "})
    too_long = post({"tag": "x" * 65})
    control, newline, nul = post({"tag": "vip\x07"}), post({"tag": "vip\nklant"}), post({"tag": "a\x00b"})
    surrogate = client.post(url, content=b'{"tag": "\\ud800"}',
                            headers={**tenant.headers, "Content-Type": "application/json"})
    not_text, missing, extra = post({"tag": 42}), post({}), post({"tag": "vip", "colour": "red"})
    not_json = client.post(url, content=b"vip", headers={**tenant.headers, "Content-Type": "application/json"})

    for response in (empty, blank, too_long):
        assert (response.status_code, response.json()["error"]) == (400, "invalid_tag"), response.text
    assert too_long.json()["detail"] == "a tag is at most 64 characters"
    for response in (control, newline, nul, surrogate):
        assert (response.status_code, response.json()["error"]) == (400, "invalid_text"), response.text
    for response in (not_text, missing, extra):
        assert response.status_code == 422, response.text
    assert (not_json.status_code, not_json.json()["error"]) == (400, "invalid_json")
    assert post({"tag": "x" * 64}).status_code == 201  # the limit itself is fine
    bad_delete = client.delete(f"/api/v1/customers/{customer_id}/tags/{'y' * 65}", headers=tenant.headers)
    assert (bad_delete.status_code, bad_delete.json()["error"]) == (400, "invalid_tag")
    assert [action for action, _, _ in audit(factory, customer_id)] == ["customer.tagged"]


def test_html_in_a_tag_is_kept_as_text(client: TestClient, tenant: Tenant) -> None:
    customer_id = customer_of(client, tenant)
    shown = tag(client, tenant, customer_id, '<img src=x onerror="alert(1)">')
    assert shown["tags"] == ['<img-src=x-onerror="alert(1)">']  # stored as typed (spelled), escaped where shown


def test_a_customer_has_at_most_twenty_tags(client: TestClient, tenant: Tenant) -> None:
    customer_id = customer_of(client, tenant)
    for number in range(customer_tags.MAX_TAGS):
        tag(client, tenant, customer_id, f"tag-{number:02}")

    refused = client.post(f"/api/v1/customers/{customer_id}/tags", json={"tag": "one-more"}, headers=tenant.headers)

    assert (refused.status_code, refused.json()["error"]) == (400, "too_many_tags")
    assert tag(client, tenant, customer_id, "tag-07", status=200)["tags"][7] == "tag-07"  # one it has: fine
    client.delete(f"/api/v1/customers/{customer_id}/tags/tag-00", headers=tenant.headers)
    assert "one-more" in tag(client, tenant, customer_id, "one-more")["tags"]


def test_another_shops_customer_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                             factory: sessionmaker[Session]) -> None:
    theirs = customer_of(client, other_tenant, email="ander@example.nl")
    tag(client, other_tenant, theirs, "vip")

    foreign_add = client.post(f"/api/v1/customers/{theirs}/tags", json={"tag": "x"}, headers=tenant.headers)
    foreign_delete = client.delete(f"/api/v1/customers/{theirs}/tags/vip", headers=tenant.headers)
    missing = client.delete("/api/v1/customers/99999999/tags/vip", headers=tenant.headers)
    huge = client.post(f"/api/v1/customers/{2**70}/tags", json={"tag": "x"}, headers=tenant.headers)
    anonymous = client.post(f"/api/v1/customers/{theirs}/tags", json={"tag": "x"})

    assert [r.status_code for r in (foreign_add, foreign_delete, missing)] == [404, 404, 404]
    assert huge.status_code in (404, 422) and anonymous.status_code == 401
    assert client.get(f"/api/v1/customers/{theirs}", headers=other_tenant.headers).json()["tags"] == ["vip"]
    assert [action for action, _, _ in audit(factory, theirs)] == ["customer.tagged"]


def test_the_id_of_a_merged_customer_tags_the_survivor(client: TestClient, tenant: Tenant) -> None:
    kept = customer_of(client, tenant, email="blijft@example.nl")
    gone = customer_of(client, tenant, email="weg@example.nl")
    merged = client.post(f"/api/v1/customers/{kept}/merge", json={"other_id": gone}, headers=tenant.headers)
    assert merged.status_code == 200

    shown = tag(client, tenant, gone, "vip")

    assert shown["id"] == kept and shown["tags"] == ["vip"]
    assert client.delete(f"/api/v1/customers/{gone}/tags/vip", headers=tenant.headers).status_code == 204
    assert client.get(f"/api/v1/customers/{kept}", headers=tenant.headers).json()["tags"] == []


def test_the_service_flushes_and_leaves_the_commit_to_the_caller(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    customer_id = customer_of(client, tenant)
    with factory() as session:
        change = customer_tags.add(session, shop_id=tenant.shop_id, customer_id=customer_id, tag="Vip",
                                   actor_agent_id=None)
        assert (change.customer.id, change.tag, change.changed) == (customer_id, "vip", True)
        assert customer_tags.of_customer(session, shop_id=tenant.shop_id, customer_id=customer_id) == ["vip"]
        session.rollback()
    with factory() as session:
        assert session.scalars(select(CustomerTag)).all() == []
        with pytest.raises(NotFound):
            customer_tags.add(session, shop_id=tenant.shop_id + 1, customer_id=customer_id, tag="vip",
                              actor_agent_id=None)
        with pytest.raises(Invalid):
            customer_tags.remove(session, shop_id=tenant.shop_id, customer_id=customer_id, tag="",
                                 actor_agent_id=None)
