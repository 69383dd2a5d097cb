"""HTML mail as text: whitespace, paragraphs, tables, lists, hidden parts, broken markup."""

from __future__ import annotations

import pytest

from balie.htmltext import html_to_text, tokens


@pytest.mark.parametrize(("html", "text"), [
    ("<p>Een\n  regel   die\ndoorloopt</p>", "Een regel die doorloopt"),
    ("<p>Eerste</p><p>Tweede</p>", "Eerste\n\nTweede"),
    ('<p class="MsoNormal">Outlook</p><p class=MsoNormal>regels</p><p class=MsoNormal>&nbsp;</p><p>los</p>',
     "Outlook\nregels\n\nlos"),
    ("<div>Gmail</div><div><br></div><div>alinea</div>", "Gmail\n\nalinea"),
    ("a<br>b<br/>c", "a\nb\nc"),
    ("<table><tr><td>Artikel</td><td>Prijs</td></tr><tr><th>Vaas</th><td>&euro; 12</td></tr></table>",
     "Artikel Prijs\nVaas € 12"),
    ("<ol><li>een<li>twee</ol><ul><li>los</li></ul>", "1. een\n2. twee\n- los"),
    ("<pre>  ingesprongen\n    code</pre>", "ingesprongen\n    code"),
    ("<head><title>T</title><style>p{}</style></head><body>zichtbaar</body>", "zichtbaar"),
    ('<span style="display: none">preheader</span>tekst', "tekst"),
    ("<script>if (a < b) { x = '</div>' }</script>na", "na"),
    ("3 < 4 en 5 > 2", "3 < 4 en 5 > 2"),
    ("<!-- commentaar -->zichtbaar<!--[if mso]>verborgen<![endif]-->", "zichtbaar"),
    ("<!DOCTYPE html><?xml x?><o:p>Word</o:p>", "Word"),
    ('<a href="https://winkel.nl" title="a&amp;b">link</a>', "link"),
    ("<head><title>nooit gesloten<body>inhoud", "inhoud"),
    ("tekst<!-- nooit gesloten", "tekst"),
])
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_tag_runs_to_the_next_angle_bracket_as_in_browsers() -> None:
    # A sloppy generator left a tag open; browsers read the words up to ">" as attributes.
    assert html_to_text("<td><div Antworte einfach<br class=''>Dann</div></td>") == "Dann"


def test_tokens() -> None:
    assert list(tokens('<P Class="x" data-y=\'1\' hidden>Hoi &amp; dag</p>')) == [
        ("start", "p", {"class": "x", "data-y": "1", "hidden": ""}),
        ("data", "Hoi &amp; dag", {}),
        ("end", "p", {}),
    ]


@pytest.mark.parametrize("html", [
    "<" * 200_000 + ">", "<!--" * 100_000, "</" * 200_000, '<a "' * 100_000 + ">", "<div>" * 100_000,
    "&" * 200_000, "<td>x" * 100_000, "<script>" + "<" * 200_000, "<![CDATA[" * 50_000, "<br>" * 100_000,
])
def test_hostile_markup_is_read(html: str) -> None:
    assert isinstance(html_to_text(html), str)
    assert isinstance(html_to_text(html, drop_quotes=True), str)
