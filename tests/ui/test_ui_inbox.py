"""The inbox list: what a row shows, the views and filters, order, paging, and the page's headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from balie import clock
from factories import Tenant, post_message
from ui_support import row_ids, sign_in


def patch(client: TestClient, tenant: Tenant, conversation_id: object, **changes: object) -> None:
    response = client.patch(f"/api/v1/conversations/{conversation_id}", json=changes, headers=tenant.headers)
    assert response.status_code == 200, response.text


def test_a_message_posted_through_the_api_shows_in_the_inbox(
    client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    posted = post_message(client, tenant, subject="Waar is mijn pakket?", text="Besteld op maandag, nog niets.")
    frozen_clock.advance(hours=3, minutes=5)
    sign_in(client, tenant)

    page = client.get("/inbox")

    assert page.status_code == 200
    assert row_ids(page.text) == [posted["conversation_id"]]
    row = page.text[page.text.index(f'data-conversation-id="{posted["conversation_id"]}"'):]
    assert "Klaas Klant" in row
    assert "Waar is mijn pakket?" in row
    assert "Besteld op maandag, nog niets." in row
    assert "wacht 3 u" in row
    assert 'class="icon icon--api"' in row  # the channel icon


def test_rows_show_tags_assignee_and_priority(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    patch(client, tenant, conversation_id, tags=["retour", "vip"], assignee_id=tenant.agent_id, priority="urgent")
    sign_in(client, tenant)

    page = client.get("/inbox").text

    assert '<a class="tag" href="/inbox?tag=retour">retour</a>' in page
    assert '<a class="tag" href="/inbox?tag=vip">vip</a>' in page
    assert "Ada Agent" in page
    assert '<span class="badge badge--urgent" data-testid="priority">Urgent</span>' in page


def test_views_and_filters_show_the_right_rows(client: TestClient, tenant: Tenant) -> None:
    mine = post_message(client, tenant, customer={"email": "a@example.nl"}, text="waar is mijn pakket")
    pending = post_message(client, tenant, customer={"email": "b@example.nl"}, text="factuur graag")
    loose = post_message(client, tenant, customer={"email": "c@example.nl", "name": "Cor"}, text="retour")
    patch(client, tenant, mine["conversation_id"], assignee_id=tenant.agent_id, tags=["Bezorging"])
    patch(client, tenant, pending["conversation_id"], status="pending")
    sign_in(client, tenant)

    def shown(query: str) -> list[object]:
        response = client.get(f"/inbox{query}")
        assert response.status_code == 200, response.text
        return list(row_ids(response.text))

    assert sorted(shown("")) == sorted([mine["conversation_id"], loose["conversation_id"]])
    assert shown("?view=mine") == [mine["conversation_id"]]
    assert shown("?view=unassigned") == [loose["conversation_id"]]
    assert shown("?view=pending") == [pending["conversation_id"]]
    assert shown("?view=resolved") == []
    assert shown("?tag=bezorging") == [mine["conversation_id"]]
    assert shown("?view=open&channel=api&sort=recent") == [loose["conversation_id"], mine["conversation_id"]]
    assert shown("?channel=email") == []
    # Search looks everywhere (pending too), also by customer address and by #number.
    assert shown("?q=factuur") == [pending["conversation_id"]]
    assert shown("?q=b%40example.nl") == [pending["conversation_id"]]
    assert shown(f"?q=%23{loose['conversation_id']}") == [loose["conversation_id"]]
    assert shown("?q=cor") == [loose["conversation_id"]]
    # A misspelt filter is ignored instead of ending in an error page.
    assert sorted(shown("?view=nonsense&channel=pigeon&sort=sideways")) == sorted(
        [mine["conversation_id"], loose["conversation_id"]])


def test_the_current_view_is_marked_and_filters_are_kept_in_links(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    sign_in(client, tenant)

    page = client.get("/inbox?view=unassigned&channel=api").text

    assert re.search(r'data-testid="view-unassigned" id="view-unassigned" aria-current="page"', page)
    assert f'href="/inbox/c/{conversation_id}?view=unassigned&amp;channel=api"' in page
    assert '<option value="api" selected>API</option>' in page


def test_waiting_order_puts_the_longest_waiting_first(
    client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    answered = post_message(client, tenant, customer={"email": "oud@example.nl"})["conversation_id"]
    frozen_clock.advance(minutes=30)
    waiting = post_message(client, tenant, customer={"email": "nieuw@example.nl"})["conversation_id"]
    reply = client.post(f"/api/v1/conversations/{answered}/replies", headers=tenant.headers,
                        json={"text": "We kijken ernaar.", "status": "open"})
    assert reply.status_code == 202
    frozen_clock.advance(minutes=30)
    post_message(client, tenant, customer={"email": "oud@example.nl"}, text="Nog een vraag!")
    sign_in(client, tenant)

    assert row_ids(client.get("/inbox").text) == [waiting, answered]  # work queues: waiting first
    assert row_ids(client.get("/inbox?sort=waiting").text) == [waiting, answered]
    assert row_ids(client.get("/inbox?sort=recent").text) == [answered, waiting]


def test_more_link_pages_through_a_long_inbox(client: TestClient, tenant: Tenant) -> None:
    created = [post_message(client, tenant, customer={"email": f"k{index}@example.nl"})["conversation_id"]
               for index in range(27)]
    sign_in(client, tenant)

    first = client.get("/inbox?sort=recent")
    more = re.search(r'id="more" class="more" href="([^"]+)" data-partial="([^"]+)"', first.text)
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&"))
    partial = client.get(more.group(2).replace("&amp;", "&"))

    assert len(row_ids(first.text)) == 25
    assert row_ids(first.text) + row_ids(second.text) == list(reversed(created))
    assert row_ids(partial.text) == row_ids(second.text)
    assert 'id="more"' not in second.text


def test_the_list_partial_is_only_the_list(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    sign_in(client, tenant)

    partial = client.get(f"/ui/partials/list?open={conversation_id}")

    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<ul id="conversation-list"')
    assert "<html" not in partial.text
    assert row_ids(partial.text) == [conversation_id]
    assert "row--open" in partial.text


def test_ui_pages_carry_a_strict_content_security_policy(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    for path in ("/login", "/inbox", "/ui/partials/list", "/inbox/c/999"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/inbox").headers["cache-control"] == "no-store"


def test_ui_routes_stay_out_of_the_api_schema(client: TestClient) -> None:
    """The schema holds the API and the webhooks platforms call (public contracts), no page."""
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if not path.startswith(("/api/", "/webhooks/"))]
    assert "/webhooks/shopify/{shop_public_key}" in paths


def test_static_files_are_served(client: TestClient) -> None:
    assert client.get("/ui/static/balie.css").status_code == 200
    script = client.get("/ui/static/balie.js")
    assert script.status_code == 200
    assert "EventSource" in script.text
