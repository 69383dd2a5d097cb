"""The orders beside a conversation in a real browser: a mentioned order number is a link to
the order, and one click puts the tracking link or the order summary where the cursor is."""

from __future__ import annotations

from e2e_support import Site, log_in
from playwright.sync_api import Browser, expect


def test_insert_tracking_link_and_summary_at_the_cursor(browser: Browser, site: Site) -> None:
    order = site.api("POST", "/api/v1/orders", json={
        "number": "10023", "customer": {"email": "noor@example.nl", "name": "Noor Bakker"},
        "lines": [{"sku": "FIETS-1", "name": "Stadsfiets", "quantity": 1, "price": "499.00"}],
        "total": "499.00", "currency": "EUR", "placed_at": "2026-11-23T21:40:00+01:00",
        "promised_delivery_date": "2099-11-25"})
    assert order.status_code == 201, order.text
    parcel = site.api("POST", "/api/v1/shipments", json={
        "order_number": "10023", "carrier": "PostNL", "tracking_code": "3SFIETS1",
        "tracking_url": "https://postnl.example/track/3SFIETS1"})
    assert parcel.status_code == 201, parcel.text
    scan = site.api("POST", f"/api/v1/shipments/{parcel.json()['id']}/events", json={
        "status": "in_transit", "occurred_at": "2026-11-24T07:00:00+01:00", "description": "Sorteercentrum"})
    assert scan.status_code == 201, scan.text
    posted = site.api("POST", "/api/v1/messages", json={
        "customer": {"email": "noor@example.nl"}, "subject": "Fiets",
        "text": "Waar blijft bestelling 10023? <script>window.__hacked = true</script>"})
    assert posted.status_code == 201, posted.text

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, site.url, site.agent_email)
    page.goto(f"{site.url}/inbox/c/{posted.json()['conversation_id']}")

    order_item = page.locator("[data-testid='order'][data-order-number='10023']")
    expect(order_item).to_contain_text("Onderweg")
    link = page.locator("a.order-mention")
    expect(link).to_have_text("10023")
    link.click()
    assert page.evaluate("location.hash") == f"#order-{order.json()['id']}"
    assert page.evaluate("window.__hacked === undefined")
    tracking = order_item.get_by_test_id("tracking-link")
    expect(tracking).to_have_attribute("target", "_blank")
    expect(tracking).to_have_attribute("rel", "noopener noreferrer")

    composer = page.get_by_test_id("composer")
    composer.fill("Hoi Noor, ")
    order_item.get_by_test_id("insert-tracking").click()
    expect(composer).to_have_value("Hoi Noor, Volg je pakket bij PostNL: https://postnl.example/track/3SFIETS1")
    expect(composer).to_be_focused()
    composer.fill("")
    order_item.get_by_test_id("insert-summary").click()
    expect(composer).to_have_value(
        "Bestelling 10023 van maandag 23 november\n- 1 x Stadsfiets\nTotaal: €\xa0499,00\n\n"
        "Je bestelling 10023 is onderweg. Verwachte levering: woensdag 25 november.\n"
        "Volg je pakket bij PostNL: https://postnl.example/track/3SFIETS1")
    page.close()
