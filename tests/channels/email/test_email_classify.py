"""Auto-replies, bulk mail and bounces (corpus bounces where the corpus is present)."""

from __future__ import annotations

import pytest
from email_samples import CORPUS, plain_mail

from balie.channels.email.classify import auto_reply_reason, bounce, is_auto_reply
from balie.channels.email.parse import parse


def corpus(name: str) -> bytes:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"mail corpus not found at {CORPUS} (set BALIE_MAIL_CORPUS)")
    return path.read_bytes()


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated", "Auto-Submitted: auto-notified; owner=x",
    "X-Autoreply: yes", "X-Autorespond: Out of office", "Precedence: bulk", "Precedence: auto_reply",
    "Precedence: list", "Precedence: junk", "X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: DR, OOF",
    "List-Id: Nieuwsbrief <nieuws.example.nl>", "List-Unsubscribe: <mailto:uit@example.nl>",
    "Return-Path: <>",
])
def test_headers_that_mark_machine_mail(header: str) -> None:
    parsed = parse(plain_mail("Ik ben afwezig.", extra_headers=f"{header}\r\n"))
    assert is_auto_reply(parsed)
    assert auto_reply_reason(parsed)


@pytest.mark.parametrize("subject", [
    "Automatisch antwoord: Bestelling 1042", "Out of Office: Order 1042", "Out of office", "Afwezig tot 6 januari",
    "Abwesenheitsnotiz: Bestellung", "Autoreply: je bericht", "Automatic reply: RE: Order", "Auto-Reply",
    "Automatische Antwort: Ihre Anfrage", "RE: Out of the office until Monday", "Afwezigheidsmelding",
    "Réponse automatique : votre commande",
])
def test_auto_reply_subjects(subject: str) -> None:
    assert is_auto_reply(parse(plain_mail("x", subject=subject)))


@pytest.mark.parametrize(("subject", "header"), [
    ("Re: Bestelling 1042", ""),
    ("Mijn pakket was afwezig bij de buren", ""),
    ("Afwezigheid van de bezorger", ""),
    ("Absence of an item in my order", ""),
    ("Re: Bestelling", "Auto-Submitted: no\r\n"),
    ("Re: Bestelling", "X-Auto-Response-Suppress: RN, NRN\r\n"),
    ("Re: Bestelling", "Precedence: first-class\r\n"),
])
def test_a_persons_mail_is_not_an_auto_reply(subject: str, header: str) -> None:
    parsed = parse(plain_mail("Hoi", subject=subject, extra_headers=header))
    assert not is_auto_reply(parsed)
    assert auto_reply_reason(parsed) is None
    assert bounce(parsed) is None


def test_corpus_auto_reply() -> None:
    parsed = parse(corpus("chatwoot/non_utf_encoded_mail.eml"))
    assert auto_reply_reason(parsed) == "Auto-Submitted: auto-replied"


DSN = (
    b"From: MAILER-DAEMON@mx.winkel.nl (Mail Delivery System)\r\n"
    b"To: support@winkel.nl\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"Auto-Submitted: auto-replied\r\nMessage-Id: <dsn-1@mx.winkel.nl>\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
    b"be delivered to one or more recipients.\r\n\r\n"
    b"<klant@example.nl>: host mx.example.nl said: 550 5.1.1 User unknown\r\n"
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.winkel.nl\r\n\r\n"
    b"Final-Recipient: rfc822; Klant@Example.NL\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 <klant@example.nl>: Recipient address\r\n rejected: User unknown\r\n\r\n"
    b"Final-Recipient: rfc822; later@example.nl\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
    b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    b"From: Winkel <support@winkel.nl>\r\nMessage-ID: <reply-42@winkel.nl>\r\nSubject: Uw bestelling\r\n"
    b"--b--\r\n"
)


def test_delivery_status_notification() -> None:
    parsed = parse(DSN)
    report = bounce(parsed)
    assert report is not None
    assert report.action == "failed" and report.permanent
    assert report.status == "5.1.1"
    assert report.diagnostic == "550 5.1.1 <klant@example.nl>: Recipient address rejected: User unknown"
    assert report.original_message_id == "<reply-42@winkel.nl>"
    assert [(r.address, r.action, r.status) for r in report.recipients] == [
        ("klant@example.nl", "failed", "5.1.1"), ("later@example.nl", "delayed", "4.4.1"),
    ]
    assert is_auto_reply(parsed)


