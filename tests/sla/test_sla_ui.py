"""The SLA in the agent UI: a badge per inbox row with the due time in its title, the sort
option, the due moments beside a conversation, and the admin's targets page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sla_support import customer_writes, local, own_targets, patch
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.shops.models import Shop
from balie.sla import targets
from balie.sla.policy import Target
from balie.sla.targets import TargetRow
from factories import Tenant
from ui_support import log_in, row_ids, sign_in


def _badges(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<span class="badge sla sla--(\w+)" title="([^"]*)" data-testid="sla">([^<]+)</span>', html)


def test_the_inbox_shows_an_sla_badge_per_row_and_sorts_by_it(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    first = customer_writes(factory, tenant, email="a@example.nl")  # due 11:00, due soon 10:48
    frozen_clock.current = local(2026, 11, 30, 10, 30)
    second = customer_writes(factory, tenant, email="b@example.nl")  # due 11:30
    third = customer_writes(factory, tenant, email="c@example.nl")
    patch(client, tenant, third, status="pending")
    frozen_clock.current = local(2026, 11, 30, 10, 50)
    sign_in(client, tenant)

    page = client.get("/inbox?view=open&sort=sla").text
    assert row_ids(page) == [first, second]
    assert _badges(page) == [("due_soon", "SLA verloopt maandag 30 november 2026 11:00", "Bijna te laat"),
                             ("on_track", "SLA verloopt maandag 30 november 2026 11:30", "Op tijd")]
    assert '<option value="sla" selected>SLA</option>' in page
    pending = client.get("/inbox?view=pending").text
    assert _badges(pending) == [("paused", "De SLA-klok staat stil", "SLA gepauzeerd")]

    frozen_clock.current = local(2026, 11, 30, 11, 0)
    client.get("/ui/lang/en?next=/inbox")
    english = client.get("/ui/partials/list?sort=sla").text
    assert [state for state, _, _ in _badges(english)] == ["breached", "on_track"]
    assert _badges(english)[0][1:] == ("SLA due Monday 30 November 2026 11:00", "Breached")


def test_the_conversation_page_shows_the_due_moments(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.current = local(2026, 11, 27, 17, 30)
    conversation_id = customer_writes(factory, tenant)  # no e-mail hours: around the clock
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'data-testid="sla-state">Op tijd<' in page
    assert 'data-testid="sla-first-response">zaterdag 28 november 2026 17:30<' in page
    assert "Geen openingstijden voor dit kanaal: de klok rond geteld." in page


def _form(client: TestClient, csrf: str, **fields: str) -> dict[str, str]:
    page = client.get("/settings/sla").text
    values = dict(re.findall(r'<input id="[^"]+" name="([^"]+)" type="text" inputmode="numeric" value="([^"]*)"', page))
    for select_name in re.findall(r'<select name="([^"]+)"', page):
        chosen = re.search(rf'<select name="{select_name}"[^>]*>.*?<option value="(\w+)" selected', page, re.S)
        assert chosen, select_name
        values[select_name] = chosen.group(1)
    return {**values, "csrf_token": csrf, **fields}


def test_an_admin_changes_targets_on_the_settings_page(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    csrf = sign_in(client, tenant)
    page = client.get("/settings/sla").text
    assert 'id="email-normal-first-response" name="email_normal_first_response" type="text" ' \
           'inputmode="numeric" value="24"' in page
    form = _form(client, csrf, near="75", email_normal_first_response="90",
                 email_normal_first_response_unit="minutes", email_normal_first_response_basis="calendar",
                 chat_urgent_resolution="8", chat_urgent_resolution_unit="hours", chat_low_first_response="")
    response = client.post("/settings/sla", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/settings/sla?notice=saved"
    with factory() as session:
        policy = targets.load(session, tenant.shop_id)
    assert policy.near == 0.75
    assert policy.target("email", "normal", "first_response") == Target(90, business=False)
    assert policy.target("chat", "urgent", "resolution") == Target(480, business=True)
    assert policy.target("chat", "low", "first_response") is None
    assert policy.target("email", "high", "first_response") == Target(1440)  # kept as shown


@pytest.mark.parametrize(("fields", "field_id", "message"), [
    ({"email_normal_first_response": "-5"}, "email-normal-first-response",
     "Vul een heel getal in, of laat het leeg voor geen belofte."),
    ({"email_normal_first_response": "9999", "email_normal_first_response_unit": "hours"},
     "email-normal-first-response", "Een belofte is 1 minuut tot een jaar (8784 uur)."),
    ({"chat_high_next_response": "0"}, "chat-high-next-response", "Een belofte is 1 minuut tot een jaar (8784 uur)."),
    ({"chat_high_next_response_unit": "weeks"}, "chat-high-next-response", "Kies minuten of uur."),
    ({"chat_high_next_response_basis": "moon"}, "chat-high-next-response", "Kies openingstijden of de klok rond."),
    ({"near": "100"}, "near", "Vul een percentage van 1 tot 99 in, bijvoorbeeld 80."),
    ({"near": "tachtig"}, "near", "Vul een percentage van 1 tot 99 in, bijvoorbeeld 80."),
])
def test_wrong_fields_are_explained_beside_them_and_nothing_is_saved(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, fields: dict[str, str], field_id: str,
    message: str
) -> None:
    csrf = sign_in(client, tenant)
    response = client.post("/settings/sla", data=_form(client, csrf, **fields))
    assert response.status_code == 400
    assert f'<p class="form-field__error" id="{field_id}-error">' in response.text
    assert message in response.text
    with factory() as session:
        assert not targets.is_custom(session, tenant.shop_id)


def test_the_targets_page_needs_the_csrf_token_and_an_admin(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    csrf = sign_in(client, tenant)
    form = _form(client, csrf)
    assert client.post("/settings/sla", data={**form, "csrf_token": "forged"}).status_code == 403
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", password="correct horse")
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
    client.cookies.clear()
    assert log_in(client, "collega@example.nl", "correct horse").status_code == 303
    assert client.get("/settings/sla").status_code == 403
    with factory() as session:
        assert not targets.is_custom(session, tenant.shop_id)


def test_unknown_fields_are_ignored(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    form = _form(client, csrf, pigeon_normal_first_response="5", email_normal_apology="5")
    assert client.post("/settings/sla", data=form, follow_redirects=False).status_code == 303
    with factory() as session:
        policy = targets.load(session, tenant.shop_id)
    assert {channel for channel, _, _ in policy.targets} <= {"api", "email", "chat", "phone", "form", "social",
                                                             "whatsapp"}


