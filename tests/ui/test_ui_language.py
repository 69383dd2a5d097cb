"""Dutch by default, English on request; complete catalogs; templates that obey the CSP."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from balie import clock
from balie.ui import catalog
from balie.ui.i18n import TEMPLATE_DIR
from factories import Tenant, post_message
from ui_support import sign_in


def test_dutch_is_the_default(client: TestClient) -> None:
    page = client.get("/login").text
    assert '<html lang="nl">' in page
    assert "Inloggen" in page and "Wachtwoord" in page


def test_switching_to_english_changes_the_ui_at_once(
    client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    frozen_clock.advance(hours=3)
    sign_in(client, tenant)
    assert "wacht 3 u" in client.get("/inbox").text

    switched = client.get(f"/ui/lang/en?next=/inbox/c/{conversation_id}", follow_redirects=False)

    assert switched.status_code == 303
    assert switched.headers["location"] == f"/inbox/c/{conversation_id}"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("balie_lang=en;") and "samesite=lax" in cookie.lower()
    page = client.get(switched.headers["location"]).text
    assert '<html lang="en">' in page
    assert "waiting 3h" in page
    assert "Internal note" in page and "Send & resolve" in page and "Log out" in page
    assert "Interne notitie" not in page and "Uitloggen" not in page
    assert 'id="lang-en" href="/ui/lang/en?next=' in page and 'aria-current="true">EN</a>' in page

    client.get("/ui/lang/nl")
    assert "Uitloggen" in client.get("/inbox").text


def test_the_language_switch_stays_on_this_site(client: TestClient) -> None:
    response = client.get("/ui/lang/en?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/inbox"
    unknown = client.get("/ui/lang/fr?next=/login", follow_redirects=False)
    assert unknown.headers["location"] == "/login" and "set-cookie" not in unknown.headers


def test_both_catalogs_translate_every_message() -> None:
    messages = catalog.extract()
    assert len([message for message in messages if message.id]) > 100
    assert catalog.missing("nl", messages) == []
    assert catalog.missing("en", messages) == []


def test_templates_have_no_inline_script_or_style() -> None:
    """The Content-Security-Policy would block them; better to find out here than in a browser."""
    for template in Path(TEMPLATE_DIR).glob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), template.name
        assert "<style" not in source, template.name
        assert not re.search(r"\sstyle=", source), template.name
        assert not re.search(r"\son[a-z]+=", source), template.name
        assert "javascript:" not in source, template.name


def test_every_visible_template_text_goes_through_gettext() -> None:
    """Text between tags must be a {{ _() }} call or a variable, not a bare Dutch or English word."""
    allowed = {"Balie", "NL", "EN", "Nederlands", "English", "kB", "Ctrl", "Enter", "Esc", "j", "k", "o",
               "r", "n", "e", "a", "c", "g", "i", "/", "?", "+", "(/", ")", "(", "·", "#", "–", "%"}
    for template in Path(TEMPLATE_DIR).glob("*.html"):
        source = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", template.read_text(), flags=re.S)
        source = re.sub(r"<svg.*?</svg>", " ", source, flags=re.S)
        for text in re.findall(r">([^<>]+)<", source):
            for word in text.split():
                assert word in allowed, f"{template.name}: untranslated text {word!r}"