def test_plain_bounce_from_a_mailer_daemon() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.nl>\r\nTo: support@winkel.nl\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\nReturn-Path: <>\r\n\r\n"
        b"This message was created automatically by mail delivery software.\r\n\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        b"  klant@example.nl\r\n    host mx.example.nl [192.0.2.1]\r\n"
        b"    SMTP error from remote mail server after RCPT TO:<klant@example.nl>:\r\n"
        b"    550 5.1.1 No such user\r\n\r\n"
        b"------ This is a copy of the message, including all the headers. ------\r\n\r\n"
        b"From: Winkel <support@winkel.nl>\r\nMessage-ID: <reply-43@winkel.nl>\r\nSubject: Uw bestelling\r\n"
    )
    report = bounce(parse(raw))
    assert report is not None
    assert [r.address for r in report.recipients] == ["klant@example.nl"]
    assert (report.action, report.status) == ("failed", "5.1.1")
    assert "550 5.1.1 No such user" in report.diagnostic
    assert report.original_message_id == "<reply-43@winkel.nl>"


def test_delayed_plain_bounce_falls_back_to_in_reply_to() -> None:
    raw = (b"From: postmaster@example.nl\r\nSubject: Delivery delayed: Uw bestelling\r\n"
           b"In-Reply-To: <reply-44@winkel.nl>\r\n\r\nStill trying. 451 4.4.1 timed out\r\n")
    report = bounce(parse(raw))
    assert report is not None
    assert (report.action, report.status, report.original_message_id) == ("delayed", "4.4.1", "<reply-44@winkel.nl>")


def test_a_customer_writing_about_undelivered_mail_is_no_bounce() -> None:
    assert bounce(parse(plain_mail("Uw mail kwam niet aan", subject="Undelivered mail?"))) is None


def test_postfix_bounce_from_the_corpus() -> None:
    report = bounce(parse(corpus("zammad/mail033-undelivered-mail-returned-to-sender-notification.box")))
    assert report is not None
    assert [(r.address, r.action, r.status) for r in report.recipients] == [
        ("not_existing@znuny.com", "failed", "5.1.1")]
    assert "User unknown" in report.diagnostic
    assert report.original_message_id == (
        "<notification.20150830145600.1.4.5f4fd063-f69b-4e64-a92d-5e7128bd6682@127.0.0.1:3000>")


def test_bounce_of_an_auto_reply_from_the_corpus() -> None:
    report = bounce(parse(corpus("zammad/mail055.box")))
    assert report is not None
    assert (report.action, report.status) == ("failed", "5.1.1")
    assert report.recipients[0].address == "ticket-bounce-trigger2@example.com"
    assert report.original_message_id == "<20170526150141.232.13312@example.zammad.loc>"


def test_gmail_delay_notification_from_the_corpus() -> None:
    report = bounce(parse(corpus("zammad/mail078.box")))
    assert report is not None
    assert (report.action, report.status, report.permanent) == ("delayed", "4.4.1", False)
    assert report.recipients[0].address == "bob.smith@example.de"
    assert report.original_message_id == "<20150830145601.30.608881@example.com>"


def test_gmail_failure_with_an_empty_delivery_status_from_the_corpus() -> None:
    report = bounce(parse(corpus("chatwoot/bounced_gmail.eml")))
    assert report is not None
    assert [(r.address, r.action, r.status) for r in report.recipients] == [
        ("alex.jones@fictionalcorp.com", "failed", "5.1.1")]
    assert report.diagnostic.startswith("550 5.1.1 The email account that you tried to reach does not exist")
    assert report.original_message_id == (
        "<conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com>")


def test_bounce_without_a_sender_from_the_corpus() -> None:
    parsed = parse(corpus("chatwoot/bounced_with_no_from.eml"))
    report = bounce(parsed)
    assert parsed.from_address == ""
    assert report is not None
    assert [(r.address, r.status) for r in report.recipients] == [("noreply@example-service.com", "5.7.1")]
    assert report.original_message_id is None  # the returned message is cut off before its Message-ID


def test_plain_mailer_daemon_bounce_without_details_from_the_corpus() -> None:
    report = bounce(parse(corpus("zammad/mail052.box")))
    assert report is not None
    assert (report.recipients, report.action, report.original_message_id) == ((), "failed", None)
