"""What the customer wrote this time: quote headers of the common clients (nl, en, de),
'>' blocks, signatures and mobile footers; the full text keeps everything."""

from __future__ import annotations

import pytest
from email_samples import alternative_mail, html_mail, plain_mail

from balie.channels.email import quotes
from balie.channels.email.parse import parse

NEW = "Mijn pakket is nog steeds niet bezorgd.\nKunt u kijken waar het is?"
HISTORY = "Beste Jan,\n\nUw pakket is onderweg en komt morgen.\n\nMet vriendelijke groet,\nWinkel"


def quoted(text: str) -> str:
    return "\n".join(">" if not line else f"> {line}" for line in text.split("\n"))


@pytest.mark.parametrize("attribution", [
    # Gmail
    "Op vr 3 jan 2026 om 10:12 schreef Winkel Support <support@winkel.nl>:",
    "On Fri, Jan 3, 2026 at 10:12 AM Winkel Support <support@winkel.nl> wrote:",
    "Am Fr., 3. Jan. 2026 um 10:12 Uhr schrieb Winkel Support <support@winkel.nl>:",
    # Gmail wraps a long attribution
    "On Fri, Jan 3, 2026 at 10:12 AM Winkel Support from the Webshop of Example <\nsupport@winkel.nl> wrote:",
    # Apple Mail
    "Op 3 jan. 2026, om 10:12 heeft Winkel Support <support@winkel.nl> het volgende geschreven:",
    "On 3 Jan 2026, at 10:12, Winkel Support <support@winkel.nl> wrote:",
    "Am 03.01.2026 um 10:12 schrieb Winkel Support <support@winkel.nl>:",
    # Thunderbird
    "Op 03-01-2026 om 10:12 schreef Winkel Support:",
    "On 1/3/26 10:12 AM, Winkel Support wrote:",
    "Am 03.01.2026 10:12, schrieb Winkel Support:",
    # French (Belgian customers)
    "Le ven. 3 janv. 2026 à 10:12, Winkel Support <support@winkel.nl> a écrit :",
])
def test_attribution_and_quoted_block_are_removed(attribution: str) -> None:
    body = f"{NEW}\n\n{attribution}\n\n{quoted(HISTORY)}\n"
    parsed = parse(plain_mail(body))
    assert parsed.text == NEW
    assert "Uw pakket is onderweg" in parsed.full_text


@pytest.mark.parametrize("header", [
    "Van: Winkel Support <support@winkel.nl>\nVerzonden: vrijdag 3 januari 2026 10:12\nAan: Jan Jansen\n"
    "Onderwerp: RE: Bestelling 1042",
    "Van: Winkel Support <support@winkel.nl>\nDatum: vrijdag 3 januari 2026 om 10:12\nAan: Jan Jansen\n"
    "Onderwerp: Bestelling 1042",
    "From: Winkel Support [mailto:support@winkel.nl]\nSent: Friday, January 3, 2026 10:12 AM\nTo: Jan Jansen\n"
    "Subject: RE: Order 1042",
    "Von: Winkel Support <support@winkel.nl>\nGesendet: Freitag, 3. Januar 2026 10:12\nAn: Jan Jansen\n"
    "Betreff: AW: Bestellung 1042",
    "________________________________\nVan: Winkel Support <support@winkel.nl>\nVerzonden: vrijdag 3 januari 2026\n"
    "Aan: Jan Jansen\nOnderwerp: RE: Bestelling 1042",
    "*From:* Winkel Support <support@winkel.nl>\n*Sent:* Friday, January 3, 2026 10:12 AM\n*To:* Jan Jansen",
    "-----Oorspronkelijk bericht-----\nVan: Winkel Support",
    "-----Original Message-----\nFrom: Winkel Support",
    "-----Ursprüngliche Nachricht-----\nVon: Winkel Support",
    "---------- Forwarded message ---------\nFrom: Winkel Support <support@winkel.nl>",
    "---------- Doorgestuurd bericht ---------\nVan: Winkel Support <support@winkel.nl>",
])
def test_outlook_header_blocks_and_separators_cut_the_history(header: str) -> None:
    body = f"{NEW}\n\nMet vriendelijke groet,\nJan\n\n{header}\n\n{HISTORY}\n"
    parsed = parse(plain_mail(body))
    assert parsed.text == f"{NEW}\n\nMet vriendelijke groet,\nJan"
    assert "Uw pakket is onderweg" in parsed.full_text


@pytest.mark.parametrize("footer", [
    "Verstuurd vanaf mijn iPhone", "Verzonden vanaf mijn Samsung Galaxy-smartphone.", "Sent from my iPhone",
    "Sent from my iPad", "Von meinem iPhone gesendet", "Gesendet von meinem iPhone", "Get Outlook for iOS",
    "Outlook voor Android downloaden", "Envoyé de mon iPhone",
])
def test_mobile_footers_are_removed(footer: str) -> None:
    attribution = "Op 3 jan. 2026, om 10:12 heeft Winkel Support <support@winkel.nl> het volgende geschreven:"
    parsed = parse(plain_mail(f"{NEW}\n\n{footer}\n\n{attribution}\n\n{quoted(HISTORY)}"))
    assert parsed.text == NEW


def test_signature_after_the_standard_delimiter_is_removed() -> None:
    parsed = parse(plain_mail(f"{NEW}\n\n-- \nJan Jansen\nKerkstraat 1, Utrecht\n06-12345678\n"))
    assert parsed.text == NEW
    assert "06-12345678" in parsed.full_text


