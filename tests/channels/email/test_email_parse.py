"""parse(): headers, charsets and transfer encodings, HTML-only mail, attachments."""

from __future__ import annotations

import base64
import datetime as dt
import quopri

import pytest
from email_samples import alternative_mail, html_mail, plain_mail

from balie.channels.email.parse import parse


def test_headers_are_decoded_and_normalised() -> None:
    raw = (
        b"From: =?utf-8?Q?Ren=C3=A9e_de_V=C3=A9?= <Renee.DeVe@Example.NL>\r\n"
        b"To: Winkel <Support@Winkel.nl>, ander@winkel.nl\r\n"
        b"Cc: =?iso-8859-1?Q?J=F6rg?= <joerg@example.de>\r\n"
        b"Reply-To: <antwoord@example.nl>\r\n"
        b"Subject: =?utf-8?B?UmU6IEJlc3RlbGxpbmcg4oKsIDEyLDUw?=\r\n   =?utf-8?Q?_niet_ontvangen?=\r\n"
        b"Date: Fri, 3 Jan 2026 10:12:00 +0100\r\n"
        b"Message-ID:   <abc.123@mail.example.nl>  \r\n"
        b"In-Reply-To: <out-7@winkel.nl>\r\n"
        b"References: <out-1@winkel.nl>\r\n  <out-7@winkel.nl>, <out-1@winkel.nl>\r\n"
        b"Auto-Submitted: no\r\n"
        b"\r\n"
        b"Hallo\r\n"
    )
    parsed = parse(raw)
    assert parsed.from_address == "renee.deve@example.nl"
    assert parsed.from_name == "Renée de Vé"
    assert [(a.address, a.name) for a in parsed.to] == [("support@winkel.nl", "Winkel"), ("ander@winkel.nl", "")]
    assert [(a.address, a.name) for a in parsed.cc] == [("joerg@example.de", "Jörg")]
    assert [a.address for a in parsed.reply_to] == ["antwoord@example.nl"]
    assert parsed.subject == "Re: Bestelling € 12,50 niet ontvangen"
    assert parsed.date == dt.datetime(2026, 1, 3, 9, 12, tzinfo=dt.UTC)
    assert parsed.date is not None and parsed.date.tzinfo is not None
    assert parsed.message_id == "<abc.123@mail.example.nl>"
    assert not parsed.message_id_synthetic
    assert parsed.in_reply_to == "<out-7@winkel.nl>"
    assert parsed.references == ("<out-1@winkel.nl>", "<out-7@winkel.nl>")
    assert parsed.auto_submitted == "no"
    assert parsed.header("SUBJECT") == parsed.subject
    assert parsed.header_all("to") == ("Winkel <Support@Winkel.nl>, ander@winkel.nl",)
    assert parsed.content_type == "text/plain"
    assert not parsed.unparsable and parsed.defects == ()


def test_a_name_in_a_comment_is_the_display_name() -> None:
    parsed = parse(b"From: marc.smith@example.com (Marc  Smith)\n\nx")
    assert (parsed.from_address, parsed.from_name) == ("marc.smith@example.com", "Marc Smith")


def test_message_id_without_brackets_and_missing_date() -> None:
    parsed = parse(b"From: a@example.nl\nMessage-Id: abc@example.nl\n\nhoi")
    assert parsed.message_id == "<abc@example.nl>"
    assert parsed.date is None


