"""Blocking and muting from the customer panel (admins), the banner every agent sees, the
marker on the customer's inbox rows, the compliments filter in the inbox, the acknowledgements
settings page, and the automatic acknowledgement in the thread."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.customers import blocking
from balie.scheduling import runner
from balie.shops.models import Shop
from balie.sla import acknowledgement_settings
from balie.worker import HANDLERS
from factories import Tenant, make_tenant, post_message
from ui_support import ASYNC, PASSWORD, log_in, session_token, sign_in


def colleague_signs_in(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="collega@example.nl", name="Cor Collega", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
    client.cookies.clear()
    assert log_in(client, "collega@example.nl").status_code == 303
    return session_token(client.get("/inbox").text)


def test_an_admin_blocks_from_the_panel_and_everyone_sees_the_banner(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'id="block-form"' in page and 'id="block-banner"' not in page

    response = client.post(f"/inbox/c/{conversation_id}/block?view=mine", follow_redirects=False,
                           data={"csrf_token": csrf, "mode": "blocked", "reason": "Scheldt <agenten> uit"})

    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/c/{conversation_id}?view=mine&notice=blocked"
    page = client.get(response.headers["location"]).text
    assert "Klant geblokkeerd." in page
    assert 'data-mode="blocked"' in page and "Geblokkeerd door Ada Agent sinds" in page
    assert "Reden: Scheldt &lt;agenten&gt; uit" in page
    assert 'id="composer-block-warning"' in page and 'id="unblock-form"' in page
    partial = client.get(f"/ui/partials/conversation/{conversation_id}").text  # what a live refresh shows
    assert 'id="block-banner"' in partial

    unblocked = client.post(f"/inbox/c/{conversation_id}/unblock", data={"csrf_token": csrf}, headers=ASYNC)
    assert unblocked.status_code == 200 and unblocked.json()["notice"] == "unblocked"
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'id="block-banner"' not in page and 'id="composer-block-warning"' not in page


def test_muting_shows_a_quiet_banner_in_english(client: TestClient, tenant: Tenant,
                                                frozen_clock: clock.FrozenClock) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    client.get("/ui/lang/en")
    muted = client.post(f"/inbox/c/{conversation_id}/block", data={"csrf_token": csrf, "mode": "muted"},
                        headers=ASYNC)
    assert muted.json()["notice"] == "muted"
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'data-mode="muted"' in page and "Muted by Ada Agent since" in page
    assert 'id="composer-block-warning"' not in page  # muted: no warning when replying
    assert "Unmute" in page


def test_mistakes_and_other_agents(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    stranger = make_tenant(factory, name="Andere Winkel")
    theirs = post_message(client, stranger, customer={"email": "ander@example.nl"})["conversation_id"]
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{conversation_id}/block"

    unknown = client.post(url, data={"csrf_token": csrf, "mode": "banned"})
    huge = client.post(url, data={"csrf_token": csrf, "mode": "blocked", "reason": "x" * 600}, headers=ASYNC)
    not_blocked = client.post(f"/inbox/c/{conversation_id}/unblock", data={"csrf_token": csrf}, headers=ASYNC)
    foreign = client.post(f"/inbox/c/{theirs}/block", data={"csrf_token": csrf, "mode": "blocked"}, headers=ASYNC)
    no_token = client.post(url, data={"mode": "blocked"}, headers=ASYNC)

    assert unknown.status_code == 400 and "Kies dempen of blokkeren." in unknown.text
    assert huge.status_code == 400 and huge.json()["error"] == "invalid_reason"
    assert not_blocked.status_code == 409 and not_blocked.json()["error"] == "not_blocked"
    assert foreign.status_code == 404 and no_token.status_code == 403

    client.post(url, data={"csrf_token": csrf, "mode": "blocked", "reason": "Misbruik"}, headers=ASYNC)
    colleague_csrf = colleague_signs_in(client, factory, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert "Geblokkeerd door Ada Agent sinds" in page and "Reden: Misbruik" in page
    assert 'id="unblock-form"' not in page and 'id="block-form"' not in page
    refused = client.post(f"/inbox/c/{conversation_id}/unblock", data={"csrf_token": colleague_csrf},
                          headers=ASYNC)
    assert refused.status_code == 403


def test_the_compliments_filter(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    praise = post_message(client, tenant, customer={"email": "blij@example.nl"},
                          text="Super snel geleverd, dank jullie wel!")["conversation_id"]
    other = post_message(client, tenant, customer={"email": "boos@example.nl"},
                         text="Mijn fiets is kapot.")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    sign_in(client, tenant)

    inbox = client.get("/inbox").text
    assert 'href="/inbox?tag=compliment"' in inbox and ">Complimenten</a>" in inbox
    listed = client.get("/inbox?tag=compliment").text
    assert f'data-conversation-id="{praise}"' in listed and f'data-conversation-id="{other}"' not in listed
    assert 'id="compliments-filter" data-testid="compliments-filter" href="/inbox"' in listed  # a second click clears
    assert 'data-flag="compliment"' in client.get(f"/inbox/c/{praise}").text


def test_the_acknowledgements_page_turns_a_channel_on(client: TestClient, tenant: Tenant,
                                                      factory: sessionmaker[Session],
                                                      frozen_clock: clock.FrozenClock) -> None:
    csrf = sign_in(client, tenant)
    page = client.get("/settings/acknowledgements").text
    assert page.count('data-testid="acknowledgement-channel"') == 3
    assert "Je hoort uiterlijk morgen om 11:00 van ons." in page  # the example, in the shop's zone
    assert "We have received your message and will answer as soon as we can." in page

    response = client.post("/settings/acknowledgements", data={"csrf_token": csrf, "channel": "api",
                                                               "enabled": "on"}, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/settings/acknowledgements?notice=on"
    assert "Ontvangstbevestigingen aangezet." in client.get(response.headers["location"]).text
    with factory() as session:
        assert acknowledgement_settings.for_shop(session, tenant.shop_id)["api"] is True

    conversation_id = post_message(client, tenant, text="Waar blijft mijn pakket?")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    thread = client.get(f"/inbox/c/{conversation_id}").text
    assert 'data-flag="acknowledgement"' in thread and "Automatische ontvangstbevestiging" in thread

    off = client.post("/settings/acknowledgements", data={"csrf_token": csrf, "channel": "api"},
                      follow_redirects=False)
    assert off.headers["location"] == "/settings/acknowledgements?notice=off"
    bad = client.post("/settings/acknowledgements", data={"csrf_token": csrf, "channel": "fax", "enabled": "on"})
    assert bad.status_code == 400 and "Kies een van de kanalen." in bad.text
    assert client.post("/settings/acknowledgements", data={"channel": "api", "enabled": "on"}).status_code == 403


def test_only_admins_see_the_acknowledgements_page(client: TestClient, tenant: Tenant,
                                                   factory: sessionmaker[Session]) -> None:
    csrf = colleague_signs_in(client, factory, tenant)
    assert client.get("/settings/acknowledgements").status_code == 403
    refused = client.post("/settings/acknowledgements", data={"csrf_token": csrf, "channel": "api", "enabled": "on"})
    assert refused.status_code == 403
    with factory() as session:
        assert acknowledgement_settings.for_shop(session, tenant.shop_id)["api"] is False


def test_a_block_by_a_rule_says_so(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    from balie.customers import blocking

    posted = post_message(client, tenant)
    with factory() as session, session.begin():
        blocking.block(session, shop_id=tenant.shop_id, customer_id=int(str(posted["customer_id"])), mode="muted",
                       actor_agent_id=None, reason="Automatische melding")
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{posted['conversation_id']}").text
    assert "Gedempt door een regel sinds" in page and "Reden: Automatische melding" in page


def block_marker(page: str, conversation_id: object) -> str | None:
    """The blocked/muted marker on that conversation's inbox row, if it has one."""
    start = page.index(f'data-conversation-id="{conversation_id}" data-testid="conversation-row"')
    row = page[start:page.index("</li>", start)]
    found = re.search(r'data-testid="customer-block">([^<]*)<', row)
    return found.group(1) if found else None


