"""Customer tags on the customer panel: every agent sees them and adds or removes one, as a
plain form post and as the page script's fetch call; mistakes are explained in the page's
language, and what was typed is shown as text."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from factories import Tenant, make_tenant, post_message
from ui_support import ASYNC, active_content, sign_in


def shown_tags(page: str) -> list[str]:
    return re.findall(r'<li class="customer-tags__item" data-tag="([^"]*)"', page)


def test_an_agent_adds_and_removes_a_customer_tag(client: TestClient, tenant: Tenant) -> None:
    posted = post_message(client, tenant)
    conversation_id = posted["conversation_id"]
    csrf = sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert shown_tags(page) == [] and "Nog geen labels." in page and 'id="customer-tag-form"' in page

    added = client.post(f"/inbox/c/{conversation_id}/customer-tags?view=mine", follow_redirects=False,
                        data={"csrf_token": csrf, "tag": "Grote Klant"})

    assert added.status_code == 303
    assert added.headers["location"] == f"/inbox/c/{conversation_id}?view=mine&notice=tagged"
    page = client.get(added.headers["location"]).text
    assert "Klantlabel toegevoegd." in page and shown_tags(page) == ["grote-klant"]
    assert "Label grote-klant weghalen" in page
    api = client.get(f"/api/v1/customers/{posted['customer_id']}", headers=tenant.headers).json()
    assert api["tags"] == ["grote-klant"]  # the same tags, whichever way they are looked at

    fetched = client.post(f"/inbox/c/{conversation_id}/customer-tags", data={"csrf_token": csrf, "tag": "vip"},
                          headers=ASYNC)
    assert fetched.status_code == 200 and fetched.json()["notice"] == "tagged"
    partial = client.get(f"/ui/partials/conversation/{conversation_id}").text  # what the script refreshes
    assert shown_tags(partial) == ["grote-klant", "vip"]

    removed = client.post(f"/inbox/c/{conversation_id}/customer-tags/remove",
                          data={"csrf_token": csrf, "tag": "grote-klant"}, headers=ASYNC)
    assert removed.status_code == 200 and removed.json()["notice"] == "untagged"
    again = client.post(f"/inbox/c/{conversation_id}/customer-tags/remove", follow_redirects=False,
                        data={"csrf_token": csrf, "tag": "grote-klant"})  # a colleague was first: no error
    assert again.status_code == 303
    assert "Klantlabel weggehaald." in client.get(again.headers["location"]).text
    assert shown_tags(client.get(f"/inbox/c/{conversation_id}").text) == ["vip"]


def test_the_tags_go_with_the_customer_to_their_other_conversations(client: TestClient, tenant: Tenant) -> None:
    first = post_message(client, tenant, subject="Bestelling")
    csrf = sign_in(client, tenant)
    client.post(f"/inbox/c/{first['conversation_id']}/customer-tags", data={"csrf_token": csrf, "tag": "vip"},
                headers=ASYNC)
    client.patch(f"/api/v1/conversations/{first['conversation_id']}", json={"status": "closed"},
                 headers=tenant.headers)
    later = post_message(client, tenant, subject="Retour")

    assert later["conversation_id"] != first["conversation_id"]
    assert shown_tags(client.get(f"/inbox/c/{later['conversation_id']}").text) == ["vip"]


def test_a_hostile_tag_is_shown_as_text(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    hostile = '"><script>alert(1)</script>'

    response = client.post(f"/inbox/c/{conversation_id}/customer-tags", data={"csrf_token": csrf, "tag": hostile},
                           headers=ASYNC)

    assert response.status_code == 200
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert "<script>alert(1)</script>" not in page and active_content(page) == []
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert shown_tags(page) == ["&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"]


def test_mistakes_are_explained(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    stranger = make_tenant(factory, name="Andere Winkel")
    theirs = post_message(client, stranger, customer={"email": "ander@example.nl"})["conversation_id"]
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{conversation_id}/customer-tags"

    empty = client.post(url, data={"csrf_token": csrf, "tag": "  "})
    too_long = client.post(url, data={"csrf_token": csrf, "tag": "x" * 65}, headers=ASYNC)
    control = client.post(url, data={"csrf_token": csrf, "tag": "vip\x1b[31m"}, headers=ASYNC)
    oversized = client.post(url, data={"csrf_token": csrf, "tag": "x" * 3000}, headers=ASYNC)
    foreign = client.post(f"/inbox/c/{theirs}/customer-tags", data={"csrf_token": csrf, "tag": "vip"}, headers=ASYNC)
    foreign_remove = client.post(f"/inbox/c/{theirs}/customer-tags/remove", data={"csrf_token": csrf, "tag": "vip"},
                                 headers=ASYNC)
    no_token = client.post(url, data={"tag": "vip"}, headers=ASYNC)

    assert empty.status_code == 400 and "Een klantlabel is één regel van 1 tot 64 tekens." in empty.text
    assert 'id="customer-tag-form"' in empty.text  # the page again, with the panel
    assert (too_long.status_code, too_long.json()["error"]) == (400, "invalid_tag")
    assert too_long.json()["detail"] == "Een klantlabel is één regel van 1 tot 64 tekens."
    assert (control.status_code, control.json()["error"]) == (400, "invalid_text")
    assert oversized.status_code == 400
    assert foreign.status_code == 404 and foreign_remove.status_code == 404 and no_token.status_code == 403
    assert shown_tags(client.get(f"/inbox/c/{conversation_id}").text) == []

    for number in range(20):
        client.post(url, data={"csrf_token": csrf, "tag": f"label-{number}"}, headers=ASYNC)
    client.get("/ui/lang/en")
    full = client.post(url, data={"csrf_token": csrf, "tag": "one-more"}, headers=ASYNC)
    assert (full.status_code, full.json()["detail"]) == (400, "A customer has at most 20 tags. Remove one first.")
