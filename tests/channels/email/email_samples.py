"""Raw mails for the e-mail parsing tests, built as bytes the way clients send them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

# The shared corpus of real mails sits beside the repository, here and in CI.
CORPUS = Path(os.environ.get("BALIE_MAIL_CORPUS") or Path(__file__).resolve().parents[3].parent / "shared/corpus/mail")


def plain_mail(body: str, *, subject: str = "Re: Bestelling 1042", charset: str = "utf-8",
               extra_headers: str = "", transfer: str = "8bit") -> bytes:
    head = (
        "From: Jan Jansen <Jan.Jansen@Example.NL>\r\n"
        "To: support@winkel.nl\r\n"
        f"Subject: {subject}\r\n"
        "Date: Fri, 3 Jan 2026 10:12:00 +0100\r\n"
        "Message-ID: <reply-1@example.nl>\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n"
        f"Content-Transfer-Encoding: {transfer}\r\n"
        f"{extra_headers}"
        "\r\n"
    )
    data = body.replace("\n", "\r\n").encode(charset)
    if transfer == "base64":
        data = base64.encodebytes(data)
    return head.encode() + data  # non-ASCII headers as raw UTF-8 (RFC 6532)


def alternative_mail(plain: str, html: str, *, extra_headers: str = "") -> bytes:
    return (
        "From: Jan Jansen <jan@example.nl>\r\n"
        "To: support@winkel.nl\r\n"
        "Subject: Re: Bestelling 1042\r\n"
        "Message-ID: <alt-1@example.nl>\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="alt"\r\n'
        "\r\n"
        "--alt\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{plain}\r\n"
        "--alt\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        f"{html}\r\n"
        "--alt--\r\n"
    ).encode()


def html_mail(html: str) -> bytes:
    return (
        "From: Jan Jansen <jan@example.nl>\r\n"
        "Subject: Re: Bestelling 1042\r\n"
        "Message-ID: <html-1@example.nl>\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        f"{html}\r\n"
    ).encode()
