"""Hostile and broken mail: parse() answers every input with a ParsedMail, within its limits.

No wall-clock assertions (house rule): the depth and part limits are checked by what the
parser reports; the stdlib parser itself fails on the first input with RecursionError.
"""

from __future__ import annotations

import dataclasses
import email
import random
from collections.abc import Iterator
from email import policy

import pytest
from email_samples import CORPUS, plain_mail

from balie.channels.email import bodies, mime
from balie.channels.email.parse import parse
from balie.text import MAX_HTML_DEPTH


def nested(levels: int) -> bytes:
    parts = [b"From: a@example.nl\r\nSubject: bom\r\n"]
    parts += [b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(levels)]
    parts.append(b"Content-Type: text/plain\r\n\r\ndiep\r\n")
    parts += [b"--b%d--\r\n" % i for i in reversed(range(levels))]
    return b"".join(parts)


def test_the_stdlib_alone_recurses_on_a_nesting_bomb() -> None:
    """Why mime.split exists; if a future Python parses this, the reason is gone."""
    try:
        email.message_from_bytes(nested(1000), policy=policy.default)
    except RecursionError:
        return
    pytest.skip("this Python's email parser no longer recurses per nested multipart")


@pytest.mark.parametrize("levels", [1_000, 20_000])
def test_nesting_bomb_is_cut_at_the_depth_limit(levels: int) -> None:
    parsed = parse(nested(levels))
    assert parsed.unparsable
    assert parsed.reason == f"multipart nested deeper than {mime.MAX_DEPTH} levels"
    assert parsed.subject == "bom" and parsed.from_address == "a@example.nl"


def test_nesting_within_the_limit_is_read() -> None:
    parsed = parse(nested(mime.MAX_DEPTH - 1))
    assert not parsed.unparsable and parsed.text == "diep"


def test_part_bomb_is_cut_at_the_part_limit() -> None:
    raw = (b'From: a@example.nl\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
           + b"--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" * 20_000 + b"--b--\r\n")
    parsed = parse(raw)
    assert parsed.unparsable and parsed.reason == f"more than {mime.MAX_PARTS} MIME parts"
    assert len(parsed.attachments) == mime.MAX_PARTS - 1


def test_nested_forwarded_messages_are_not_descended_into() -> None:
    raw = b"From: a@example.nl\r\nContent-Type: message/rfc822\r\n\r\n" * 5_000 + b"From: b@example.nl\r\n\r\nhoi"
    parsed = parse(raw)
    assert not parsed.unparsable
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]


def test_unterminated_multipart_keeps_its_text() -> None:
    raw = (b'From: a@example.nl\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
           b"--b\r\nContent-Type: text/plain\r\n\r\nHet laatste deel eindigt nooit")
    parsed = parse(raw)
    assert parsed.text == "Het laatste deel eindigt nooit"
    assert "multipart/mixed without a closing boundary" in parsed.defects


@pytest.mark.parametrize(("content_type", "defect"), [
    (b"multipart/mixed", "multipart/mixed without a boundary, read as text"),
    (b'multipart/mixed; boundary="nergens"', "multipart/mixed without parts, read as text"),
])
def test_multipart_that_is_not_is_read_as_text(content_type: bytes, defect: str) -> None:
    parsed = parse(b"From: a@example.nl\r\nContent-Type: " + content_type + b"\r\n\r\nGewoon tekst.")
    assert parsed.text == "Gewoon tekst." and defect in parsed.defects


@pytest.mark.parametrize("raw", [
    b"", b"\r\n\r\n", b"\x00" * 1000, bytes(range(256)) * 10, b"no headers here, just words",
    b"From: a@example.nl", b":\n:\n\n", b"Content-Type: text/plain; charset=\xff\xfe\n\nx",
    b"Content-Transfer-Encoding: base64\n\n!!!!", b"Content-Transfer-Encoding: quoted-printable\n\n=ZZ=\n=",
    b"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--", b"From: " + b"(" * 10_000 + b"\n\nx",
    b"To: " + b"a@b.nl, " * 50_000 + b"\n\nx", b"Subject: " + b"=?utf-8?b?" * 10_000 + b"\n\nx",
    b"Content-Type: text/html\n\n" + b"<!--" * 50_000, b"Content-Type: text/html\n\n" + b"</" * 100_000,
    b"Content-Type: text/html\n\n" + b"&" * 100_000, b"Content-Type: text/html\n\n" + b"<" * 100_000 + b">",
])
def test_broken_input_never_raises(raw: bytes) -> None:
    parsed = parse(raw)
    assert parsed.message_id.startswith("<")
    assert "\x00" not in parsed.text
    assert not (parsed.reason or "").startswith("parser error")


def test_input_without_headers_is_flagged_and_its_text_kept() -> None:
    parsed = parse(b"Alleen tekst, geen kopregels.")
    assert parsed.unparsable and parsed.reason == "no header block"
    assert parsed.text == "Alleen tekst, geen kopregels."


def test_deeply_nested_html_is_left_out_but_its_text_kept() -> None:
    html = "<div>" * (MAX_HTML_DEPTH + 1) + "Binnenin"
    parsed = parse(b"From: a@example.nl\r\nContent-Type: text/html\r\n\r\n" + html.encode())
    assert parsed.html is None and parsed.text == "Binnenin"
    assert any(defect.startswith("HTML left out") for defect in parsed.defects)


def test_an_unexpected_error_still_gives_a_parsed_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(bodies, "collect", broken)
    parsed = parse(plain_mail("Hallo"))
    assert parsed.unparsable and parsed.reason == "parser error: RuntimeError"
    assert "Hallo" in parsed.full_text and parsed.message_id_synthetic


def test_mutated_corpus_mails_never_reach_the_safety_net() -> None:
    """Seeded mutations of real mails: the parser handles them itself (no 'parser error')."""
    samples = [path.read_bytes() for path in sorted(CORPUS.glob("*/*")) if path.suffix in (".box", ".eml")]
    samples = samples or [plain_mail("Hallo"), nested(5)]
    rng = random.Random(20260103)
    inserts = [b"\n", b"\r\n", b"--", b"=?", b"?=", b"=?utf-8?B?", b"(", b"<", b"\x00", b"\xff", b"\xe9",
               b"begin 644 x\n", b'Content-Type: multipart/mixed; boundary="x"\n\n--x\n',
               b"=?utf-8?b?\xff\xfe?=", b"Content-ID: <\xff>\n", b'filename="\xff.txt"', b"charset=\xff"]
    for _ in range(300):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 20)):
            position = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.4 and data:
                data[min(position, len(data) - 1)] = rng.randrange(256)
            elif choice < 0.7:
                data[position:position] = rng.choice(inserts)
            else:
                del data[position:position + rng.randint(1, 100)]
        parsed = parse(bytes(data))
        assert not (parsed.reason or "").startswith("parser error"), parsed.reason
        for value in _strings(parsed):
            value.encode("utf-8")  # no surrogate escapes of raw bytes left in any field


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name))
