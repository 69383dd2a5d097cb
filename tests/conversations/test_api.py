"""/api/v1/conversations: listing with filters and cursors, changes, replies, notes, shop isolation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.agents.models import Membership
from balie.shops.models import Shop
from factories import Tenant, post_message
from statements import counting


def ids(client: TestClient, tenant: Tenant, query: str = "") -> list[int]:
    response = client.get(f"/api/v1/conversations{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_list_items_are_readable_without_fetching_each(client: TestClient, tenant: Tenant) -> None:
    post_message(client, tenant, subject="Retour", text="Ik wil iets terugsturen")
    item = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"][0]
    assert item["subject"] == "Retour"
    assert item["customer_name"] == "Klaas Klant"
    assert item["preview"] == "Ik wil iets terugsturen"
    for key in ("id", "status", "channel", "customer_id", "assignee", "tags", "priority"):
        assert key in item


def test_cursor_pagination_walks_every_conversation_once(client: TestClient, tenant: Tenant) -> None:
    created = [post_message(client, tenant, customer={"email": f"k{i}@example.nl"})["conversation_id"]
               for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/conversations{query}", headers=tenant.headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))  # newest activity first


def test_filters(client: TestClient, tenant: Tenant) -> None:
    def new(customer: dict[str, str], text: str) -> int:
        return int(post_message(client, tenant, customer=customer, text=text)["conversation_id"])  # type: ignore[call-overload]

    a = new({"email": "a@example.nl"}, "waar is mijn pakket")
    b = new({"email": "b@example.nl"}, "factuur graag")
    c = new({"email": "c@example.nl", "name": "Cor"}, "retour")
    changes = {"assignee_id": tenant.agent_id, "tags": ["Bezorging", "vip"]}
    assert client.patch(f"/api/v1/conversations/{a}", headers=tenant.headers, json=changes).status_code == 200
    pending = {"status": "pending"}
    assert client.patch(f"/api/v1/conversations/{b}", headers=tenant.headers, json=pending).status_code == 200
    assert ids(client, tenant) == [c, a]
    assert ids(client, tenant, "?assignee=me") == [a]
    assert ids(client, tenant, "?assignee=none") == [c]
    assert ids(client, tenant, "?status=pending") == [b]
    assert sorted(ids(client, tenant, "?status=all")) == sorted([a, b, c])
    assert ids(client, tenant, "?tag=bezorging") == [a]
    grote_klant = {"tags": ["Grote Klant"]}
    assert client.patch(f"/api/v1/conversations/{c}", headers=tenant.headers, json=grote_klant).status_code == 200
    assert ids(client, tenant, "?tag=Grote%20Klant") == [c]  # spelled as stored: grote-klant
    assert ids(client, tenant, "?q=pakket") == [a]
    assert ids(client, tenant, "?q=cor") == [c]
    assert ids(client, tenant, "?q=b%40example") == []  # b is pending, not open
    assert ids(client, tenant, "?q=b%40example&status=all") == [b]
    assert ids(client, tenant, f"?q=%23{c}") == [c]
    assert ids(client, tenant, "?channel=api&sort=waiting") == [a, c]
    assert ids(client, tenant, "?channel=email") == []


@pytest.mark.parametrize("query", ["?status=gone", "?sort=sideways", "?cursor=bm9wZQ", "?assignee=bob",
                                   "?limit=0", "?limit=abc", "?channel=fax"])
def test_bad_filters_are_clear_errors(client: TestClient, tenant: Tenant, query: str) -> None:
    response = client.get(f"/api/v1/conversations{query}", headers=tenant.headers)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_patch_changes_and_audits(client: TestClient, tenant: Tenant, frozen_clock: object) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    url = f"/api/v1/conversations/{conversation_id}"
    body = client.patch(url, headers=tenant.headers, json={"priority": "urgent", "assignee_id": tenant.agent_id,
                                                           "tags": ["retour", "retour", " Grote Klant "]}).json()
    assert (body["priority"], body["assignee"]["id"], body["tags"]) == ("urgent", tenant.agent_id,
                                                                        ["retour", "grote-klant"])
    body = client.patch(url, headers=tenant.headers, json={"assignee_id": None}).json()
    assert body["assignee"] is None and body["priority"] == "urgent"
    snoozed = client.patch(url, headers=tenant.headers, json={"snooze_until": "2026-11-25T09:00:00+01:00"}).json()
    assert snoozed["status"] == "snoozed"
    assert snoozed["snoozed_until"].startswith("2026-11-25T08:00:00")
    past = client.patch(url, headers=tenant.headers, json={"snooze_until": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["error"] == "invalid_snooze"
    assert client.patch(url, headers=tenant.headers, json={"status": "weg"}).status_code == 422
    assert client.patch(url, headers=tenant.headers, json={"assignee_id": 999999}).status_code == 404


def test_snoozed_conversation_wakes_up(app: object, client: TestClient, tenant: Tenant, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    conversation_id = post_message(client, tenant)["conversation_id"]
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers,
                 json={"snooze_until": "2026-11-24T12:00:00Z"})
    app.state.worker.run_once()  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()["status"] == "snoozed"
    frozen_clock.advance(hours=3)
    app.state.worker.run_once()  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()["status"] == "open"


def test_reply_is_queued_and_answers_the_customer(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation_id}/replies", headers=tenant.headers,
                           json={"text": "Uw pakket komt morgen."})
    assert response.status_code == 202
    assert response.json()["delivery_state"] == "queued"
    assert response.json()["direction"] == "out"
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert conversation["status"] == "pending"
    assert conversation["first_response_at"] is not None
    assert conversation["waiting_since"] is None
    # The customer writes again: back in the open inbox, waiting again.
    post_message(client, tenant, text="Dank, en de retour?")
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert conversation["status"] == "open" and conversation["waiting_since"] is not None
    assert [m["direction"] for m in conversation["messages"]] == ["in", "out", "in"]


def test_note_is_internal(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation_id}/notes", headers=tenant.headers,
                           json={"text": "Klant belde ook al."})
    assert response.status_code == 201
    note = response.json()
    assert note["direction"] == "note" and note["delivery_state"] is None
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert conversation["status"] == "open" and conversation["first_response_at"] is None


def test_reply_bad_input(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    url = f"/api/v1/conversations/{conversation_id}/replies"
    assert client.post(url, headers=tenant.headers, json={"text": ""}).status_code == 422
    assert client.post(url, headers=tenant.headers, json={"text": "  "}).json()["error"] == "empty_message"
    assert client.post(url, headers=tenant.headers, json={"text": "x" * (1024 * 1024 + 1)}).status_code == 413
    assert client.post("/api/v1/conversations/424242/replies", headers=tenant.headers,
                       json={"text": "hoi"}).status_code == 404
    conversation = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert len(conversation["messages"]) == 1


def test_other_shop_sees_nothing(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    ingested = post_message(client, tenant)
    conversation_id, customer_id = ingested["conversation_id"], ingested["customer_id"]
    for method, url, body in [
        ("GET", f"/api/v1/conversations/{conversation_id}", None),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"status": "closed"}),
        ("POST", f"/api/v1/conversations/{conversation_id}/replies", {"text": "hoi"}),
        ("POST", f"/api/v1/conversations/{conversation_id}/notes", {"text": "hoi"}),
        ("GET", f"/api/v1/customers/{customer_id}", None),
    ]:
        response = client.request(method, url, json=body, headers=other_tenant.headers)
        assert response.status_code == 404, (method, url)
        assert response.json()["error"] == "not_found"
    assert ids(client, other_tenant, "?status=all") == []
    # The same email in the other shop is another customer.
    theirs = post_message(client, other_tenant)
    assert theirs["customer_id"] != customer_id
    assert client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()["status"] == "open"


def test_inbox_listing_query_count_does_not_grow_with_the_page(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    for i in range(12):
        post_message(client, tenant, customer={"email": f"q{i}@example.nl"})
    with counting(factory) as statements:
        assert len(ids(client, tenant, "?limit=3")) == 3
        small = len(statements)
        statements.clear()
        assert len(ids(client, tenant, "?limit=12")) == 12
        large = len(statements)
    assert small == large <= 5, [s.split("\n")[0][:80] for s in statements]


def test_waiting_sort_pages_through_waiting_then_answered(client: TestClient, tenant: Tenant) -> None:
    created = [post_message(client, tenant, customer={"email": f"w{i}@example.nl"})["conversation_id"]
               for i in range(5)]
    for answered in (created[0], created[3]):  # answered but kept open: nobody waits on them
        client.post(f"/api/v1/conversations/{answered}/replies", headers=tenant.headers,
                    json={"text": "We kijken ernaar.", "status": "open"})
    seen: list[int] = []
    cursor = None
    while True:
        page = client.get("/api/v1/conversations?sort=waiting&limit=2" + (f"&cursor={cursor}" if cursor else ""),
                          headers=tenant.headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [created[1], created[2], created[4], created[0], created[3]]


def test_list_names_nameless_customers_as_the_conversation_does(client: TestClient, tenant: Tenant) -> None:
    """The list finds names in its own query; it must agree with the conversation itself."""
    shown = {
        "+31612345678": {"phone": "+31 6 12345678"},
        "nameless@example.nl": {"external_id": "K-1", "phone": "+31 6 87654321", "email": "Nameless@Example.nl"},
        "K-2": {"external_id": "K-2"},
        "Named Person": {"email": "named@example.nl", "name": "Named Person"},
    }
    for customer in shown.values():
        post_message(client, tenant, customer=customer)
    items = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"]
    assert sorted(item["customer_name"] for item in items) == sorted(shown)
    for item in items:
        detail = client.get(f"/api/v1/conversations/{item['id']}", headers=tenant.headers).json()
        assert detail["customer_name"] == item["customer_name"]


def test_list_shows_the_assignee_only_while_they_work_in_the_shop(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    with factory() as session, session.begin():
        colleague = agent_service.create(session, email="bo@example.test", name="Bo Collega")
        agent_service.add_to_shop(session, agent=colleague, shop=session.get(Shop, tenant.shop_id))
        colleague_id = colleague.id
    conversation_id = post_message(client, tenant)["conversation_id"]
    assigned = client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers,
                            json={"assignee_id": colleague_id})
    assert assigned.status_code == 200, assigned.text
    item = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"][0]
    assert item["assignee"] == {"id": colleague_id, "name": "Bo Collega", "email": "bo@example.test"}

    with factory() as session, session.begin():
        session.execute(delete(Membership).where(Membership.agent_id == colleague_id))
    item = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"][0]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert item["assignee"] is None and detail["assignee"] is None
