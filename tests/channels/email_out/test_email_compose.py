"""Composing outbound mail, without a database or a network: addresses, subjects, threading
headers, bodies, and what hostile values can (not) do to the headers."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from email.message import EmailMessage

import pytest

from balie.channels.email import outbound
from balie.channels.email.outbound import Draft, File


def draft(**changes: object) -> Draft:
    values: dict[str, object] = {
        "sender": "support@fietsen.example", "sender_name": "Fietsenwinkel", "recipient": "klant@example.nl",
        "recipient_name": "Klaas Klant", "subject": "Mijn bestelling", "conversation_id": 12,
        "message_id": "<0123abcd@email.balie>", "text": "Hij komt morgen.",
        "date": dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC), "delivery_id": "balie-1-7",
        "in_reply_to": "<vraag@klant.example>", "references": ["<vraag@klant.example>"],
    }
    values.update(changes)
    return Draft(**values)  # type: ignore[arg-type]


def sent(value: Draft) -> tuple[bytes, EmailMessage]:
    raw = outbound.wire_bytes(outbound.compose(value))
    return raw, email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]


@pytest.mark.parametrize(("value", "expected"), [
    ("klant@example.nl", "klant@example.nl"),
    ("  Klaas.de-Vries+fiets@Example.NL ", "Klaas.de-Vries+fiets@example.nl"),
    ("jan@müller.example", "jan@xn--mller-kva.example"),
    ("a@b.nl\r\nBcc: x@y.nl", None),
    ("a@b.nl,x@y.nl", None),
    ("a@b.nl x@y.nl", None),
    ("Klaas <a@b.nl>", None),
    ('"quoted"@b.nl', None),
    ("jöhn@b.nl", None),  # would need SMTPUTF8
    ("a@localhost", None),
    ("a@127.0.0.1", None),
    ("a@-b.nl", None),
    ("a@b..nl", None),
    (".a@b.nl", None),
    ("@b.nl", None),
    ("a@", None),
])
def test_only_one_plain_address_is_sendable(value: str, expected: str | None) -> None:
    assert outbound.sendable_address(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("<abc@host.example>", "<abc@host.example>"),
    ("abc@host.example", "<abc@host.example>"),
    ("<a b@host>", None),
    ("<abc@host>\r\nBcc: x@y", None),
    ("<abc>", None),
    ("<a<b@host>", None),
    ("", None),
    (None, None),
])
def test_message_ids_are_checked(value: str | None, expected: str | None) -> None:
    assert outbound.message_id(value) == expected


@pytest.mark.parametrize(("subject", "reply", "expected"), [
    ("Mijn bestelling", True, "Re: Mijn bestelling [#12]"),
    ("Re: Mijn bestelling", True, "Re: Mijn bestelling [#12]"),
    ("RE: Antw: AW: re[2]: Mijn bestelling [#12]", True, "Re: Mijn bestelling [#12]"),
    ("Mijn bestelling [#12] [#12]", True, "Re: Mijn bestelling [#12]"),
    ("Vraag over [#99] order", True, "Re: Vraag over order [#12]"),
    ("Nieuwe retourregeling", False, "Nieuwe retourregeling [#12]"),
    ("", True, "Re: [#12]"),
    ("Regel een\r\nBcc: x@y.nl", True, "Re: Regel een Bcc: x@y.nl [#12]"),
    ("Recept voor appeltaart", True, "Re: Recept voor appeltaart [#12]"),  # "Re" in a word stays
])
def test_subject_has_one_re_and_the_number_once(subject: str, reply: bool, expected: str) -> None:
    assert outbound.subject_line(subject, 12, reply=reply) == expected


def test_the_message_threads_in_the_customers_client() -> None:
    raw, mail = sent(draft(references=["<vraag@klant.example>", "<0000@email.balie>", "<antwoord@klant.example>"],
                           in_reply_to="<antwoord@klant.example>"))
    assert mail["Message-ID"] == "<0123abcd@email.balie>"
    assert mail["In-Reply-To"] == "<antwoord@klant.example>"
    assert mail["References"].split() == ["<vraag@klant.example>", "<0000@email.balie>",
                                          "<antwoord@klant.example>"]
    assert mail["Date"] == "Tue, 24 Nov 2026 10:00:00 +0000"
    assert mail["X-Balie-Delivery"] == "balie-1-7"
    assert "Auto-Submitted" not in header_names(raw)
    assert raw.isascii()  # 7-bit clean: any relay takes it


def test_a_long_message_id_is_not_encoded_away() -> None:
    outlook = "<AM0PR07MB1234567890ABCDEF1234567890ABCDEF@AM0PR07MB1234.eurprd07.prod.outlook.com>"
    raw, mail = sent(draft(in_reply_to=outlook, references=[outlook, "<0000@email.balie>"]))
    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]
    assert mail["In-Reply-To"] == outlook
    assert mail["References"].split() == [outlook, "<0000@email.balie>"]


def test_references_keep_the_root_and_the_latest() -> None:
    ids = [f"<{n}@klant.example>" for n in range(30)]
    _raw, mail = sent(draft(references=[*ids, "not an id", "<7@klant.example>"]))
    references = mail["References"].split()
    assert len(references) == outbound.MAX_REFERENCES
    assert references[0] == "<0@klant.example>" and references[-1] == "<29@klant.example>"


def test_a_first_message_is_no_reply() -> None:
    raw, mail = sent(draft(in_reply_to=None, references=[]))
    assert mail["Subject"] == "Mijn bestelling [#12]"
    assert "In-Reply-To" not in header_names(raw) and "References" not in header_names(raw)


@pytest.mark.parametrize("field", ["sender_name", "recipient_name", "subject", "delivery_id"])
def test_line_breaks_in_any_text_never_make_a_header(field: str) -> None:
    raw, mail = sent(draft(**{field: "Klaas\r\nBcc: spion@evil.example\nX-Evil: 1"}))
    names = header_names(raw)
    assert "Bcc" not in names and "X-Evil" not in names
    assert len(names) == len(set(names))
    assert mail["Bcc"] is None


def test_hostile_addresses_and_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="not a sendable address"):
        outbound.compose(draft(recipient="klant@example.nl\r\nBcc: spion@evil.example"))
    with pytest.raises(ValueError, match="not a Message-ID"):
        outbound.compose(draft(message_id="<a@b>\r\nBcc: spion@evil.example"))
    raw, _mail = sent(draft(in_reply_to="<a@b>\r\nBcc: spion@evil.example", references=["<x y@z>"]))
    assert b"spion" not in raw and "In-Reply-To" not in header_names(raw)


def test_display_names_are_quoted_and_encoded() -> None:
    _raw, mail = sent(draft(sender_name='Fietsen "De Snelle", <x@y.nl>', recipient_name="Zoë Ünal"))
    assert mail["From"].addresses[0].display_name == 'Fietsen "De Snelle", <x@y.nl>'
    assert mail["From"].addresses[0].addr_spec == "support@fietsen.example"
    assert mail["To"].addresses[0].display_name == "Zoë Ünal"
    assert len(mail["To"].addresses) == 1


def test_bodies_text_and_escaped_html_with_the_signature() -> None:
    text = "Beste Klaas,\r\n\r\n<script>alert('x')</script> & co\nregel twee\n\n\n\nGroet"
    _raw, mail = sent(draft(text=text, signature="Team Fietsen\nwww.fietsen.example"))
    plain = mail.get_body(("plain",))
    rich = mail.get_body(("html",))
    assert plain is not None and rich is not None
    plain_text = plain.get_content().replace("\r\n", "\n")
    assert plain_text.endswith("Groet\n\n-- \nTeam Fietsen\nwww.fietsen.example\n")
    html = rich.get_content().replace("\r\n", "\n")
    assert "<script>" not in html
    assert "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co<br>\nregel twee</p>" in html
    assert html.count("<p>") == 3  # blank lines make paragraphs; runs of them make one
    assert '<p class="signature">-- <br>\nTeam Fietsen<br>\nwww.fietsen.example</p>' in html


def test_a_signature_with_its_own_separator_gets_no_second_one() -> None:
    assert outbound.text_body("Hoi", "-- \nTeam") == "Hoi\n\n-- \nTeam\n"
    assert outbound.text_body("Hoi", "  ") == "Hoi\n"


def test_attachments_make_a_mixed_message_with_safe_names_and_types() -> None:
    files = [File("factuur.pdf", "application/pdf", b"%PDF"),
             File("../../etc/passwd\r\nBcc: x@y", "text/plain\r\nBcc: x@y", b"root"),
             File("doorgestuurd.eml", "message/rfc822", b"From: a@b\r\n\r\nhoi")]
    raw, mail = sent(draft(files=files))
    assert mail.get_content_type() == "multipart/mixed"
    attachments = list(mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["factuur.pdf", "_.._etc_passwd Bcc: x@y", "doorgestuurd.eml"]
    assert [a.get_content_type() for a in attachments] == ["application/pdf", "application/octet-stream",
                                                           "application/octet-stream"]
    assert [a.get_content() for a in attachments] == [b"%PDF", b"root", b"From: a@b\r\n\r\nhoi"]
    assert "Bcc" not in header_names(raw)
