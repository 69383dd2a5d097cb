"""A new e-mail from the agent UI (/inbox/new): the form with the shop's support addresses, a
conversation started and queued like any reply, errors beside their fields with nothing
stored, CSRF, the page for a shop without addresses, prefilling from a customer."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote_plus

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.audit.models import AuditEvent
from balie.channels.email import service as mailbox_service
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer, Identity
from balie.outbox.models import OutboxEntry
from balie.shops.models import Shop
from factories import Tenant, post_message
from ui_support import ASYNC, PASSWORD, active_content, elements, log_in, session_token, sign_in

SUPPORT = "support@winkel.nl"
SALES = "verkoop@winkel.nl"
MIB = 1024 * 1024


def add_mailbox(factory: sessionmaker[Session], tenant: Tenant, address: str, display_name: str = "") -> None:
    with factory() as session, session.begin():
        mailbox_service.create(session, shop_id=tenant.shop_id, address=address, display_name=display_name)


@pytest.fixture
def shop(factory: sessionmaker[Session], tenant: Tenant) -> Tenant:
    """A shop with two support addresses; the first added is its default."""
    add_mailbox(factory, tenant, SUPPORT, "Team Winkel")
    add_mailbox(factory, tenant, SALES, "Verkoop")
    return tenant


def new_mail(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "to": "Nieuwe.Klant@Example.nl", "name": "Nina Nieuw", "from": SALES,
              "subject": "Uw fiets is klaar", "text": "Beste Nina,\r\n\r\nUw fiets staat klaar."}
    values.update(fields)
    return values


def stored(factory: sessionmaker[Session]) -> tuple[int, ...]:
    with factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                     for model in (Conversation, Message, Customer, Identity, OutboxEntry))


def colleague(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", name="Cor Collega", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
        return agent.email


def field_value(page: str, element_id: str) -> str | None:
    for _tag, attributes in elements(page):
        if attributes.get("id") == element_id:
            return attributes.get("value")
    raise AssertionError(f"no #{element_id} on the page")


def test_the_button_and_the_form_with_the_shops_support_addresses(
    client: TestClient, shop: Tenant, other_tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    add_mailbox(factory, other_tenant, "info@andere-winkel.nl")
    sign_in(client, shop)
    inbox = client.get("/inbox").text
    assert 'id="compose-link" href="/inbox/new"' in inbox and "Nieuwe e-mail" in inbox
    assert "<dt><kbd>c</kbd></dt><dd>Nieuwe e-mail aan een klant</dd>" in inbox  # the shortcuts overlay

    page = client.get("/inbox/new")

    assert page.status_code == 200
    html = page.text
    assert 'id="compose-form"' in html and 'method="post" action="/inbox/new"' in html
    assert re.search(r'name="csrf_token" value="[^"]+"', html)
    for field in ("compose-to", "compose-name", "compose-from", "compose-subject", "compose-text", "compose-send"):
        assert f'id="{field}"' in html, field
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]*)</option>', html)
    assert options == [(SUPPORT, " selected", "Team Winkel &lt;support@winkel.nl&gt;"),
                       (SALES, "", "Verkoop &lt;verkoop@winkel.nl&gt;")]  # the first added is chosen
    assert "andere-winkel" not in html
    assert 'aria-current="page" data-testid="compose-link"' in html and "form-error" not in html
    assert active_content(html) == []
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_with_one_support_address_there_is_nothing_to_choose(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    add_mailbox(factory, tenant, SUPPORT)
    csrf = sign_in(client, tenant)
    html = client.get("/inbox/new").text
    assert 'id="compose-from"' not in html and "<select" not in html.split('id="compose-form"')[1]
    assert '<input type="hidden" name="from" value="support@winkel.nl">' in html
    assert "Van: support@winkel.nl" in html
    response = client.post("/inbox/new", data=new_mail(csrf, **{"from": SUPPORT}), follow_redirects=False)
    assert response.status_code == 303, response.text


def test_sending_starts_an_email_conversation_queued_like_any_reply(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, shop)

    response = client.post("/inbox/new", data=new_mail(csrf), follow_redirects=False)

    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.fullmatch(r"/inbox/c/(\d+)\?notice=sent", location)
    assert match, location
    conversation_id = int(match.group(1))
    with factory() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.shop_id == shop.shop_id
        assert (conversation.channel, conversation.channel_address) == ("email", SALES)
        assert (conversation.subject, conversation.status) == ("Uw fiets is klaar", "pending")
        [message] = session.scalars(select(Message).where(Message.conversation_id == conversation_id)).all()
        assert (message.direction, message.channel, message.delivery_state) == ("out", "email", "queued")
        assert message.text == "Beste Nina,\n\nUw fiets staat klaar." and message.author_agent_id == shop.agent_id
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == message.id)).one()
        assert (entry.channel, entry.status) == ("email", "pending")
        customer = session.get_one(Customer, conversation.customer_id)
        assert customer.name == "Nina Nieuw"
        identities = session.scalars(select(Identity).where(Identity.customer_id == customer.id)).all()
        assert [(i.kind, i.value) for i in identities] == [("email", "nieuwe.klant@example.nl")]
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.started")).one()
        assert audit.actor_agent_id == shop.agent_id and audit.object_id == conversation_id
    page = client.get(location).text
    assert f'id="conversation" data-conversation-id="{conversation_id}"' in page
    assert 'id="notice" role="status">Verstuurd.' in page
    assert 'data-direction="out"' in page and 'data-state="queued"' in page


def test_the_shops_default_address_is_used_when_from_is_not_sent(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, shop)
    data = new_mail(csrf)
    del data["from"]
    assert client.post("/inbox/new", data=data, follow_redirects=False).status_code == 303
    with factory() as session:
        assert session.scalars(select(Conversation.channel_address)).one() == SUPPORT



def test_a_long_message_is_sent_whole(client: TestClient, shop: Tenant, factory: sessionmaker[Session]) -> None:
    """Under 1 MiB of text, but more than 1 MiB once the browser has percent-encoded it."""
    text = "Uw fiets is één dag later klaar, óók de bel.\n" * 18_000
    assert len(text.encode()) < MIB < len(quote_plus(text)) < 2 * MIB
    csrf = sign_in(client, shop)
    response = client.post("/inbox/new", data=new_mail(csrf, text=text), follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    with factory() as session:
        assert session.scalars(select(Message.text)).one() == text.strip()

BAD_INPUT = [
    pytest.param({"to": "a@b.nl\r\nBcc: x@y"}, "to", "Vul één e-mailadres in", 400, id="header-injection-in-to"),
    pytest.param({"to": "  "}, "to", "Vul het e-mailadres van de klant in.", 400, id="empty-to"),
    pytest.param({"to": "Klaas <klaas@example.nl>"}, "to", "Vul één e-mailadres in", 400, id="display-name-in-to"),
    pytest.param({"to": "klaas@example.nl, piet@example.nl"}, "to", "Vul één e-mailadres in", 400, id="two-addresses"),
    pytest.param({"name": "Nina\r\nBcc: x@y"}, "name", "Eén regel, zonder regeleinden", 400, id="line-break-in-name"),
    pytest.param({"subject": " "}, "subject", "Vul een onderwerp in.", 400, id="empty-subject"),
    pytest.param({"subject": "Hallo\r\nBcc: x@y"}, "subject", "Eén regel, zonder regeleinden", 400,
                 id="header-injection-in-subject"),
    pytest.param({"subject": "x" * 501}, "subject", "hoogstens 500 tekens", 400, id="long-subject"),
    pytest.param({"text": " \r\n "}, "text", "Schrijf een bericht.", 400, id="empty-text"),
    pytest.param({"text": "a" * (MIB + MIB // 10)}, "text", "groter dan 1 MB", 413, id="text-of-1.1-MiB"),
    pytest.param({"text": "Hallo\x00"}, "text", "teken dat niet verstuurd kan worden", 400, id="nul-in-text"),
    pytest.param({"from": "info@andere-winkel.nl"}, "from", "Kies een van de supportadressen", 400,
                 id="another-shops-address"),
    pytest.param({"from": "niet-bestaand@winkel.nl"}, "from", "Kies een van de supportadressen", 400,
                 id="unknown-address"),
]


@pytest.mark.parametrize(("fields", "field", "message", "status"), BAD_INPUT)
def test_bad_input_is_explained_beside_its_field_and_nothing_is_stored(
    client: TestClient, shop: Tenant, other_tenant: Tenant, factory: sessionmaker[Session],
    fields: dict[str, str], field: str, message: str, status: int,
) -> None:
    add_mailbox(factory, other_tenant, "info@andere-winkel.nl")
    csrf = sign_in(client, shop)
    before = stored(factory)
    data = new_mail(csrf, **fields)

    response = client.post("/inbox/new", data=data, follow_redirects=False)

    assert response.status_code == status
    page = response.text
    assert 'id="form-error" role="alert"' in page and "De e-mail is niet verstuurd." in page
    assert re.search(rf'<p class="form-field__error" id="compose-{field}-error">.*?<span>[^<]*{message}',
                     page, re.S), page[:2000]
    assert re.search(rf'id="compose-{field}"[^>]*aria-describedby="compose-{field}-error', page)
    assert page.count('class="form-field__error"') == 1  # only the field that is wrong
    # What the agent typed is still there (escaped), to correct rather than retype.
    assert field_value(page, "compose-to") == data["to"]
    assert field_value(page, "compose-subject") == data["subject"]
    assert field_value(page, "compose-name") == data["name"]
    textarea = re.search(r'<textarea id="compose-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea and unescape(textarea.group(1)) == data["text"]
    assert active_content(page) == []
    assert stored(factory) == before


def test_every_problem_is_shown_at_once(client: TestClient, shop: Tenant, factory: sessionmaker[Session]) -> None:
    csrf = sign_in(client, shop)
    response = client.post("/inbox/new", data=new_mail(csrf, to="geen adres", subject="", text="",
                                                       **{"from": "x@elders.nl"}))
    assert response.status_code == 400
    for field in ("to", "subject", "text", "from"):
        assert f'id="compose-{field}-error"' in response.text, field
        assert f'<a href="#compose-{field}">' in response.text, field
    assert 'value="geen adres"' in response.text
    assert stored(factory) == (0, 0, 0, 0, 0)


def test_the_same_message_twice_is_refused_and_leads_to_the_first(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, shop)
    first = client.post("/inbox/new", data=new_mail(csrf), follow_redirects=False)
    first_id = int(first.headers["location"].split("/")[3].split("?")[0])
    before = stored(factory)

    again = client.post("/inbox/new", data=new_mail(csrf, to="nieuwe.klant@example.nl"), follow_redirects=False)

    assert again.status_code == 409
    assert 'id="compose-form-error"' in again.text and "een paar minuten geleden al naar deze klant" in again.text
    assert f'<a href="/inbox/c/{first_id}" id="repeated-in" data-conversation-id="{first_id}">' in again.text
    assert f"Gesprek #{first_id} openen" in again.text
    assert stored(factory) == before
    other_subject = client.post("/inbox/new", data=new_mail(csrf, subject="Nog iets"), follow_redirects=False)
    assert other_subject.status_code == 303


def test_without_the_csrf_token_nothing_is_sent(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, shop)
    missing = client.post("/inbox/new", data={k: v for k, v in new_mail(csrf).items() if k != "csrf_token"})
    forged = client.post("/inbox/new", data=new_mail("forged"))
    forged_header = client.post("/inbox/new", data=new_mail(""), headers={"X-CSRF-Token": "forged", **ASYNC})
    for response in (missing, forged):
        assert response.status_code == 403
        assert 'id="error-message"' in response.text and "verlopen" in response.text
    assert forged_header.status_code == 403 and forged_header.json()["error"] == "csrf"
    assert stored(factory) == (0, 0, 0, 0, 0)


def test_logged_out_the_page_leads_to_the_login(client: TestClient) -> None:
    response = client.get("/inbox/new?customer_id=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Finbox%2Fnew%3Fcustomer_id%3D1"


def test_a_shop_without_support_addresses_is_told_how_to_add_one(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, tenant)

    page = client.get("/inbox/new")

    assert page.status_code == 200
    assert 'id="compose-no-mailbox"' in page.text and "Deze winkel heeft nog geen supportadres." in page.text
    assert '<a class="button button--primary" id="add-mailbox" href="/settings/mailboxes">' in page.text
    assert 'id="compose-form"' not in page.text
    refused = client.post("/inbox/new", data=new_mail(csrf, **{"from": ""}))
    assert refused.status_code == 400 and 'id="compose-no-mailbox"' in refused.text
    assert stored(factory) == (0, 0, 0, 0, 0)

    client.post("/logout", data={"csrf_token": csrf})
    assert log_in(client, colleague(factory, tenant)).status_code == 303
    not_admin = client.get("/inbox/new").text
    assert 'id="compose-no-mailbox"' in not_admin and 'id="add-mailbox"' not in not_admin
    assert "Vraag een beheerder van deze winkel" in not_admin


def test_an_agent_who_is_no_admin_sends_too(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    assert log_in(client, colleague(factory, shop)).status_code == 303
    csrf = session_token(client.get("/inbox/new").text)
    assert client.post("/inbox/new", data=new_mail(csrf), follow_redirects=False).status_code == 303


def test_from_the_customer_panel_to_and_name_are_filled_in(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session]
) -> None:
    posted = post_message(client, shop, customer={"email": "klaas@example.nl", "name": "Klaas Klant"})
    phone_only = post_message(client, shop, customer={"phone": "+31612345678"})
    sign_in(client, shop)
    panel = client.get(f"/inbox/c/{posted['conversation_id']}").text
    link = f'<a href="/inbox/new?customer_id={posted["customer_id"]}" id="email-customer"'
    assert link in panel and "Deze klant e-mailen" in panel
    assert 'id="email-customer"' not in client.get(f"/inbox/c/{phone_only['conversation_id']}").text
    partial = client.get(f"/ui/partials/conversation/{posted['conversation_id']}", headers=ASYNC).text
    assert link in partial  # the live refresh keeps it

    page = client.get(f"/inbox/new?customer_id={posted['customer_id']}")

    assert page.status_code == 200
    assert field_value(page.text, "compose-to") == "klaas@example.nl"
    assert field_value(page.text, "compose-name") == "Klaas Klant"
    assert field_value(page.text, "compose-subject") == ""
    no_email = client.get(f"/inbox/new?customer_id={phone_only['customer_id']}")
    assert no_email.status_code == 200 and field_value(no_email.text, "compose-to") == ""


def test_another_shops_customer_is_not_found(
    client: TestClient, shop: Tenant, other_tenant: Tenant
) -> None:
    theirs = post_message(client, other_tenant, customer={"email": "geheim@example.nl", "name": "Geheim"})
    sign_in(client, shop)
    for wanted in (str(theirs["customer_id"]), "abc", "0", "99999999999999999999", "-1"):
        response = client.get("/inbox/new", params={"customer_id": wanted})
        assert response.status_code == 404, wanted
        assert 'id="error-message"' in response.text
        assert "geheim@example.nl" not in response.text and "Geheim" not in response.text


def test_names_are_shown_as_text_never_run(client: TestClient, shop: Tenant) -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    posted = post_message(client, shop, customer={"email": "xss@example.nl", "name": hostile})
    csrf = sign_in(client, shop)

    page = client.get(f"/inbox/new?customer_id={posted['customer_id']}").text

    assert field_value(page, "compose-name") == hostile
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert active_content(page) == []
    refused = client.post("/inbox/new", data=new_mail(csrf, name=hostile, subject=hostile, text="", to=hostile)).text
    assert "<script>alert" not in refused and "<img src=x" not in refused and active_content(refused) == []


def test_the_page_speaks_english_on_request(client: TestClient, shop: Tenant) -> None:
    csrf = sign_in(client, shop)
    dutch = client.get("/inbox/new").text
    for text in ("Nieuwe e-mail", "Aan", "Van", "Onderwerp", "Bericht", "Versturen"):
        assert text in dutch, text

    client.get("/ui/lang/en")
    english = client.get("/inbox/new").text
    assert '<html lang="en">' in english
    for text in ("New e-mail", ">To<", ">From<", ">Subject<", ">Message<", "Send", "Back to the inbox",
                 "<dd>New e-mail to a customer</dd>"):
        assert text in english, text
    for text in ("Nieuwe e-mail", "Onderwerp", "Versturen"):
        assert text not in english, text
    refused = client.post("/inbox/new", data=new_mail(csrf, to="a@b.nl\r\nBcc: x@y", subject="")).text
    assert "The e-mail was not sent. Please check:" in refused
    assert "Enter one e-mail address, such as name@example.nl." in refused and "Enter a subject." in refused


def test_the_page_script_gets_json(client: TestClient, shop: Tenant, factory: sessionmaker[Session]) -> None:
    csrf = sign_in(client, shop)
    headers = {"X-CSRF-Token": csrf, **ASYNC}
    refused = client.post("/inbox/new", data=new_mail("", subject="", text=""), headers=headers)
    assert refused.status_code == 400
    body: dict[str, Any] = refused.json()
    assert body["error"] == "empty_subject" and set(body["fields"]) == {"subject", "text"}
    assert body["detail"] == "Vul een onderwerp in."

    sent = client.post("/inbox/new", data=new_mail(""), headers=headers)

    assert sent.status_code == 200
    answer = sent.json()
    assert answer["ok"] is True and answer["url"] == f"/inbox/c/{answer['conversation_id']}"
    assert stored(factory)[0] == 1
