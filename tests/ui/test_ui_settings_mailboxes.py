"""The settings page for support addresses (/settings/mailboxes): shop admins only, plain
forms with CSRF, errors beside the fields, and the IMAP state at a glance."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.audit.models import AuditEvent
from balie.channels.email.models import Mailbox
from balie.shops.models import Shop
from factories import Tenant
from ui_support import PASSWORD, active_content, elements, log_in, session_token, sign_in

ODD_PASSWORD = "p@ss:wörd/#?%\"' <&> 🔑"


def add_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {
        "csrf_token": csrf, "address": "Support@Winkel.example.nl", "display_name": "Team Winkel",
        "signature": "Groet,\r\nTeam Winkel", "imap_host": "", "imap_port": "", "imap_security": "tls",
        "imap_user": "", "imap_password": "", "imap_folder": "INBOX", "smtp_host": "", "smtp_port": "",
        "smtp_security": "starttls", "smtp_user": "", "smtp_password": "",
    }
    values.update(fields)
    return values


def mailboxes(factory: sessionmaker[Session], shop_id: int) -> list[Mailbox]:
    with factory() as session:
        return list(session.scalars(select(Mailbox).where(Mailbox.shop_id == shop_id).order_by(Mailbox.id)))


def api_create(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/mailboxes", headers=tenant.headers, json={"address": "help@winkel.nl", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def colleague(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="colleague@example.nl", name="Cor Collega", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
        return agent.email


def test_an_admin_adds_an_address_and_sees_it_listed(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, tenant)
    inbox = client.get("/inbox").text
    assert 'id="settings-link" href="/settings/mailboxes"' in inbox
    page = client.get("/settings/mailboxes")
    assert page.status_code == 200
    assert 'id="mailboxes-empty"' in page.text and 'id="mailbox-form"' in page.text
    assert active_content(page.text) == []

    response = client.post("/settings/mailboxes", follow_redirects=False, data=add_form(
        csrf, imap_host="IMAP.Example.NL", imap_user="support@winkel.nl", imap_password=ODD_PASSWORD,
        imap_folder="Support", smtp_host="smtp.example.nl", smtp_port="2587", smtp_user="relay",
        smtp_password=ODD_PASSWORD))

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/settings/mailboxes?notice=added"
    listed = client.get(response.headers["location"]).text
    assert 'id="notice" role="status"' in listed and "Supportadres toegevoegd." in listed
    [stored] = mailboxes(factory, tenant.shop_id)
    assert f'data-mailbox-id="{stored.id}" data-imap-status="ok"' in listed
    assert "support@winkel.example.nl" in listed and "Team Winkel" in listed
    assert "support@winkel.nl op imap.example.nl:993" in listed and "relay op smtp.example.nl:2587" in listed
    assert (stored.imap_host, stored.imap_port, stored.imap_folder) == ("imap.example.nl", 993, "Support")
    assert stored.imap_password == ODD_PASSWORD and stored.smtp_password == ODD_PASSWORD
    assert stored.signature == "Groet,\nTeam Winkel"
    edit = client.get(f"/settings/mailboxes/{stored.id}").text
    for text in (listed, edit):
        assert "p@ss" not in text and "wörd" not in text
    assert 'id="imap-password-hint"' in edit and 'value="support@winkel.nl"' in edit
    with factory() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "mailbox")).one()
        assert audit.action == "mailbox.created" and "p@ss" not in str(audit.data)


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, tenant)
    missing = client.post("/settings/mailboxes", data={k: v for k, v in add_form(csrf).items() if k != "csrf_token"})
    wrong = client.post("/settings/mailboxes", data=add_form("forged"))
    for response in (missing, wrong):
        assert response.status_code == 403
        assert 'id="error-message"' in response.text and "verlopen" in response.text
    mailbox = api_create(client, tenant)
    assert client.post(f"/settings/mailboxes/{mailbox['id']}/delete", data={}).status_code == 403
    assert client.post(f"/settings/mailboxes/{mailbox['id']}", data={"display_name": "x"}).status_code == 403
    assert [row.address for row in mailboxes(factory, tenant.shop_id)] == ["help@winkel.nl"]


def test_a_failing_mailbox_stands_out_with_its_error_and_next_try(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    working = api_create(client, tenant, address="ok@winkel.nl", imap_url="imaps://u:p@imap.example.nl")
    failing = api_create(client, tenant, address="kapot@winkel.nl", imap_url="imaps://u:p@imap.example.nl")
    api_create(client, tenant, address="forward@winkel.nl")
    with factory() as session, session.begin():
        row = session.get_one(Mailbox, failing["id"])
        row.imap_failures = 4
        row.imap_error = "[AUTHENTICATIONFAILED] Invalid credentials (Failure)"
        row.imap_next_poll_at = frozen_clock() + dt.timedelta(minutes=16)  # 10:16 UTC is 11:16 in Amsterdam
    sign_in(client, tenant)

    page = client.get("/settings/mailboxes").text

    assert re.search(rf'data-mailbox-id="{failing["id"]}" data-imap-status="failing"', page)
    assert re.search(rf'data-mailbox-id="{working["id"]}" data-imap-status="ok"', page)
    assert 'data-imap-status="off"' in page
    assert 'class="state state--failing"' in page and "Ophalen mislukt" in page
    assert "[AUTHENTICATIONFAILED] Invalid credentials (Failure)" in page
    assert "4 keer achter elkaar mislukt." in page
    assert re.search(r'Volgende poging: <time datetime="2026-11-24T10:16:00\+00:00"[^>]*>11:16</time>', page)
    assert "Ophalen mislukt:" in client.get(f"/settings/mailboxes/{failing['id']}").text


def test_non_admins_get_403_and_no_settings_link(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    mailbox = api_create(client, tenant)
    assert log_in(client, colleague(factory, tenant)).status_code == 303
    inbox = client.get("/inbox").text
    csrf = session_token(inbox)
    assert "settings-link" not in inbox and "/settings" not in inbox
    for response in (
        client.get("/settings"),
        client.get("/settings/mailboxes"),
        client.get(f"/settings/mailboxes/{mailbox['id']}"),
        client.get(f"/settings/mailboxes/{mailbox['id']}/delete"),
        client.post("/settings/mailboxes", data=add_form(csrf, address="mine@winkel.nl")),
        client.post(f"/settings/mailboxes/{mailbox['id']}/delete", data={"csrf_token": csrf}),
    ):
        assert response.status_code == 403
        assert "Alleen de beheerders van de winkel kunnen de instellingen wijzigen." in response.text
    client.get("/ui/lang/en")
    english = client.get("/settings/mailboxes")
    assert english.status_code == 403
    assert "Only the shop&#39;s admins can change its settings." in english.text
    assert [row.address for row in mailboxes(factory, tenant.shop_id)] == ["help@winkel.nl"]


def test_the_page_speaks_english_on_request(client: TestClient, tenant: Tenant) -> None:
    api_create(client, tenant, imap_url="imaps://u:p@imap.example.nl")
    sign_in(client, tenant)
    assert "Supportadressen" in client.get("/settings/mailboxes").text

    switched = client.get("/ui/lang/en?next=/settings/mailboxes", follow_redirects=False)

    assert switched.headers["location"] == "/settings/mailboxes"
    page = client.get("/settings/mailboxes").text
    assert '<html lang="en">' in page
    for text in ("Support addresses", "Settings", "Add a support address", "Fetching mail", "Incoming mail",
                 "Add address", "Back to the inbox"):
        assert text in page, text
    for dutch in ("Supportadressen", "Instellingen", "Adres toevoegen", "Haalt mail op"):
        assert dutch not in page, dutch


def test_names_and_signatures_are_shown_as_text_never_run(client: TestClient, tenant: Tenant) -> None:
    hostile = '<script>alert("naam")</script><img src=x onerror=alert(1)>'
    mailbox = api_create(client, tenant, display_name=hostile,
                         signature=hostile + "\n<a href=javascript:alert(1)>x</a>")
    sign_in(client, tenant)
    for url in ("/settings/mailboxes", f"/settings/mailboxes/{mailbox['id']}",
                f"/settings/mailboxes/{mailbox['id']}/delete"):
        page = client.get(url)
        assert page.status_code == 200
        assert active_content(page.text) == [], url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "javascript:" not in page.text.replace("&lt;a href=javascript:", "")
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
    listed = client.get("/settings/mailboxes").text
    assert "&lt;script&gt;alert(&#34;naam&#34;)&lt;/script&gt;" in listed
    assert not any(tag == "a" and (attributes.get("href") or "").startswith("javascript")
                   for tag, attributes in elements(listed))


def test_bad_input_is_explained_beside_the_field_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, tenant)
    response = client.post("/settings/mailboxes", data=add_form(
        csrf, address="support@winkel.nl\r\nBcc: victim@example.nl", display_name="Winkel\r\nBcc: x@evil.example",
        signature="Groet\x1b[2J", imap_host="javascript:alert(1)", imap_port="99999", imap_user="u",
        imap_password="geheim\r\nA1 LOGOUT", smtp_host="smtp.example.nl", smtp_port="25x", smtp_password="p"))

    assert response.status_code == 400
    page = response.text
    assert 'id="form-error" role="alert"' in page and "Het adres is niet toegevoegd." in page
    for field in ("address", "display-name", "signature", "imap-host", "imap-port", "smtp-port"):
        assert f'id="{field}-error"' in page, field
    assert re.search(r'id="imap-host"[^>]*aria-invalid="true"', page)
    assert "Vul een e-mailadres in" in page and "De poort is een getal van 1 tot en met 65535." in page
    assert 'value="javascript:alert(1)"' in page  # kept in the field (escaped), so it can be corrected
    assert "geheim" not in page and 'value="p"' not in page
    assert "<details class=\"form-section form-section--server\" id=\"imap-settings\" open>" in page
    assert active_content(page) == []
    assert mailboxes(factory, tenant.shop_id) == []

    imap_needs_login = client.post("/settings/mailboxes", data=add_form(csrf, imap_host="imap.example.nl"))
    assert imap_needs_login.status_code == 400
    assert 'id="imap-user-error"' in imap_needs_login.text and "Vul de gebruikersnaam in." in imap_needs_login.text
    no_password = client.post("/settings/mailboxes", data=add_form(csrf, imap_host="imap.example.nl", imap_user="u"))
    assert 'id="imap-password-error"' in no_password.text and "Vul het wachtwoord in." in no_password.text
    huge = client.post("/settings/mailboxes", data=add_form(csrf, display_name="x" * 5000, signature="y" * 5000))
    assert huge.status_code == 400 and 'id="display-name-error"' in huge.text and 'id="signature-error"' in huge.text
    assert mailboxes(factory, tenant.shop_id) == []


def test_a_taken_address_is_a_clear_409(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    api_create(client, other_tenant, address="info@gedeeld.nl")
    csrf = sign_in(client, tenant)
    response = client.post("/settings/mailboxes", data=add_form(csrf, address="INFO@gedeeld.nl"))
    assert response.status_code == 409
    assert 'id="address-error"' in response.text and "Dit is al een supportadres" in response.text
    assert 'value="INFO@gedeeld.nl"' in response.text
    assert mailboxes(factory, tenant.shop_id) == []


def test_editing_keeps_the_password_unless_a_new_one_is_typed(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    mailbox = api_create(client, tenant, imap_url="imaps://u:geheim@imap.example.nl",
                         smtp_url="smtps://relay:ook-geheim@smtp.example.nl")
    with factory() as session, session.begin():
        session.get_one(Mailbox, mailbox["id"]).imap_last_uid = 12
    csrf = sign_in(client, tenant)
    url = f"/settings/mailboxes/{mailbox['id']}"
    form = add_form(csrf, address="ignored@elsewhere.nl", display_name="Nieuw", signature="",
                    imap_host="imap.example.nl", imap_port="993", imap_user="u", smtp_host="smtp.example.nl",
                    smtp_port="465", smtp_security="tls", smtp_user="relay")

    saved = client.post(url, data=form, follow_redirects=False)

    assert saved.status_code == 303 and saved.headers["location"] == "/settings/mailboxes?notice=saved"
    row = mailboxes(factory, tenant.shop_id)[0]
    assert (row.address, row.display_name, row.signature) == ("help@winkel.nl", "Nieuw", "")
    assert (row.imap_password, row.smtp_password, row.imap_last_uid) == ("geheim", "ook-geheim", 12)

    partial = client.post(url, data={"csrf_token": csrf, "display_name": "Alleen de naam"}, follow_redirects=False)
    assert partial.status_code == 303  # the fields not sent stay as they are
    row = mailboxes(factory, tenant.shop_id)[0]
    assert (row.display_name, row.imap_host, row.imap_password, row.smtp_host) == (
        "Alleen de naam", "imap.example.nl", "geheim", "smtp.example.nl")

    cleared = client.post(url, data={**form, "imap_host": "", "smtp_host": ""}, follow_redirects=False)
    assert cleared.status_code == 303
    row = mailboxes(factory, tenant.shop_id)[0]
    assert not row.polls_imap and row.imap_password is None and row.smtp_host is None and row.smtp_password is None
    page = client.get("/settings/mailboxes").text
    assert "Geen IMAP" in page and "De standaard mailserver van de installatie" in page

    bad = client.post(url, data={**form, "display_name": "Nieuwer", "imap_port": "0"})
    assert bad.status_code == 400 and 'id="imap-port-error"' in bad.text
    assert "De wijzigingen zijn niet opgeslagen." in bad.text
    assert mailboxes(factory, tenant.shop_id)[0].display_name == "Nieuw"


def test_removing_asks_first_and_works_without_javascript(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    mailbox = api_create(client, tenant, imap_url="imaps://u:p@imap.example.nl")
    theirs = api_create(client, other_tenant, address="info@andere.nl")
    csrf = sign_in(client, tenant)
    listed = client.get("/settings/mailboxes").text
    assert f'href="/settings/mailboxes/{mailbox["id"]}/delete"' in listed

    confirm = client.get(f"/settings/mailboxes/{mailbox['id']}/delete")
    assert confirm.status_code == 200
    assert "help@winkel.nl verwijderen?" in confirm.text and 'id="delete-form"' in confirm.text
    assert '<a class="button" href="/settings/mailboxes" id="delete-cancel">' in confirm.text
    assert mailboxes(factory, tenant.shop_id) != []

    removed = client.post(f"/settings/mailboxes/{mailbox['id']}/delete", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"] == "/settings/mailboxes?notice=removed"
    assert mailboxes(factory, tenant.shop_id) == []
    assert "Supportadres verwijderd." in client.get(removed.headers["location"]).text

    for response in (client.get(f"/settings/mailboxes/{theirs['id']}"),
                     client.get(f"/settings/mailboxes/{theirs['id']}/delete"),
                     client.post(f"/settings/mailboxes/{theirs['id']}/delete", data={"csrf_token": csrf}),
                     client.get("/settings/mailboxes/abc"),
                     client.get("/settings/mailboxes/99999999999999999999")):
        assert response.status_code == 404
        assert 'id="error-message"' in response.text
    assert len(mailboxes(factory, other_tenant.shop_id)) == 1


def test_a_logged_out_visitor_is_sent_to_the_login(client: TestClient) -> None:
    response = client.get("/settings/mailboxes", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Fmailboxes"
