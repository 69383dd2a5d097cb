"""The call-back page: the queue by due time with broken promises marked in words, a tel: link,
outcome forms with CSRF, a form to add one (filled in from a conversation), customer text
shown as text, and the call-back in the customer panel's timeline."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.callbacks.models import Callback
from factories import Tenant, post_message
from ui_support import form_token, sign_in


def active_content(html: str) -> list[str]:
    """Script or event handlers that are not our own files (the page may only load /ui/static)."""
    scripts = [src for src in re.findall(r"<script([^>]*)>", html) if 'src="/ui/static/' not in src]
    handlers = re.findall(r"<[^>]+\son[a-z]+=", html)
    return scripts + handlers


HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def _ask(client: TestClient, tenant: Tenant, phone: str = "0612345678", **body: object) -> dict[str, object]:
    response = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": phone, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_not_signed_in_goes_to_the_login(client: TestClient) -> None:
    response = client.get("/callbacks", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fcallbacks"
    posted = client.post("/callbacks", data={"phone": "0612345678"}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")
    partial = client.get("/ui/partials/callbacks")
    assert partial.status_code == 401


def test_the_queue_page(client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    late = _ask(client, tenant, name=HOSTILE, topic="Retour <b>nu</b>")
    frozen_clock.advance(minutes=10)
    fresh = _ask(client, tenant, "+32 470 12 34 56", name="Els")
    frozen_clock.advance(minutes=25)  # the first promise (10:30) is broken
    sign_in(client, tenant)
    page = client.get("/callbacks")
    assert page.status_code == 200
    html = page.text
    assert "Terugbellen" in html and 'id="callbacks-link"' in html and 'aria-current="page"' in html
    ids = [int(v) for v in re.findall(r'data-callback-id="(\d+)"', html)]
    assert ids == [late["id"], fresh["id"]]
    assert 'href="tel:+31612345678"' in html and 'href="tel:+32470123456"' in html
    first = html[html.index(f'id="callback-{late["id"]}"'):html.index(f'id="callback-{fresh["id"]}"')]
    assert f'<li class="callback callback--overdue" id="callback-{late["id"]}"' in html
    assert "Te laat" in first  # in words, not colour alone
    assert "1 belofte is te laat." in html
    assert "Te laat" not in html[html.index(f'id="callback-{fresh["id"]}"'):]
    # Customer text is text.
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Retour &lt;b&gt;nu&lt;/b&gt;" in html
    assert active_content(html) == []
    english = client.get("/ui/lang/en?next=/callbacks")
    assert "Overdue" in english.text and "No answer" in english.text and "Call-backs" in english.text


def test_recording_an_outcome_needs_the_csrf_token(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    callback = _ask(client, tenant)
    sign_in(client, tenant)
    url = f"/callbacks/{callback['id']}/attempts"
    refused = client.post(url, data={"outcome": "reached"}, follow_redirects=False)
    assert refused.status_code == 403
    token = form_token(client.get("/callbacks").text)
    done = client.post(url, data={"outcome": "no_answer", "note": HOSTILE, "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/callbacks?notice=recorded"
    page = client.get(done.headers["location"]).text
    assert "Uitkomst opgeslagen." in page and HOSTILE not in page and "&lt;script&gt;" in page
    assert "Poging 2 van 3" in page
    client.post(url, data={"outcome": "reached", "csrf_token": token})
    closed = client.post(url, data={"outcome": "reached", "csrf_token": token})
    assert closed.status_code == 409 and "al afgesloten" in closed.text
    unknown = client.post(url.replace(str(callback["id"]), "999999"), data={"outcome": "reached", "csrf_token": token})
    assert unknown.status_code == 404
    with factory() as session:
        assert session.get_one(Callback, callback["id"]).status == "reached"


def test_an_agent_adds_a_callback_from_a_conversation(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    message = post_message(client, tenant, customer={"phone": "0612345678", "name": "Klaas"}, subject="Kapotte fiets")
    sign_in(client, tenant)
    conversation = client.get(f"/inbox/c/{message['conversation_id']}").text
    assert f'href="/callbacks?conversation_id={message["conversation_id"]}"' in conversation
    form = client.get(f"/callbacks?conversation_id={message['conversation_id']}").text
    assert 'value="+31612345678"' in form and 'value="Klaas"' in form and "Kapotte fiets" in form
    token = form_token(form)
    bad = client.post("/callbacks", data={"phone": "123", "csrf_token": token,
                                          "conversation_id": str(message["conversation_id"])})
    assert bad.status_code == 400 and "Vul een bestaand telefoonnummer in" in bad.text
    assert 'aria-invalid="true"' in bad.text
    window = client.post("/callbacks", data={"phone": "0612345678", "when": "window", "start": "2026-01-01T10:00",
                                             "end": "2026-01-01T09:00", "csrf_token": token})
    assert window.status_code == 400 and "het eind na het begin" in window.text
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 0
    added = client.post("/callbacks", data={"phone": "+31612345678", "name": "Klaas", "topic": "Fiets",
                                            "when": "asap", "csrf_token": token,
                                            "conversation_id": str(message["conversation_id"])},
                        follow_redirects=False)
    assert added.status_code == 303 and "notice=created" in added.headers["location"]
    with factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.source == "agent" and callback.customer_id == message["customer_id"]
    again = client.post("/callbacks", data={"phone": "06 12345678", "csrf_token": token}, follow_redirects=False)
    assert "notice=exists" in again.headers["location"]
    # The customer panel's timeline shows the call-back.
    panel = client.get(f"/inbox/c/{message['conversation_id']}").text
    assert f'data-callback-id="{callback.id}"' in panel and "Terugbelverzoek" in panel


def test_the_partial_for_live_updates(client: TestClient, tenant: Tenant) -> None:
    callback = _ask(client, tenant)
    sign_in(client, tenant)
    partial = client.get("/ui/partials/callbacks")
    assert partial.status_code == 200 and f'data-callback-id="{callback["id"]}"' in partial.text
    assert "<html" not in partial.text