@pytest.mark.parametrize(("value", "expected"), [
    ("Mon, 20 Aug 2018 18:21:59 -0000", dt.datetime(2018, 8, 20, 18, 21, 59, tzinfo=dt.UTC)),
    ("20 Aug 2018 18:21:59", dt.datetime(2018, 8, 20, 18, 21, 59, tzinfo=dt.UTC)),
    ("Thu, 18 Sep 2014 09:30:01 +0200 (CEST)", dt.datetime(2014, 9, 18, 7, 30, 1, tzinfo=dt.UTC)),
    ("gisteren", None),
    ("Mon, 32 Foo 99999 99:99:99 +9999", None),
])
def test_dates_are_aware_or_none(value: str, expected: dt.datetime | None) -> None:
    parsed = parse(f"From: a@example.nl\nDate: {value}\n\nx".encode())
    assert parsed.date == expected


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    raw = b"From: a@example.nl\r\nSubject: zonder id\r\n\r\nHallo\r\n"
    first, again = parse(raw), parse(raw)
    assert first.message_id_synthetic and first.message_id == again.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith("@synthetic.balie.invalid>")
    # The same mail with other line endings or an mbox separator is the same mail...
    assert parse(raw.replace(b"\r\n", b"\n")).message_id == first.message_id
    assert parse(b"From a@example.nl Fri Jan  3 10:12:00 2026\n" + raw).message_id == first.message_id
    # ...another mail is not.
    assert parse(raw.replace(b"Hallo", b"Hoi")).message_id != first.message_id
    assert "no Message-ID, a synthetic one was made" in first.defects


def test_duplicate_headers_take_the_first_usable_value() -> None:
    raw = (b"From: [??????]\nFrom: =?utf-8?B?6YO955C5?= <ghgbwum@example.cn>\n"
           b"Message-ID: <first@example.nl>\nMessage-ID: <second@example.nl>\n"
           b"Subject: een\nSubject: twee\n\nx")
    parsed = parse(raw)
    assert (parsed.from_address, parsed.from_name) == ("ghgbwum@example.cn", "都琹")
    assert parsed.message_id == "<first@example.nl>"
    assert parsed.subject == "een"


def test_missing_from_is_reported_and_reply_to_is_used_when_there() -> None:
    parsed = parse(b"To: support@winkel.nl\nSubject: anoniem\n\nWaar blijft mijn pakket?")
    assert parsed.from_address == "" and parsed.from_name == ""
    assert "no usable From address" in parsed.defects
    assert parsed.text == "Waar blijft mijn pakket?"
    with_reply_to = parse(b"Reply-To: <klant@example.nl>\nSubject: x\n\ny")
    assert with_reply_to.from_address == "klant@example.nl"
    assert any("Reply-To" in defect for defect in with_reply_to.defects)


def test_empty_and_malformed_addresses() -> None:
    parsed = parse(b'From: "" (Mail Delivery System)\nReply-To: <"">\nTo: <a@example.nl>a@example.nl\n\nx')
    assert parsed.from_address == ""
    assert [a.address for a in parsed.reply_to] == []
    assert [a.address for a in parsed.to] == ["a@example.nl"]
    bare = parse(b'From: "Millions Lottery"@example.com>\n\nx')
    assert bare.from_address == '"millions lottery"@example.com'


@pytest.mark.parametrize(("header", "expected"), [
    (b"Subject: =?utf-8?Q?Caf=C3=A9 au lait?=", "Café au lait"),  # spaces inside: not valid, still read
    (b"Subject: =?iso-8859-1?Q?ABC / 123 / Wetterau West / ABC?=", "ABC / 123 / Wetterau West / ABC"),
    (b"Subject: =?utf-8?Q?unterminated", "=?utf-8?Q?unterminated"),
    (b"Subject: =?x-unknown?Q?Caf=E9?=", "Café"),
    (b"Subject: =?gb2312?B?1tC5+g==?= =?ks_c_5601-1987?B?x9GxuQ==?=", "中国한국"),
    (b"Subject: caf\xc3\xa9 in raw UTF-8", "café in raw UTF-8"),
    (b"Subject: caf\xe9 in raw Latin-1", "café in raw Latin-1"),
    (b"Subject: \xd7\xaa\xb7\xa2\xa3\xba\xd5\xfb\xcc\xe5 raw GBK", "转发：整体 raw GBK"),
    (b"Subject: tab\tand\x00nul", "tab and nul"),
])
def test_encoded_words_broken_or_not_never_break_the_subject(header: bytes, expected: str) -> None:
    assert parse(b"From: a@example.nl\n" + header + b"\n\nx").subject == expected


