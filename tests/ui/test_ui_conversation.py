"""The conversation page: messages, delivery states, the customer panel, shop isolation, escaping."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.conversations.ingest import InboundFile, InboundMessage, ingest
from balie.customers.service import normalise
from balie.outbox import dispatcher
from factories import Tenant, post_message
from ui_support import active_content, message_ids, sign_in


def email_message(factory: sessionmaker[Session], client: TestClient, tenant: Tenant, address: str,
                  text: str, **extra: object) -> int:
    """The same customer writing on another channel (e-mail), through the one ingest path."""
    with factory() as session, session.begin():
        result = ingest(session, InboundMessage(shop_id=tenant.shop_id, channel="email",
                                                identities=[normalise("email", address)], text=text,
                                                subject="Via de mail", **extra),  # type: ignore[arg-type]
                        store=client.app.state.context.store)  # type: ignore[attr-defined]
        return result.conversation_id


def test_the_page_shows_the_messages_and_the_list_beside_them(client: TestClient, tenant: Tenant) -> None:
    first = post_message(client, tenant, subject="Kapotte fiets", text="Het voorwiel slingert.")
    conversation_id = first["conversation_id"]
    second = post_message(client, tenant, text="Ook de bel doet het niet.\nEn de lamp.")
    other = post_message(client, tenant, customer={"email": "ander@example.nl"})["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}")

    assert page.status_code == 200
    assert message_ids(page.text) == [first["message_id"], second["message_id"]]
    assert '<h2 id="conversation-subject">Kapotte fiets</h2>' in page.text
    assert '<div class="message__text">Ook de bel doet het niet.\nEn de lamp.</div>' in page.text
    assert 'data-direction="in"' in page.text
    assert f'data-conversation-id="{other}"' in page.text  # the list is beside the conversation
    assert re.search(rf'class="row row--normal row--open" data-conversation-id="{conversation_id}"', page.text)
    assert 'id="composer"' in page.text and 'id="send"' in page.text


def test_the_customer_panel_shows_identities_and_every_channel(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    api = post_message(client, tenant, customer={"email": "klaas@example.nl", "name": "Klaas Klant",
                                                 "phone": "06 12345678"}, subject="Via de API")
    mail = email_message(factory, client, tenant, "klaas@example.nl", "En nog iets per mail.")
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{api['conversation_id']}").text

    assert '<h2 class="panel__title panel__title--large" id="customer-name">Klaas Klant</h2>' in page
    assert f"Klant #{api['customer_id']}" in page
    assert '<span class="identities__value">klaas@example.nl</span>' in page
    assert '<span class="identities__value">+31612345678</span>' in page
    timeline = page[page.index('id="timeline"'):page.index('id="merge"')]
    assert f'data-conversation-id="{mail}"' in timeline and f'href="/inbox/c/{mail}"' in timeline
    assert f'data-conversation-id="{api["conversation_id"]}"' in timeline
    assert "Via de mail" in timeline and "Via de API" in timeline
    assert 'class="icon icon--email"' in timeline


def test_a_conversation_of_another_shop_is_not_found(client: TestClient, tenant: Tenant,
                                                     other_tenant: Tenant) -> None:
    theirs = post_message(client, other_tenant, text="Geheim")["conversation_id"]
    csrf = sign_in(client, tenant)

    page = client.get(f"/inbox/c/{theirs}")
    partial = client.get(f"/ui/partials/conversation/{theirs}")
    reply = client.post(f"/inbox/c/{theirs}/messages", data={"csrf_token": csrf, "body": "Hallo"})
    update = client.post(f"/inbox/c/{theirs}/update", data={"csrf_token": csrf, "status": "resolved"})

    assert page.status_code == 404
    assert "Deze pagina bestaat niet, of hoort bij een andere winkel." in page.text
    assert "Geheim" not in page.text
    assert partial.status_code == 404 and reply.status_code == 404 and update.status_code == 404
    assert client.get("/inbox/c/not-a-number").status_code == 404
    detail = client.get(f"/api/v1/conversations/{theirs}", headers=other_tenant.headers).json()
    assert detail["status"] == "open" and len(detail["messages"]) == 1


def test_customer_text_and_names_never_run_as_html(client: TestClient, tenant: Tenant) -> None:
    script = "<script>alert('xss')</script>"
    image = '<img src=x onerror="alert(1)">'
    posted = post_message(client, tenant, customer={"email": "x@example.nl", "name": image},
                          subject=f"Help {script}", text=f"Hoi {script} en {image}")
    sign_in(client, tenant)

    pages = [client.get(path).text for path in (
        "/inbox", f"/inbox/c/{posted['conversation_id']}", "/ui/partials/list",
        f"/ui/partials/conversation/{posted['conversation_id']}", "/inbox?q=script")]

    for page in pages:
        assert active_content(page) == []
        assert "<script>alert" not in page and "<img src=x" not in page
    conversation = pages[1]
    assert "Hoi &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; en &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in (
        conversation)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</h2>" in conversation  # the customer's name


def test_attachments_are_links_that_download_only_in_the_own_shop(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant
) -> None:
    conversation_id = email_message(
        factory, client, tenant, "foto@example.nl", "Zie de foto.",
        files=[InboundFile("kras.html", "text/html", b"<script>alert(1)</script>")])
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text
    link = re.search(r'href="(/ui/attachments/\d+)" download>', page)

    assert link is not None and "kras.html" in page
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.content == b"<script>alert(1)</script>"
    assert download.headers["content-disposition"] == 'attachment; filename="kras.html"'
    assert "sandbox" in download.headers["content-security-policy"]
    client.cookies.clear()
    sign_in(client, other_tenant)
    assert client.get(link.group(1)).status_code == 404


def test_delivery_state_of_replies_is_shown_with_the_reason_it_failed(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    client.post(f"/inbox/c/{conversation_id}/messages", data={"csrf_token": csrf, "body": "Komt goed!"})
    queued = client.get(f"/inbox/c/{conversation_id}").text
    assert 'data-state="queued"' in queued and "In de wachtrij om te versturen" in queued

    dispatcher.dispatch_once(factory)  # the shop has no webhook URL: this can never be delivered

    failed = client.get(f"/inbox/c/{conversation_id}").text
    assert 'data-state="failed"' in failed
    assert "Niet afgeleverd: no webhook URL configured for the API channel" in failed


def test_internal_notes_look_different_from_replies(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    client.post(f"/inbox/c/{conversation_id}/messages", data={"csrf_token": csrf, "body": "Alleen voor ons",
                                                              "mode": "note"})
    client.post(f"/inbox/c/{conversation_id}/messages", data={"csrf_token": csrf, "body": "Voor de klant"})

    page = client.get(f"/inbox/c/{conversation_id}").text

    note = page[page.index('class="message message--note"'):page.index('class="message message--out"')]
    assert "Interne notitie" in note and "Alleen voor ons" in note and "data-state" not in note
    assert 'class="message message--out"' in page and "Voor de klant" in page
