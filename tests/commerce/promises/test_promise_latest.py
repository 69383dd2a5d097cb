"""The date a customer was last promised: once the monitor told them a new expected date, the
automatic acknowledgement, the {{order.*}} variables and the orders panel say that date, not
the checkout's; a new date nobody told the customer changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from promise_support import breaches, local, order, post_order, run_worker, watching
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.canned import service as canned_service
from balie.commerce.models import Order
from balie.commerce.promises import latest
from balie.commerce.promises.latest import Promise
from balie.commerce.promises.models import Breach
from balie.sla import acknowledgement_settings
from factories import Tenant, post_message
from order_support import place
from statements import counting
from ui_support import sign_in

QUESTION = "Waar blijft mijn bestelling? Ik had hem vandaag verwacht."


def told_a_new_date(app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                    frozen_clock: clock.FrozenClock) -> dict[str, Any]:
    """Order 10023, promised for Tuesday the 24th, has no carrier scan by Monday's cut-off: Jan
    is mailed that it comes Wednesday the 25th."""
    watching(client, tenant, factory, frozen_clock)
    placed = post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["state"] == "notified" and breach["new_expected_date"] == "2026-11-25"
    return placed


def ask(client: TestClient, app: Any, factory: sessionmaker[Session], tenant: Tenant) -> tuple[int, str]:
    """Jan asks where it is; the conversation and its automatic acknowledgement."""
    with factory() as session, session.begin():
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="api", on=True,
                                             actor_agent_id=tenant.agent_id)
    posted = post_message(client, tenant, text=QUESTION, customer={"email": "jan@example.nl", "name": "Jan Jansen"})
    run_worker(app)
    detail = client.get(f"/api/v1/conversations/{posted['conversation_id']}", headers=tenant.headers).json()
    [ack] = [message["text"] for message in detail["messages"] if "acknowledgement" in message["flags"]]
    return int(str(posted["conversation_id"])), ack


def test_the_acknowledgement_tells_the_new_date_the_customer_was_told(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    told_a_new_date(app, client, tenant, factory, frozen_clock)
    frozen_clock.current = local(24, 9)

    _conversation, ack = ask(client, app, factory, tenant)

    assert ack.endswith("\n\nJe bestelling 10023 wordt klaargemaakt voor verzending. "
                        "Verwachte levering: woensdag 25 november."), ack
    assert "dinsdag 24 november" not in ack  # one date: the one in the apology


def test_the_panel_and_the_canned_replies_show_the_new_date_too(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    told_a_new_date(app, client, tenant, factory, frozen_clock)
    frozen_clock.current = local(24, 9)
    with factory() as session, session.begin():
        canned_service.create(session, shop_id=tenant.shop_id, title="Wanneer", shortcut="wanneer",
                              body="Verwacht: {{order.promised_date}}. {{order.live_status}}")
    conversation_id, _ack = ask(client, app, factory, tenant)
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    panel = page[page.index('id="orders"'):page.index('id="timeline"')]
    assert "Beloofd: wo 25 nov 2026" in panel and "di 24 nov" not in panel.split("order-promise-revised")[0]
    assert re.search(r'data-testid="order-promise-revised">[^<]*gebroken belofte[^<]*di 24 nov 2026', panel)
    assert ('data-body="Verwacht: woensdag 25 november. Je bestelling 10023 wordt klaargemaakt voor verzending. '
            'Verwachte levering: woensdag 25 november."') in page
    summary = re.search(r'data-insert="([^"]*)" data-testid="insert-summary"', panel)
    assert summary is not None and "Verwachte levering: woensdag 25 november." in summary.group(1)


def test_the_orders_api_gives_the_checkout_promise_and_the_latest_one(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    placed = told_a_new_date(app, client, tenant, factory, frozen_clock)
    post_order(client, tenant, order("10024", promised="2026-11-27"))

    listed = {item["number"]: item for item in client.get("/api/v1/orders", headers=tenant.headers).json()["items"]}
    one = client.get(f"/api/v1/orders/{placed['id']}", headers=tenant.headers).json()

    assert listed["10023"]["promise"]["date"] == "2026-11-24"
    assert listed["10023"]["latest_promise"] == one["latest_promise"] == {
        "date": "2026-11-25", "window_start": None, "window_end": None, "revised": True}
    assert listed["10024"]["latest_promise"] == {
        "date": "2026-11-27", "window_start": None, "window_end": None, "revised": False}


def test_only_a_date_the_customer_was_told_counts_in_one_query(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    start = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)
    ids = {number: place(factory, tenant.shop_id, number, **extra) for number, extra in (
        ("1", {}), ("2", {}), ("3", {}), ("4", {"window": (start, start + dt.timedelta(hours=4)), "promised": None}),
        ("5", {"promised": None}))}

    def breach(number: str, generation: int, state: str, new_date: dt.date) -> Breach:
        return Breach(shop_id=tenant.shop_id, order_id=ids[number], generation=generation, rule="passed",
                      promised_date=dt.date(2026, 11, 25), new_expected_date=new_date, broken_at=clock.now(),
                      detected_at=clock.now(), state=state)

    with factory() as session, session.begin():
        session.add_all([
            # Told the 27th; the 30th of the second breach went to a person, not to the customer.
            breach("1", 1, "notified", dt.date(2026, 11, 27)), breach("1", 2, "escalated", dt.date(2026, 11, 30)),
            # Nobody could tell them (agents got a note), or not yet: the checkout's promise stands.
            breach("2", 1, "unreachable", dt.date(2026, 11, 27)), breach("3", 1, "new", dt.date(2026, 11, 27)),
            breach("4", 1, "notified", dt.date(2026, 11, 26)),
        ])
    with factory() as session:
        found = list(session.scalars(select(Order).where(Order.shop_id == tenant.shop_id)))
        with counting(session.get_bind()) as statements:
            promises = latest.promised(session, tenant.shop_id, found)
    by_number = {item.number: promises[item.id] for item in found}

    assert len(statements) == 1
    assert by_number["1"] == Promise(date=dt.date(2026, 11, 27), revised=True)
    assert by_number["2"] == by_number["3"] == Promise(date=dt.date(2026, 11, 25))
    assert by_number["4"] == Promise(date=dt.date(2026, 11, 26), revised=True)
    assert by_number["5"] == Promise()  # none at checkout, none since
