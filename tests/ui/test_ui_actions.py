"""What agents do from a conversation: reply, note, resolve, assign, tags, priority, snooze,
canned replies and merging customers; with and without the page script."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit.models import AuditEvent
from balie.canned import service as canned_service
from balie.outbox.models import OutboxEntry
from factories import Tenant, post_message
from ui_support import ASYNC, sign_in


def conversation(client: TestClient, tenant: Tenant, conversation_id: object) -> dict[str, object]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_a_reply_is_queued_for_delivery_and_waits_on_the_customer(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)

    response = client.post(f"/inbox/c/{conversation_id}/messages?view=mine",
                           data={"csrf_token": csrf, "body": "  Hoi Klaas, we zoeken het uit.  ",
                                 "mode": "reply", "after": "pending"},
                           follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/c/{conversation_id}?view=mine&notice=sent"
    detail = conversation(client, tenant, conversation_id)
    reply = detail["messages"][-1]  # type: ignore[index]
    assert reply["direction"] == "out" and reply["text"] == "Hoi Klaas, we zoeken het uit."
    assert reply["delivery_state"] == "queued" and reply["author_name"] == "Ada Agent"
    assert detail["status"] == "pending"
    with factory() as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == reply["id"])).one()
        assert entry.status == "pending"
    page = client.get(response.headers["location"]).text
    assert 'id="notice" role="status">Verstuurd.' in page


def test_send_and_resolve(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    client.post(f"/inbox/c/{conversation_id}/messages",
                data={"csrf_token": csrf, "body": "Opgelost!", "after": "resolved"})
    assert conversation(client, tenant, conversation_id)["status"] == "resolved"


def test_a_note_is_not_sent_and_leaves_the_status_alone(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)

    response = client.post(f"/inbox/c/{conversation_id}/messages",
                           data={"csrf_token": csrf, "body": "Klant belt vaker, vriendelijk blijven",
                                 "mode": "note"}, headers=ASYNC)

    assert response.status_code == 200 and response.json()["notice"] == "noted"
    detail = conversation(client, tenant, conversation_id)
    assert detail["status"] == "open"
    note = detail["messages"][-1]  # type: ignore[index]
    assert note["direction"] == "note" and note["delivery_state"] is None
    with factory() as session:
        assert session.scalars(select(OutboxEntry)).first() is None


def test_an_empty_reply_keeps_the_page_and_says_why(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)

    page = client.post(f"/inbox/c/{conversation_id}/messages", data={"csrf_token": csrf, "body": "   "})
    script = client.post(f"/inbox/c/{conversation_id}/messages", data={"csrf_token": csrf, "body": ""},
                         headers=ASYNC)

    assert page.status_code == 400
    assert 'id="composer-error" role="alert" data-testid="composer-error">Het bericht is leeg.' in page.text
    assert script.status_code == 400 and script.json()["detail"] == "Het bericht is leeg."
    assert len(conversation(client, tenant, conversation_id)["messages"]) == 1  # type: ignore[arg-type]


def test_status_assignee_priority_and_tags(client: TestClient, factory: sessionmaker[Session],
                                           tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{conversation_id}/update"

    assert client.post(url, data={"csrf_token": csrf, "assignee": "me"}).status_code == 200
    assert conversation(client, tenant, conversation_id)["assignee"]["id"] == tenant.agent_id  # type: ignore[index]
    client.post(url, data={"csrf_token": csrf, "priority": "high"})
    client.post(url, data={"csrf_token": csrf, "tags": "Retour, VIP klant,  , retour"})
    detail = conversation(client, tenant, conversation_id)
    assert detail["priority"] == "high"
    assert detail["tags"] == ["retour", "vip-klant"]
    assert detail["assignee"]["id"] == tenant.agent_id  # type: ignore[index]  # saving tags kept the rest

    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'value="retour, vip-klant"' in page
    assert '<option value="high" selected>Hoog</option>' in page
    assert f'<option value="{tenant.agent_id}" selected>Ada Agent (ik)</option>' in page
    assert 'id="assign-me"' not in page  # already mine

    client.post(url, data={"csrf_token": csrf, "assignee": "none"})
    client.post(url, data={"csrf_token": csrf, "status": "resolved"})
    detail = conversation(client, tenant, conversation_id)
    assert detail["assignee"] is None and detail["status"] == "resolved"
    assert 'id="reopen"' in client.get(f"/inbox/c/{conversation_id}").text
    with factory() as session:  # the service audits every change
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == conversation_id)).all()
        assert actions.count("conversation.updated") == 5


def test_snooze_until_is_amsterdam_time(client: TestClient, tenant: Tenant,
                                        frozen_clock: clock.FrozenClock) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{conversation_id}/update"

    winter = client.post(url, data={"csrf_token": csrf, "snooze_until": "2026-12-01T09:00"})
    assert winter.status_code == 200
    detail = conversation(client, tenant, conversation_id)
    assert detail["status"] == "snoozed"
    assert dt.datetime.fromisoformat(str(detail["snoozed_until"])) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'value="2026-12-01T09:00"' in page
    assert "Komt terug op dinsdag 1 december 2026 09:00" in page

    client.post(url, data={"csrf_token": csrf, "snooze_until": "2027-07-01T09:00"})
    summer = conversation(client, tenant, conversation_id)["snoozed_until"]
    assert dt.datetime.fromisoformat(str(summer)) == dt.datetime(2027, 7, 1, 7, 0, tzinfo=dt.UTC)

    past = client.post(url, data={"csrf_token": csrf, "snooze_until": "2026-11-01T09:00"})
    assert past.status_code == 400
    assert "Kies een moment in de toekomst om tot dan te snoozen." in past.text
    nonsense = client.post(url, data={"csrf_token": csrf, "snooze_until": "morgen"}, headers=ASYNC)
    assert nonsense.status_code == 400


def test_canned_replies_come_with_the_customers_name_filled_in(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    with factory() as session, session.begin():
        body = "Hoi {{customer.first_name}},\n\nGroet, {{agent.first_name}} van {{shop.name}}"
        reply = canned_service.create(session, shop_id=tenant.shop_id, title="Begroeting", shortcut="hoi",
                                      body=body)
        reply_id = reply.id
    conversation_id = post_message(client, tenant)["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text
    inserted = client.get(f"/inbox/c/{conversation_id}?canned={reply_id}").text

    option = re.search(rf'<option value="{reply_id}" data-body="([^"]*)">Begroeting \(/hoi\)</option>', page)
    assert option is not None
    assert option.group(1) == "Hoi Klaas,\n\nGroet, Ada van Winkel"
    assert '<textarea id="composer"' in inserted
    assert ">Hoi Klaas,\n\nGroet, Ada van Winkel</textarea>" in inserted


def test_merging_customers_joins_their_timelines(client: TestClient, tenant: Tenant) -> None:
    klaas = post_message(client, tenant, customer={"email": "klaas@example.nl", "name": "Klaas"}, subject="Eerst")
    other = post_message(client, tenant, customer={"phone": "+31 6 11112222", "name": "K. Klant"}, subject="Toen")
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{klaas['conversation_id']}/merge"

    myself = client.post(url, data={"csrf_token": csrf, "other_id": str(klaas["customer_id"])})
    unknown = client.post(url, data={"csrf_token": csrf, "other_id": "99999"})
    merged = client.post(url, data={"csrf_token": csrf, "other_id": f"#{other['customer_id']}"})

    assert myself.status_code == 400 and "Dat is deze klant al." in myself.text
    assert unknown.status_code == 400 and "Er is geen klant met dat nummer in deze winkel." in unknown.text
    assert merged.status_code == 200
    timeline = merged.text[merged.text.index('id="timeline"'):merged.text.index('id="merge"')]
    assert f'data-conversation-id="{other["conversation_id"]}"' in timeline
    assert f"Samengevoegd met klant #{other['customer_id']} (K. Klant)" in timeline
    assert "+31611112222" in merged.text
    customer = client.get(f"/api/v1/customers/{klaas['customer_id']}", headers=tenant.headers).json()
    assert {identity["value"] for identity in customer["identities"]} == {"klaas@example.nl", "+31611112222"}