def test_a_closing_greeting_is_part_of_the_message() -> None:
    body = f"{NEW}\n\nMet vriendelijke groet,\n\nJan Jansen\nKerkstraat 1\n3512 AB Utrecht"
    assert parse(plain_mail(body)).text == body


def test_interleaved_answers_are_kept_and_the_quotes_between_them_dropped() -> None:
    body = ("Op vr 3 jan 2026 om 10:12 schreef Winkel <support@winkel.nl>:\n"
            "> Welke maat had u besteld?\nMaat 42.\n\n> En welke kleur?\nBlauw.\n")
    assert parse(plain_mail(body)).text == "Maat 42.\n\nBlauw."


def test_bottom_posted_reply_keeps_the_text_below_the_quote() -> None:
    body = f"Am 07.05.2012 08:10, schrieb Winkel:\n{quoted(HISTORY)}\n\n{NEW}\n"
    assert parse(plain_mail(body)).text == NEW


def test_nothing_but_history_falls_back_to_the_full_text() -> None:
    body = f"-----Original Message-----\nFrom: Winkel\n\n{HISTORY}"
    parsed = parse(plain_mail(body))
    assert parsed.text == parsed.full_text
    assert "Uw pakket is onderweg" in parsed.text


def test_only_a_footer_falls_back_to_the_full_text() -> None:
    assert parse(plain_mail("Sent from my iPhone")).text == "Sent from my iPhone"


@pytest.mark.parametrize("line", [
    "Op maandag heb ik besteld, maar ik schreef u al eerder:",
    "On top of that, as I wrote:",
    "Van: mijn moeder gekregen, dus graag snel.",
])
def test_prose_that_resembles_a_quote_header_is_kept(line: str) -> None:
    body = f"{line}\nhet pakket is beschadigd aangekomen.\nGraag een oplossing."
    assert parse(plain_mail(body)).text == body


def test_gmail_html_quote_and_signature_containers_are_left_out() -> None:
    html = (
        '<div dir="ltr">Hoi,<div><br></div><div>Mijn pakket is <b>nog steeds</b> niet bezorgd.</div></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Op vr 3 jan 2026 om 10:12 schreef Winkel '
        '&lt;<a href="mailto:support@winkel.nl">support@winkel.nl</a>&gt;:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Uw pakket is onderweg.</blockquote></div>'
        '<br clear="all"><div><br></div>-- <br><div dir="ltr" class="gmail_signature">Jan Jansen</div>'
    )
    parsed = parse(html_mail(html))
    assert parsed.text == "Hoi,\n\nMijn pakket is nog steeds niet bezorgd."
    assert "Uw pakket is onderweg" in parsed.full_text
    assert parsed.html is not None and "gmail_quote" not in parsed.html  # sanitised: classes go


def test_apple_and_thunderbird_cite_blockquotes_are_left_out() -> None:
    html = (
        "<html><body><div>Klopt, dank u.</div><div><br><blockquote type=\"cite\"><div>Op 3 jan. 2026, om 10:12 "
        "heeft Winkel het volgende geschreven:</div><div>Uw pakket is onderweg.</div></blockquote></div>"
        '<div class="moz-cite-prefix">On 1/3/26 10:12 AM, Winkel wrote:<br></div>'
        '<blockquote type="cite">Nog meer historie</blockquote></body></html>'
    )
    assert parse(html_mail(html)).text == "Klopt, dank u."


def test_outlook_html_reply_is_cut_at_its_reply_marker() -> None:
    html = (
        '<div dir="ltr">Dat klopt niet, ik heb maat 42 besteld.</div><hr style="display:inline-block">'
        '<div id="divRplyFwdMsg" dir="ltr"><b>Van:</b> Winkel &lt;support@winkel.nl&gt;<br><b>Verzonden:</b> '
        "vrijdag 3 januari 2026 10:12<br><b>Aan:</b> Jan</div><div>Uw pakket is onderweg.</div>"
    )
    assert parse(html_mail(html)).text == "Dat klopt niet, ik heb maat 42 besteld."


def test_outlook_desktop_html_is_cut_at_its_header_block() -> None:
    html = (
        '<div class="WordSection1"><p class="MsoNormal">Graag retour.<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        '<p class="MsoNormal"><b>Von:</b> Winkel &lt;support@winkel.nl&gt;<br><b>Gesendet:</b> Freitag, 3. Januar '
        "2026 10:12<br><b>An:</b> Jan<br><b>Betreff:</b> Bestellung</p></div>"
        '<p class="MsoNormal">Ihr Paket ist unterwegs.</p></div>'
    )
    assert parse(html_mail(html)).text == "Graag retour."


def test_alternative_mail_takes_the_reply_from_the_html_side() -> None:
    plain = f"{NEW}\n\nOn Fri, Jan 3, 2026 at 10:12 AM Winkel <support@winkel.nl> wrote:\n\n> Uw pakket is onderweg."
    html = (f"<div>{NEW.replace(chr(10), '<br>')}</div><div class=\"gmail_quote\">On Fri, Jan 3, 2026 at 10:12 AM "
            "Winkel wrote:<blockquote>Uw pakket is onderweg.</blockquote></div>")
    parsed = parse(alternative_mail(plain, html))
    assert parsed.text == NEW
    assert "Uw pakket is onderweg" in parsed.full_text


def test_strip_quotes_alone_may_be_empty_and_reply_text_never_is() -> None:
    assert quotes.strip_quotes("> alleen een citaat") == ""
    assert quotes.reply_text("> alleen een citaat", "> alleen een citaat") == "> alleen een citaat"