def test_the_inbox_marks_the_rows_of_blocked_and_muted_customers(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    blocked = post_message(client, tenant, customer={"email": "boos@example.nl"})
    muted = post_message(client, tenant, customer={"email": "nieuwsbrief@example.nl"})
    plain = post_message(client, tenant, customer={"email": "blij@example.nl"})
    for posted, mode in ((blocked, "blocked"), (muted, "muted")):
        with factory() as session, session.begin():
            blocking.block(session, shop_id=tenant.shop_id, customer_id=int(str(posted["customer_id"])), mode=mode,
                           actor_agent_id=tenant.agent_id)
    sign_in(client, tenant)

    page = client.get("/inbox").text
    partial = client.get("/ui/partials/list").text  # what a live refresh shows

    for html in (page, partial):
        assert block_marker(html, blocked["conversation_id"]) == "Geblokkeerd"
        assert block_marker(html, muted["conversation_id"]) == "Gedempt"
        assert block_marker(html, plain["conversation_id"]) is None
    client.get("/ui/lang/en")
    english = client.get(f"/inbox/c/{plain['conversation_id']}").text  # the list beside an open conversation
    assert block_marker(english, blocked["conversation_id"]) == "Blocked"
    assert block_marker(english, muted["conversation_id"]) == "Muted"

    with factory() as session, session.begin():
        blocking.unblock(session, shop_id=tenant.shop_id, customer_id=int(str(blocked["customer_id"])),
                         actor_agent_id=tenant.agent_id)
    assert block_marker(client.get("/inbox").text, blocked["conversation_id"]) is None
