"""/api/v1/mailboxes: admins manage a shop's support addresses; passwords go in and never come out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.audit.models import AuditEvent
from balie.channels.email.models import Mailbox
from balie.shops.models import Shop
from factories import Tenant

ODD_PASSWORD = "p@ss:wörd/#?%\"' \\ 🔑"
# The same password percent-encoded for a URL.
ODD_PASSWORD_IN_URL = "p%40ss%3Aw%C3%B6rd%2F%23%3F%25%22%27%20%5C%20%F0%9F%94%91"


def create(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    payload = {"address": "Support@Winkel.example.nl", **body}
    response = client.post("/api/v1/mailboxes", json=payload, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def colleague_headers(factory: sessionmaker[Session], tenant: Tenant, role: str = "agent") -> dict[str, str]:
    with factory() as session, session.begin():
        shop = session.get_one(Shop, tenant.shop_id)
        agent = agent_service.create(session, email=f"{role}-colleague@example.nl", password="correct horse")
        agent_service.add_to_shop(session, agent=agent, shop=shop, role=role)
        token = agent_service.create_token(session, agent=agent, shop=shop)
    return {"Authorization": f"Bearer {token}"}


def audit_rows(factory: sessionmaker[Session], shop_id: int) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.shop_id == shop_id,
                                                             AuditEvent.object_type == "mailbox")
                                    .order_by(AuditEvent.id)))


def stored(factory: sessionmaker[Session], mailbox_id: int) -> Mailbox:
    with factory() as session:
        return session.get_one(Mailbox, mailbox_id)


def test_create_list_get_patch_delete(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    created = create(client, tenant, display_name="Winkel Klantenservice", signature="Groet,\r\nWinkel",
                     imap_url="imaps://support%40winkel.nl:geheim@imap.example.nl/Support",
                     smtp_url="smtp+starttls://relay%40winkel.nl:ook-geheim@smtp.example.nl:2587")
    assert created["address"] == "support@winkel.example.nl"
    assert created["signature"] == "Groet,\nWinkel"
    assert (created["imap_host"], created["imap_port"], created["imap_security"]) == ("imap.example.nl", 993, "tls")
    assert (created["imap_user"], created["imap_folder"], created["imap_has_password"]) == (
        "support@winkel.nl", "Support", True)
    assert (created["imap_status"], created["imap_failures"], created["imap_error"]) == ("ok", 0, None)
    assert created["imap_last_uid"] == 0 and created["imap_next_poll_at"] is None
    assert (created["smtp_host"], created["smtp_port"], created["smtp_security"]) == (
        "smtp.example.nl", 2587, "starttls")
    assert created["smtp_user"] == "relay@winkel.nl" and created["smtp_has_password"] is True

    listed = client.get("/api/v1/mailboxes", headers=tenant.headers).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert client.get(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers).json() == created

    patched = client.patch(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers,
                           json={"display_name": "Team Winkel", "imap_url": None, "smtp_url": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["display_name"] == "Team Winkel" and body["signature"] == "Groet,\nWinkel"
    assert body["imap_status"] == "off" and body["imap_host"] is None and body["imap_has_password"] is False
    assert body["smtp_host"] is None and body["smtp_has_password"] is False
    row = stored(factory, created["id"])
    assert row.imap_password is None and row.smtp_password is None and not row.polls_imap

    deleted = client.delete(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get("/api/v1/mailboxes", headers=tenant.headers).json()["items"] == []
    assert client.get(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers).status_code == 404
    actions = [row.action for row in audit_rows(factory, tenant.shop_id)]
    assert actions == ["mailbox.created", "mailbox.updated", "mailbox.deleted"]


def test_passwords_never_come_out_nor_go_into_the_audit_trail(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    created = create(client, tenant, imap_url=f"imaps://support:{ODD_PASSWORD_IN_URL}@imap.example.nl",
                     smtp_url=f"smtps://support:{ODD_PASSWORD_IN_URL}@smtp.example.nl")
    row = stored(factory, created["id"])
    assert row.imap_password == ODD_PASSWORD and row.smtp_password == ODD_PASSWORD

    rotated = client.patch(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers,
                           json={"imap_url": "imaps://support:Nieuw-W8woord!@imap.example.nl"})
    assert rotated.status_code == 200
    seen = [
        json.dumps(created),
        rotated.text,
        client.get("/api/v1/mailboxes", headers=tenant.headers).text,
        client.get(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers).text,
    ]
    for text in seen:
        assert "password\"" not in text.replace("has_password\"", "")
        for secret in (ODD_PASSWORD, ODD_PASSWORD_IN_URL, "Nieuw-W8woord!", json.dumps(ODD_PASSWORD)[1:-1]):
            assert secret not in text
    rows = audit_rows(factory, tenant.shop_id)
    assert [row.action for row in rows] == ["mailbox.created", "mailbox.updated"]
    assert rows[1].data == {"imap_password": "changed"}
    assert rows[1].actor_agent_id == tenant.agent_id
    for audit in rows:
        dumped = json.dumps(audit.data, ensure_ascii=False)
        for secret in (ODD_PASSWORD, "Nieuw-W8woord!", "geheim"):
            assert secret not in dumped


def test_a_url_without_password_keeps_the_stored_one_and_what_was_fetched(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    created = create(client, tenant, imap_url="imaps://support:geheim@imap.example.nl/INBOX")
    with factory() as session, session.begin():
        row = session.get_one(Mailbox, created["id"])
        row.imap_uidvalidity, row.imap_last_uid, row.imap_failures, row.imap_error = 7, 41, 3, "AUTHENTICATIONFAILED"

    moved = client.patch(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers,
                         json={"imap_url": "imap+starttls://support@imap.example.nl:143/INBOX"})

    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["imap_security"], body["imap_port"], body["imap_last_uid"]) == ("starttls", 143, 41)
    assert (body["imap_status"], body["imap_failures"], body["imap_error"]) == ("ok", 0, None)
    assert stored(factory, created["id"]).imap_password == "geheim"
    other_user = client.patch(f"/api/v1/mailboxes/{created['id']}", headers=tenant.headers,
                              json={"imap_url": "imaps://someone-else@imap.example.nl"})
    assert other_user.status_code == 400 and other_user.json()["error"] == "invalid_server_url"
    assert "password" in other_user.json()["detail"]


def test_agents_may_read_but_only_admins_change(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    created = create(client, tenant, imap_url="imaps://support:geheim@imap.example.nl")
    headers = colleague_headers(factory, tenant)
    assert client.get("/api/v1/mailboxes", headers=headers).json()["items"][0]["id"] == created["id"]
    assert client.get(f"/api/v1/mailboxes/{created['id']}", headers=headers).status_code == 200
    attempts = [
        client.post("/api/v1/mailboxes", headers=headers, json={"address": "mine@winkel.nl"}),
        client.patch(f"/api/v1/mailboxes/{created['id']}", headers=headers, json={"display_name": "Hacked"}),
        client.delete(f"/api/v1/mailboxes/{created['id']}", headers=headers),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"
    assert client.get(f"/api/v1/mailboxes/{created['id']}", headers=headers).json()["display_name"] == ""
    assert len(client.get("/api/v1/mailboxes", headers=headers).json()["items"]) == 1
    assert client.get("/api/v1/mailboxes").status_code == 401


def test_another_shops_mailbox_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = create(client, other_tenant, address="info@andere.example.nl")
    assert client.get("/api/v1/mailboxes", headers=tenant.headers).json()["items"] == []
    for response in (
        client.get(f"/api/v1/mailboxes/{theirs['id']}", headers=tenant.headers),
        client.patch(f"/api/v1/mailboxes/{theirs['id']}", headers=tenant.headers, json={"display_name": "Mine"}),
        client.delete(f"/api/v1/mailboxes/{theirs['id']}", headers=tenant.headers),
        client.get("/api/v1/mailboxes/99999999999999999999", headers=tenant.headers),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    assert client.get(f"/api/v1/mailboxes/{theirs['id']}", headers=other_tenant.headers).json()["display_name"] == ""


def test_an_address_belongs_to_one_shop(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                        factory: sessionmaker[Session]) -> None:
    create(client, tenant, address="help@winkel.example.nl")
    for owner, address in ((tenant, "help@winkel.example.nl"), (other_tenant, " HELP@Winkel.Example.NL ")):
        response = client.post("/api/v1/mailboxes", headers=owner.headers, json={"address": address})
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "address_taken"
    assert client.get("/api/v1/mailboxes", headers=other_tenant.headers).json()["items"] == []
    assert [row.action for row in audit_rows(factory, other_tenant.shop_id)] == []


BAD_CREATES: list[tuple[dict[str, Any], int, str]] = [
    ({"address": "not an address"}, 400, "invalid_address"),
    ({"address": "support@localhost"}, 400, "invalid_address"),
    ({"address": "a\r\nBcc: victim@example.nl@winkel.nl"}, 400, "invalid_address"),
    ({"address": "<script>@winkel.nl"}, 400, "invalid_address"),
    ({"address": "support@winkel.nl", "display_name": "Winkel\r\nBcc: victim@example.nl"}, 400,
     "invalid_display_name"),
    ({"address": "support@winkel.nl", "display_name": "Winkel\u202elnk.knab"}, 400, "invalid_display_name"),
    ({"address": "support@winkel.nl", "display_name": "x" * 201}, 422, "validation_error"),
    ({"address": "support@winkel.nl", "signature": "Groet\x1b[31m"}, 400, "invalid_signature"),
    ({"address": "support@winkel.nl", "signature": "Groet\x00"}, 400, "invalid_signature"),
    ({"address": "support@winkel.nl", "signature": "x" * 4001}, 422, "validation_error"),
    ({"address": "support@winkel.nl", "imap_url": "javascript:alert(1)"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "https://imap.example.nl"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "garbage"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:p@imap.example.nl:99999"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:p@imap.example.nl:0x10"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://imap.example.nl"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:p%0d%0aA1%20LOGOUT@imap.example.nl"}, 400,
     "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:p@imap.example.nl/INBOX%0d%0aA1 DELETE x"}, 400,
     "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:pa#ss@imap.example.nl"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "imap_url": "imaps://u:p@bad_host!.nl"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "smtp_url": "smtps://u:p@smtp.example.nl/folder"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "smtp_url": "ftp://smtp.example.nl"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "smtp_url": "smtps://u:p@smtp.example.nl:65536"}, 400, "invalid_server_url"),
    ({"address": "support@winkel.nl", "smtp_url": "x" * 2001}, 422, "validation_error"),
    ({"address": "support@winkel.nl", "imap_url": 993}, 422, "validation_error"),
    ({"address": "support@winkel.nl", "password": "secret"}, 422, "validation_error"),
    ({"address": ["support@winkel.nl"]}, 422, "validation_error"),
    ({}, 422, "validation_error"),
]


@pytest.mark.parametrize(("body", "status", "error"), BAD_CREATES)
def test_bad_input_is_refused_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], body: dict[str, Any], status: int, error: str
) -> None:
    response = client.post("/api/v1/mailboxes", headers=tenant.headers, json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]
    assert client.get("/api/v1/mailboxes", headers=tenant.headers).json()["items"] == []
    assert audit_rows(factory, tenant.shop_id) == []


def test_bad_changes_leave_the_mailbox_as_it_was(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    created = create(client, tenant, display_name="Winkel", imap_url="imaps://u:geheim@imap.example.nl")
    url = f"/api/v1/mailboxes/{created['id']}"
    for body, error in (
        # The good display name must not be saved when the URL beside it is bad.
        ({"display_name": "Nieuw", "imap_url": "imaps://u:p@imap.example.nl:70000"}, "invalid_server_url"),
        ({"display_name": "Nieuw", "smtp_url": "smtps://:p@smtp.example.nl"}, "invalid_server_url"),
        ({"signature": "a\x07b"}, "invalid_signature"),
        ({"display_name": "Nieuw\nX-Spam: no"}, "invalid_display_name"),
        ({"address": "other@winkel.nl"}, "validation_error"),
    ):
        response = client.patch(url, headers=tenant.headers, json=body)
        assert response.status_code in (400, 422), body
        assert response.json()["error"] == error, response.text
    assert client.get(url, headers=tenant.headers).json() == created
    broken = client.patch(url, headers={**tenant.headers, "Content-Type": "application/json"}, content=b"{nope")
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    assert client.patch("/api/v1/mailboxes/abc", headers=tenant.headers, json={}).status_code == 422
    assert [row.action for row in audit_rows(factory, tenant.shop_id)] == ["mailbox.created"]


def test_mail_servers_on_the_internal_network_are_refused(settings, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    """Like webhooks: a shop admin must not make Balie connect to (and report on) its own network."""
    import dataclasses

    from balie.app import create_app

    strict = dataclasses.replace(settings, webhook_allow_private=False)
    with TestClient(create_app(strict, run_worker=False)) as client:
        for body in ({"imap_url": "imaps://u:p@127.0.0.1"}, {"smtp_url": "smtp://10.0.0.5:25"},
                     {"imap_url": "imap://u:p@[::1]:143"}, {"smtp_url": "smtps://169.254.169.254"}):
            response = client.post("/api/v1/mailboxes", headers=tenant.headers,
                                   json={"address": "support@winkel.nl", **body})
            assert response.status_code == 400, body
            assert response.json()["error"] == "invalid_server_url"
            assert "internal address" in response.json()["detail"]