def test_broken_base64_encoded_word_does_not_raise() -> None:
    parsed = parse(b"From: =?utf-8?B?!!!notbase64?= <a@example.nl>\nSubject: =?utf-8?B?broken!!?=\n\nx")
    assert parsed.from_address == "a@example.nl"
    assert isinstance(parsed.subject, str)


# -- charsets and transfer encodings


def test_iso_8859_1_quoted_printable() -> None:
    body = quopri.encodestring("Café crème brûlée, prijs 12,50\nGroet".encode("latin-1")).decode("ascii")
    parsed = parse(plain_mail(body, charset="iso-8859-1", transfer="quoted-printable"))
    assert parsed.text == "Café crème brûlée, prijs 12,50\nGroet"


def test_windows_1252_even_when_labelled_latin_1() -> None:
    data = "Prijs € 12,50 – “geen” garantie".encode("cp1252")
    for label in ("windows-1252", "iso-8859-1", "us-ascii"):
        raw = plain_mail("x", charset="utf-8").replace(b"charset=utf-8", b"charset=" + label.encode())
        raw = raw.rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + data
        assert parse(raw).text == "Prijs € 12,50 – “geen” garantie", label


def test_utf8_base64() -> None:
    parsed = parse(plain_mail("Dank je wel! 😀 Ça va, Jürgen?", transfer="base64"))
    assert parsed.text == "Dank je wel! 😀 Ça va, Jürgen?"


def test_iso_2022_jp() -> None:
    def word(text: str) -> bytes:
        return b"=?ISO-2022-JP?B?" + base64.b64encode(text.encode("iso2022_jp")) + b"?="

    raw = (b"From: " + word("岡本和正") + b" <mail@example.jp>\r\nSubject: " + word("メルマガ解除") + b"\r\n"
           b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
           + "このアドレスへのメルマガを解除してください。".encode("iso2022_jp"))
    parsed = parse(raw)
    assert parsed.subject == "メルマガ解除"
    assert parsed.from_name == "岡本和正"
    assert parsed.text == "このアドレスへのメルマガを解除してください。"


@pytest.mark.parametrize(("label", "text", "codec"), [
    ("gb2312", "喆瑄都是常见的名字", "gbk"),  # GBK characters under a GB2312 label
    ("ks_c_5601-1987", "안녕하세요, 주문 문의드립니다", "cp949"),
    ("windows-1258", "Je vous contacte suite à ma commande du 14 août", "cp1258"),
    ("shift_jis", "①番の注文について", "cp932"),
    ("x-unknown", "Gr\u00fc\u00dfe aus K\u00f6ln", "utf-8"),
    ("x-unknown", "Grüße aus Köln", "cp1252"),
    ("utf-8", "Grüße aus Köln", "latin-1"),  # labelled UTF-8 but written in Latin-1
])
def test_mislabelled_and_unknown_charsets(label: str, text: str, codec: str) -> None:
    raw = plain_mail("x").replace(b"charset=utf-8", f"charset={label}".encode())
    raw = raw.rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + text.encode(codec)
    assert parse(raw).text == text


def test_eight_bit_garbage_is_read_not_raised() -> None:
    garbage = bytes(range(256)) * 3
    parsed = parse(b"From: a@example.nl\nSubject: \xff\xfe\x00\x81 rommel\nContent-Type: text/plain\n\n" + garbage)
    assert not parsed.unparsable
    assert "\x00" not in parsed.full_text and "\x00" not in parsed.subject
    assert parsed.full_text


def test_format_flowed_is_unwrapped() -> None:
    body = ("Dit is een lange regel die de \nclient heeft afgebroken.\n\n"
            "> Een geciteerde regel die \n> doorloopt.\n-- \nJan")
    raw = plain_mail(body).replace(b"charset=utf-8", b"charset=utf-8; format=flowed")
    parsed = parse(raw)
    assert parsed.full_text.startswith("Dit is een lange regel die de client heeft afgebroken.")
    assert "> Een geciteerde regel die doorloopt." in parsed.full_text
    assert parsed.text == "Dit is een lange regel die de client heeft afgebroken."


