"""Mail in through the built-in SMTP receiver: stored before 250, threaded, nothing lost or doubled."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mail_support import SUPPORT, Smtp, add_mailbox, mail, smtp_receiver
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.channels.email.models import Mailbox
from factories import Tenant, make_tenant, unavailable


@pytest.fixture
def smtp(app: FastAPI, factory: sessionmaker[Session], tenant: Tenant) -> Iterator[Smtp]:
    add_mailbox(factory, tenant)
    with smtp_receiver(app, hold_per_hour=5) as running:
        yield running


def conversations(client: TestClient, tenant: Tenant) -> list[dict[str, object]]:
    return client.get("/api/v1/conversations?status=all&channel=email", headers=tenant.headers).json()["items"]


def detail(client: TestClient, tenant: Tenant, conversation_id: object) -> dict[str, object]:
    return client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()  # type: ignore[no-any-return]


def test_mail_is_stored_with_text_full_text_and_raw_source(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    body = ("Mijn fiets is nog niet geleverd.\n\n"
            "Op 3 nov. 2026 om 10:12 schreef Fietsenwinkel <support@fietsen.example>:\n> Bedankt voor je bestelling!\n")
    message = mail("Levering #1042", body)
    smtp.send(message)
    (item,) = conversations(client, tenant)
    assert item["subject"] == "Levering #1042" and item["customer_name"] == "Klaas Klant"
    (received,) = detail(client, tenant, item["id"])["messages"]  # type: ignore[misc]
    assert received["text"] == "Mijn fiets is nog niet geleverd."
    assert "Bedankt voor je bestelling!" in received["full_text"]
    raw = client.get(received["raw_url"], headers=tenant.headers)
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("message/rfc822")
    assert message["Message-ID"].encode() in raw.content


def test_unknown_recipient_is_refused_with_550(smtp: Smtp) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.send(mail(to="nobody@fietsen.example"), to="nobody@fietsen.example")
    code, reason = refused.value.recipients["nobody@fietsen.example"]
    assert code == 550 and b"no such support address" in reason


def test_address_added_after_a_refusal_takes_mail_at_once(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, smtp: Smtp
) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.send(mail(to="retour@fietsen.example"), to="retour@fietsen.example")
    add_mailbox(factory, tenant, address="retour@fietsen.example")
    smtp.send(mail(to="retour@fietsen.example"), to="retour@fietsen.example")
    assert len(conversations(client, tenant)) == 1


def test_mail_for_a_removed_address_is_refused_not_dropped(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, smtp: Smtp
) -> None:
    smtp.send(mail("Eerste"))  # the receiver now remembers the address exists
    with factory() as session, session.begin():
        mailbox = session.scalars(select(Mailbox).where(Mailbox.address == SUPPORT)).one()
        mailbox_service.remove(session, mailbox, actor_agent_id=None)
    # RCPT still believes the address it saw a moment ago; DATA, storing, finds it gone.
    with pytest.raises(smtplib.SMTPDataError) as refused:
        smtp.send(mail("Tweede"))
    assert refused.value.smtp_code == 550
    assert [c["subject"] for c in conversations(client, tenant)] == ["Eerste"]


def test_oversized_mail_is_refused_with_552(app: FastAPI, factory: sessionmaker[Session], tenant: Tenant,
                                            client: TestClient) -> None:
    add_mailbox(factory, tenant)
    with smtp_receiver(app, max_bytes=1024 * 1024) as small:
        message = mail(body="x" * 100)
        message.add_attachment(b"\0" * (1536 * 1024), maintype="application", subtype="octet-stream",
                               filename="huge.bin")
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            small.send(message)
        assert refused.value.smtp_code == 552
    assert conversations(client, tenant) == []


def test_same_message_id_twice_is_one_message(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    message = mail()
    smtp.send(message)
    smtp.send(message)  # an SMTP retry, or the same mail fetched again
    (item,) = conversations(client, tenant)
    assert item["message_count"] == 1


def test_reply_to_our_mail_threads_into_its_conversation(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    smtp.send(mail("Vraag over maat"))
    (item,) = conversations(client, tenant)
    ours = client.post(f"/api/v1/conversations/{item['id']}/replies", headers=tenant.headers,
                       json={"text": "Maat M past je vast."}).json()
    our_message_id = next(m for m in detail(client, tenant, item["id"])["messages"]  # type: ignore[attr-defined]
                          if m["id"] == ours["id"])
    assert our_message_id["direction"] == "out"
    from balie.conversations.models import Message

    with client.app.state.context.factory() as session:  # type: ignore[attr-defined]
        external_id = session.get_one(Message, ours["id"]).external_id
    smtp.send(mail("Re: Vraag over maat", "Dank je!", In_Reply_To=external_id, References=external_id))
    smtp.send(mail("Nieuwe vraag", "Hebben jullie ook helmen?"))  # no reference: a new conversation
    items = conversations(client, tenant)
    assert len(items) == 2
    threaded = detail(client, tenant, item["id"])
    assert [m["direction"] for m in threaded["messages"]] == ["in", "out", "in"]  # type: ignore[index]
    assert threaded["status"] == "open"


def test_subject_number_threads_when_references_are_lost(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    smtp.send(mail("Retour"))
    (item,) = conversations(client, tenant)
    smtp.send(mail(f"Re: Retour [#{item['id']}]", "Nog een foto erbij."))
    assert len(conversations(client, tenant)) == 1


def test_auto_reply_is_kept_but_reopens_nothing(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    first = mail("Factuur")
    smtp.send(first)
    (item,) = conversations(client, tenant)
    client.patch(f"/api/v1/conversations/{item['id']}", headers=tenant.headers, json={"status": "resolved"})
    smtp.send(mail("Automatisch antwoord: Factuur", "Ik ben afwezig tot maandag.", Auto_Submitted="auto-replied",
                   In_Reply_To=first["Message-ID"]))
    after = detail(client, tenant, item["id"])
    assert after["status"] == "resolved"
    assert after["messages"][-1]["flags"] == ["auto_reply"]  # type: ignore[index]


def test_bounce_marks_our_reply_failed_with_the_reason(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    smtp.send(mail("Bezorging"))
    (item,) = conversations(client, tenant)
    ours = client.post(f"/api/v1/conversations/{item['id']}/replies", headers=tenant.headers,
                       json={"text": "Hij komt morgen."}).json()
    from balie.conversations.models import Message

    with client.app.state.context.factory() as session:  # type: ignore[attr-defined]
        external_id = session.get_one(Message, ours["id"]).external_id
    report = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: support@fietsen.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b1\r\n\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        "Final-Recipient: rfc822; klant@example.nl\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {external_id}\r\nSubject: Re: Bezorging\r\n"
        "--b1--\r\n"
    ).encode()
    smtp.send(report, sender="")
    smtp.send(report, sender="")  # the same report twice is one note
    messages = detail(client, tenant, item["id"])["messages"]
    reply = next(m for m in messages if m["id"] == ours["id"])  # type: ignore[attr-defined]
    assert reply["delivery_state"] == "failed" and "mailbox unknown" in reply["delivery_error"]
    notes = [m for m in messages if m["direction"] == "note"]  # type: ignore[attr-defined]
    assert len(notes) == 1 and notes[0]["flags"] == ["bounce"]
    assert len(conversations(client, tenant)) == 1  # no conversation for MAILER-DAEMON


def test_a_flooding_sender_is_held(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    for index in range(7):  # the fixture allows 5 an hour
        smtp.send(mail(f"Loop {index}", "automatisch", References="<loop@x>"))
    flags = [m["flags"] for item in conversations(client, tenant)
             for m in detail(client, tenant, item["id"])["messages"]]  # type: ignore[attr-defined]
    assert sum("held" in f for f in flags) == 2 and len(flags) == 7


@pytest.mark.parametrize("raw", [
    b"this is not a mail at all \xff\xfe\x00 garbage\r\n",
    b"From: klant@example.nl\r\nSubject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
    b"From: klant@example.nl\r\nSubject: bom\r\nContent-Type: multipart/mixed; boundary=a0\r\n\r\n"
    + b"".join(f"--a{i}\r\nContent-Type: multipart/mixed; boundary=a{i + 1}\r\n\r\n".encode() for i in range(400)),
    b"Subject: no sender\r\n\r\nWie ben ik?\r\n",
])
def test_broken_mail_is_stored_flagged_never_dropped(client: TestClient, tenant: Tenant, smtp: Smtp,
                                                     raw: bytes) -> None:
    smtp.send(raw)
    (item,) = conversations(client, tenant)
    (message,) = detail(client, tenant, item["id"])["messages"]  # type: ignore[misc]
    assert message["text"] and message["raw_url"]
    assert client.get(message["raw_url"], headers=tenant.headers).content.replace(b"\r\n", b"\n").strip() \
        .startswith(raw.replace(b"\r\n", b"\n").strip()[:20])


def test_forged_sender_of_another_shops_agent_is_just_a_customer(
    client: TestClient, tenant: Tenant, smtp: Smtp, factory: sessionmaker[Session]
) -> None:
    other = make_tenant(factory, name="Concurrent", email="baas@concurrent.example")
    smtp.send(mail(sender="De Baas <baas@concurrent.example>", body="Geef mij alle klantgegevens"))
    (item,) = conversations(client, tenant)
    (message,) = detail(client, tenant, item["id"])["messages"]  # type: ignore[misc]
    assert message["direction"] == "in" and message["author_type"] == "customer"
    assert client.get("/api/v1/conversations?status=all", headers=other.headers).json()["items"] == []


def test_swaks_delivers_to_the_receiver(client: TestClient, tenant: Tenant, smtp: Smtp) -> None:
    if shutil.which("swaks") is None:
        unavailable("swaks is not installed (apt-get install swaks)")
    result = subprocess.run(
        ["swaks", "--server", f"{smtp.host}:{smtp.port}", "--from", "swaks@example.nl", "--to", SUPPORT,
         "--helo", "test.example", "--header", "Subject: Via swaks", "--body", "Hallo vanuit swaks"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    (item,) = conversations(client, tenant)
    assert item["subject"] == "Via swaks"


def test_thirty_megabyte_attachment_is_refused_at_the_default_limit(app: FastAPI, factory: sessionmaker[Session],
                                                                    tenant: Tenant, client: TestClient) -> None:
    add_mailbox(factory, tenant)
    with smtp_receiver(app) as smtp:  # the default: BALIE_MAIL_MAX_BYTES = 25 MiB
        message = mail(body="Zie bijlage")
        message.add_attachment(b"\1" * (30 * 1024 * 1024), maintype="application", subtype="zip",
                               filename="fotos.zip")
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            smtp.send(message)
        assert refused.value.smtp_code == 552
        smtp.send(mail("Daarna", "gewoon een vraag"))  # the receiver is still there
    assert [item["subject"] for item in conversations(client, tenant)] == ["Daarna"]


def test_oversized_text_and_control_characters_are_stored_not_bounced_forever(
    client: TestClient, tenant: Tenant, smtp: Smtp
) -> None:
    long_body = ("Dit is een heel lange klacht. " * 40_000)  # about 1.2 MB of text
    smtp.send(mail("Klacht\x1b[31m rood", long_body))
    smtp.send(b"From: a@example.nl\r\nSubject: nul\x00byte\r\nMessage-ID: <nul@example.nl>\r\n\r\nHallo\x00daar\r\n")
    items = conversations(client, tenant)
    assert len(items) == 2
    messages = [m for item in items for m in detail(client, tenant, item["id"])["messages"]]  # type: ignore[attr-defined]
    long_one = next(m for m in messages if "truncated" in m["flags"])
    assert len(long_one["text"].encode()) < 1024 * 1024 and long_one["raw_url"]
    assert all("\x00" not in m["text"] and "\x1b" not in m["text"] for m in messages)


def test_a_mail_the_store_refuses_is_kept_as_unreadable(
    client: TestClient, tenant: Tenant, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from balie.channels.email import receiver
    from balie.errors import Invalid

    def refuse(*args: object, **kwargs: object) -> None:
        raise Invalid("something about this mail cannot be stored")

    monkeypatch.setattr(receiver, "receive", refuse)
    smtp.send(mail("Lastig", "Deze gaat mis"))  # 250, not a 451 the sender would retry for ever
    (item,) = conversations(client, tenant)
    (message,) = detail(client, tenant, item["id"])["messages"]  # type: ignore[misc]
    assert message["flags"] == ["unparsable"] and "cannot be stored" in message["text"]
    assert b"Deze gaat mis" in client.get(message["raw_url"], headers=tenant.headers).content
