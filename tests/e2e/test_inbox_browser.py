"""An agent at work in a real browser: live arrivals, a canned reply delivered through the
outbox, hostile customer text shown as text, and one shop never seeing another's."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from e2e_support import PASSWORD, Site, add_shop, log_in, make_env
from playwright.sync_api import Browser, Page, expect

from balie.canned import service as canned_service
from balie.db import make_engine, make_sessionmaker, transaction
from servers import balie, serving

LIVE = 3000  # ms: "appears within a second", with room for a loaded CI machine


def add_canned_reply(site: Site, body: str) -> None:
    engine = make_engine(site.env["BALIE_DATABASE_URL"])
    with transaction(make_sessionmaker(engine)) as session:
        canned_service.create(session, shop_id=site.shop_id, title="Bedankt", shortcut="dank", body=body)
    engine.dispose()


def test_message_arrives_live_and_canned_reply_is_delivered(browser: Browser, site: Site) -> None:
    add_canned_reply(site, "Hoi {{customer.first_name}}, je pakket komt morgen. Groet, {{agent.first_name}}")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site.url, site.agent_email)
    expect(page.get_by_test_id("conversation-list")).to_be_attached()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    posted = site.api("POST", "/api/v1/messages", json={
        "customer": {"email": "mira@example.nl", "name": "Mira Jansen"},
        "subject": "Waar blijft mijn fiets?", "text": "Besteld op maandag, nog niets gehoord."})
    assert posted.status_code == 201
    row = page.locator(f"[data-conversation-id='{posted.json()['conversation_id']}']")
    expect(row).to_contain_text("Mira Jansen", timeout=LIVE)  # no reload: it came in live
    assert page.evaluate("window.__sameDocument") is True

    row.locator("a").first.click()
    expect(page.get_by_test_id("message")).to_contain_text("Besteld op maandag")
    page.get_by_test_id("canned").select_option(label="Bedankt (/dank)")
    expect(page.get_by_test_id("composer")).to_have_value(
        "Hoi Mira, je pakket komt morgen. Groet, Ada")
    page.get_by_test_id("send").click()

    assert site.receiver.arrived.wait(10), "the reply never reached the webhook"
    headers, body = site.receiver.received[0]
    delivered = json.loads(body)
    assert delivered["message"]["text"] == "Hoi Mira, je pakket komt morgen. Groet, Ada"
    assert delivered["conversation_id"] == posted.json()["conversation_id"]
    assert headers["x-balie-signature"].startswith("sha256=")
    expect(page.get_by_test_id("delivery-state").last).to_have_attribute("data-state", "sent", timeout=LIVE)
    page.close()


def test_customer_html_and_script_are_shown_as_text(browser: Browser, site: Site) -> None:
    hostile = '<img src=x onerror="window.__owned=1"><script>window.__owned=2</script>'
    posted = site.api("POST", "/api/v1/messages", json={
        "customer": {"email": "eve@example.nl", "name": '<b onmouseover="window.__owned=3">Eve</b>'},
        "subject": "<svg onload=window.__owned=4>", "text": hostile})
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, site.url, site.agent_email)
    page.goto(f"{site.url}/inbox/c/{posted.json()['conversation_id']}")
    expect(page.get_by_test_id("message").first).to_contain_text(hostile)
    expect(page.locator("#customer-name")).to_contain_text('<b onmouseover="window.__owned=3">Eve</b>')
    assert page.evaluate("window.__owned") is None
    assert page.locator("#messages img, #messages script, #messages svg[onload]").count() == 0
    assert dialogs == []
    page.close()


def test_an_agent_of_another_shop_cannot_see_the_conversation(browser: Browser, site: Site) -> None:
    posted = site.api("POST", "/api/v1/messages", json={
        "customer": {"email": "geheim@example.nl"}, "subject": "Alleen voor Fietsenwinkel", "text": "Privé"})
    add_shop(site.env, "Bakkerij", "bob@bakkerij.example")
    page = browser.new_page()
    log_in(page, site.url, "bob@bakkerij.example")
    expect(page.get_by_test_id("conversation-list")).to_be_attached()
    expect(page.get_by_text("Alleen voor Fietsenwinkel")).to_have_count(0)
    response = page.goto(f"{site.url}/inbox/c/{posted.json()['conversation_id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Privé")).to_have_count(0)
    page.close()


@pytest.mark.redis
def test_live_update_across_two_processes(browser: Browser, tmp_path: Path, redis_url: str) -> None:
    env = make_env(tmp_path, BALIE_REDIS_URL=redis_url, BALIE_REDIS_PREFIX=f"balie-e2e-{uuid.uuid4().hex[:8]}")
    balie("migrate", env=env)
    _, token = add_shop(env, "Twee Balies", "duo@example.nl")
    with serving(env) as first, serving(env, "--no-worker") as second:
        page = browser.new_page()
        log_in(page, first.url, "duo@example.nl")
        expect(page.get_by_test_id("conversation-list")).to_be_attached()
        import httpx

        posted = httpx.post(f"{second.url}/api/v1/messages", headers={"Authorization": f"Bearer {token}"},
                            json={"customer": {"email": "ver@example.nl", "name": "Via Twee"}, "text": "Hallo"})
        assert posted.status_code == 201
        expect(page.locator(f"[data-conversation-id='{posted.json()['conversation_id']}']")).to_contain_text(
            "Via Twee", timeout=LIVE)
        page.close()


def test_wrong_password_then_right(browser: Browser, site: Site) -> None:
    page: Page = browser.new_page()
    page.goto(site.url + "/login")
    page.get_by_test_id("login-email").fill(site.agent_email)
    page.get_by_test_id("login-password").fill("wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("conversation-list")).to_be_attached()
    page.close()