def test_format_flowed_with_delsp() -> None:
    raw = plain_mail("Lange zin die afgebro \nken is.")
    raw = raw.replace(b"charset=utf-8", b"charset=utf-8; format=flowed; delsp=yes")
    assert parse(raw).text == "Lange zin die afgebroken is."


# -- HTML


def test_html_only_mail_is_read_as_text_and_sanitised() -> None:
    html = ("<html><head><title>Nieuwsbrief</title><style>p {color: red}</style></head><body>"
            "<p>Beste winkel,</p><p>Mijn bestelling <b>1042</b> is&nbsp;kapot.<br>Zie foto.</p>"
            "<table><tr><td>Artikel</td><td>Aantal</td></tr><tr><td>Vaas</td><td>1</td></tr></table>"
            "<ul><li>scherf</li><li>deuk</li></ul>"
            '<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">klik</a></body></html>')
    parsed = parse(html_mail(html))
    assert parsed.full_text == (
        "Beste winkel,\n\nMijn bestelling 1042 is kapot.\nZie foto.\n\nArtikel Aantal\nVaas 1\n- scherf\n- deuk\nklik"
    )
    assert parsed.html is not None
    assert "<script" not in parsed.html and "javascript:" not in parsed.html and "onclick" not in parsed.html
    assert "Nieuwsbrief" not in parsed.html  # the <head> is not content
    assert "<b>1042</b>" in parsed.html


def test_plain_and_html_alternatives() -> None:
    parsed = parse(alternative_mail("Hallo *wereld*", "<p>Hallo <b>wereld</b></p>"))
    assert parsed.full_text == "Hallo wereld"  # the HTML side: what the sender saw
    assert parsed.html == "<p>Hallo <b>wereld</b></p>"
    same = parse(alternative_mail("Hallo", "<p>Hallo</p>"))
    assert (same.full_text, same.html) == ("Hallo", "<p>Hallo</p>")


def test_an_empty_html_alternative_gives_way_to_the_plain_one() -> None:
    parsed = parse(alternative_mail("De factuur staat hieronder.", "<html><head><title>Factuur</title></head></html>"))
    assert parsed.full_text == "De factuur staat hieronder."
    assert parsed.html is None


def test_plain_mail_has_no_html() -> None:
    assert parse(plain_mail("Gewoon tekst")).html is None


# -- attachments


def _mixed(*parts: bytes) -> bytes:
    head = b'From: a@example.nl\r\nSubject: bijlagen\r\nContent-Type: multipart/mixed; boundary="mix"\r\n\r\n'
    return head + b"".join(b"--mix\r\n" + part + b"\r\n" for part in parts) + b"--mix--\r\n"


PDF = b"%PDF-1.4 fake factuur \x00\x01\x02"


def test_attachments_with_encoded_names() -> None:
    raw = _mixed(
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nZie bijlage.",
        b"Content-Type: application/pdf; name=\"factuur.pdf\"\r\nContent-Disposition: attachment;\r\n"
        b" filename*=utf-8''factuur%20%E2%82%AC%2012.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(PDF),
        b'Content-Type: application/octet-stream; name="=?utf-8?B?YmVzdGVsbGluZyDDqcOpbi50eHQ=?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"regel"),
        b'Content-Type: text/plain; name="../../etc/passwd"\r\nContent-Disposition: attachment; '
        b'filename="..\\\\..\\\\etc/passwd"\r\n\r\nroot:x:0:0',
    )
    parsed = parse(raw)
    assert parsed.text == "Zie bijlage."
    assert [(a.filename, a.content_type, a.inline) for a in parsed.attachments] == [
        ("factuur € 12.pdf", "application/pdf", False),
        ("bestelling één.txt", "application/octet-stream", False),
        ("passwd", "text/plain", False),
    ]
    assert parsed.attachments[0].data == PDF


