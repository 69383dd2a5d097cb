"""/returns for agents: the list with the refund promise's state, a case's deadlines, and the
forms for condition, deduction, proof of sending and refund (refusals shown, nothing stored;
no CSRF token, no change; another shop's case is not found)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from returns_support import deliver, post_order, post_return

from balie import clock
from factories import Tenant
from ui_support import sign_in

pytestmark = pytest.mark.usefixtures("frozen_clock")


def test_an_agent_works_a_return_from_arrival_to_refund(client: TestClient, tenant: Tenant,
                                                        frozen_clock: clock.FrozenClock) -> None:
    post_order(client, tenant)
    deliver(client, tenant, "10023", "2026-11-20T14:00:00+01:00")
    case = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}], reason="<b>te traag</b>").json()
    csrf = sign_in(client, tenant)

    listed = client.get("/returns").text
    assert f'href="/returns/{case["id"]}"' in listed and 'data-state="on_track"' in listed
    assert "Op tijd" in listed
    page = client.get(f"/returns/{case['id']}").text
    assert "Retour van bestelling 10023" in page and "Op tijd (de bedenktijd eindigde 04-12-2026)" in page
    assert "08-12-2026" in page and "899.00 EUR" in page
    assert "&lt;b&gt;te traag&lt;/b&gt;" in page and "<b>te traag" not in page
    line = case["lines"][0]["id"]

    forged = client.post(f"/returns/{case['id']}/lines/{line}/condition", data={"condition": "handled"})
    assert forged.status_code == 403
    saved = client.post(f"/returns/{case['id']}/lines/{line}/condition",
                        data={"csrf_token": csrf, "condition": "handled", "labels": "no", "notes": "krassen"})
    assert saved.status_code == 200 and "Staat opgeslagen." in saved.text
    refused = client.post(f"/returns/{case['id']}/lines/{line}/deduction",
                          data={"csrf_token": csrf, "amount": "900", "reason": "krassen"})
    assert refused.status_code == 400 and "more than the line&#39;s value" in refused.text
    deducted = client.post(f"/returns/{case['id']}/lines/{line}/deduction",
                           data={"csrf_token": csrf, "amount": "99,00", "reason": "krassen op de klep"})
    assert "Aftrek opgeslagen." in deducted.text and "800.00 EUR" in deducted.text

    frozen_clock.advance(days=12)  # Sunday 6 December: within three days of the end of the 8th
    assert 'data-state="due_soon"' in client.get(f"/returns/{case['id']}").text
    paid = client.post(f"/returns/{case['id']}/refund",
                       data={"csrf_token": csrf, "amount": "800.00", "reference": "re_42"})
    assert "Terugbetaling vastgelegd" in paid.text and 'data-state="met"' in paid.text
    assert "re_42" in paid.text


def test_english_labels_and_unknown_delivery(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    sign_in(client, tenant)
    client.cookies.set("balie_lang", "en")
    page = client.get(f"/returns/{case['id']}").text
    assert "Delivery date unknown: accepted as in time." in page
    assert "(delivery 6.95 included)" in page


def test_another_shops_case_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    sign_in(client, other_tenant)
    assert client.get(f"/returns/{case['id']}").status_code == 404
    assert f"/returns/{case['id']}" not in client.get("/returns").text


def test_an_agent_records_a_withdrawal_made_by_phone(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    csrf = sign_in(client, tenant)
    form = client.get("/returns/new", params={"order_number": "10023"}).text
    assert 'name="qty_0"' in form and 'name="qty_1"' in form
    assert "Geen bestelling met dit nummer." in client.get("/returns/new", params={"order_number": "999"}).text

    bad = client.post("/returns/new", data={"csrf_token": csrf, "order_number": "10023", "qty_0": "een"})
    assert bad.status_code == 400 and "qty_0" in bad.text
    nothing = client.post("/returns/new", data={"csrf_token": csrf, "order_number": "10023", "qty_0": "0"})
    assert nothing.status_code == 400 and "choose at least one line" in nothing.text
    late = client.post("/returns/new", data={"csrf_token": csrf, "order_number": "10023", "qty_1": "1",
                                             "withdrawn_at": "2030-01-01T10:00"})
    assert late.status_code == 400 and "in the future" in late.text
    assert client.post("/returns/new", data={"order_number": "10023", "qty_1": "1"}).status_code == 403

    made = client.post("/returns/new", data={"csrf_token": csrf, "order_number": "10023", "qty_0": "0", "qty_1": "1",
                                             "withdrawn_at": "2026-11-23T16:30", "reason": "belde", "language": "nl",
                                             "send_confirmation": "yes"}, follow_redirects=False)
    assert made.status_code == 303
    case = client.get(f"/api/v1/returns/{made.headers['location'].rsplit('/', 1)[1]}", headers=tenant.headers).json()
    assert (case["source"], case["reason"], case["withdrawn_at"]) == ("agent", "belde", "2026-11-23T15:30:00Z")
    assert [(line["sku"], line["quantity"]) for line in case["lines"]] == [("HOES", 1)]
    assert case["conversation_id"] is not None  # the confirmation went out