def test_inline_images_keep_their_content_id() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    raw = (
        b'From: a@example.nl\r\nContent-Type: multipart/related; boundary="rel"\r\n\r\n'
        b'--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Kijk: <img src="cid:foto1@example.nl"></p>\r\n'
        b"--rel\r\nContent-Type: image/png; name=foto.png\r\nContent-ID: <foto1@example.nl>\r\n"
        b"Content-Disposition: inline; filename=foto.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(png) + b"--rel\r\nContent-Type: image/gif\r\nContent-ID: <logo>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--rel--\r\n"
    )
    parsed = parse(raw)
    assert [(a.filename, a.content_id, a.inline) for a in parsed.attachments] == [
        ("foto.png", "foto1@example.nl", True), ("attachment.gif", "logo", True),
    ]
    assert parsed.attachments[0].data == png
    assert parsed.html is not None and 'src="cid:foto1@example.nl"' in parsed.html
    assert parsed.text == "Kijk:"


def test_winmail_dat_is_kept_undecoded() -> None:
    tnef = b"\x78\x9f\x3e\x22 tnef bytes"
    raw = _mixed(
        b"Content-Type: text/plain\r\n\r\nZie bijlage.",
        b"Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(tnef),
        b"Content-Type: application/vnd.ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(tnef),
    )
    files = parse(raw).attachments
    assert [(a.filename, a.content_type, a.data) for a in files] == [
        ("winmail.dat", "application/ms-tnef", tnef), ("winmail.dat", "application/vnd.ms-tnef", tnef),
    ]


def test_forwarded_message_is_an_eml_attachment() -> None:
    inner = b"From: leverancier@example.com\r\nSubject: Levering week 2\r\nMessage-ID: <x@example.com>\r\n\r\nBinnen."
    parsed = parse(_mixed(b"Content-Type: text/plain\r\n\r\nDoorgestuurd.",
                          b"Content-Type: message/rfc822\r\n\r\n" + inner))
    assert parsed.text == "Doorgestuurd."
    assert "Binnen." not in parsed.full_text
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "Levering week 2.eml", "message/rfc822", inner)


def test_uuencoded_block_in_a_plain_body_becomes_an_attachment() -> None:
    body = ("Hierbij de lijst.\n\nbegin 644 lijst.csv\n"
            "M4E5,15-%5%])1#M.04U%.T%#5$E6.U)53E]-3T1%.T%51$E47TU/1$E&65]$\n"
            "M051%\"C,X-SM$4\"!$2$P@2D])3B`M($5.(#H@16EN;&%D=6YG(&5!0SM4.U--\n"
            "*.S$W+C`Y+C$T\"@``\n`\nend\n\nGroet")
    parsed = parse(plain_mail(body))
    assert parsed.text == "Hierbij de lijst.\n\nGroet"
    assert parsed.full_text == body  # the whole body, as the sender's client shows it
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("lijst.csv", "text/csv")
    assert attachment.data.startswith(b"RULESET_ID;NAME;")


def test_a_broken_uuencoded_block_stays_text() -> None:
    body = "begin 644 x.bin\nthis is not uuencoded at all\nend"
    parsed = parse(plain_mail(body))
    assert parsed.attachments == () and "this is not uuencoded" in parsed.full_text


def test_x_uuencode_transfer_encoding_without_begin_line() -> None:
    raw = _mixed(b"Content-Type: text/plain\r\n\r\nZie bijlage.",
                 b"Content-Type: application/msword; name=a.txt\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
                 b",2&5L;&\\@6F%M;6%D\r\n`\r\n")
    (attachment,) = parse(raw).attachments
    assert attachment.data == b"Hello Zammad"


def test_pgp_encrypted_mail_keeps_its_parts() -> None:
    raw = (b'From: a@example.nl\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
           b'boundary="enc"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--enc\n'
           b'Content-Type: application/octet-stream; name="encrypted.asc"\n\n-----BEGIN PGP MESSAGE-----\n--enc--\n')
    parsed = parse(raw)
    assert [a.filename for a in parsed.attachments] == ["pgp-encrypted.asc", "encrypted.asc"]
    assert parsed.full_text == "" and "no body content" not in parsed.defects
