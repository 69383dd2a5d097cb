"""The monitor and the notice against a real database: each rule found through the API's own
data, each breach acted on once (two passes, two workers at once), compensation by the shop's
rules, the template with hostile values, and customers we cannot reach."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from promise_support import breaches, enable, local, order, post_order, run_worker, scan, ship, vouchers, watching
from smtp_sink import add_mailbox
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.commerce.promises import monitor, notice
from balie.commerce.promises.models import Breach, Voucher
from balie.conversations.models import Message
from balie.customers.models import Customer
from factories import Tenant, make_tenant
from statements import counting


def conversation(client: TestClient, tenant: Tenant, conversation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def notices(factory: sessionmaker[Session]) -> list[Message]:
    with factory() as session:
        return list(session.scalars(select(Message).where(Message.flags == notice.FLAG).order_by(Message.id)))


def test_a_promised_day_passed_without_delivery_is_found_and_told(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    placed = post_order(client, tenant, order())
    parcel = ship(client, tenant)
    scan(client, tenant, parcel, "in_transit", local(23, 18))  # scanned in time: no cut-off breach
    frozen_clock.current = local(24, 23, 59)
    run_worker(app)
    assert breaches(client, tenant, placed["id"]) == []

    frozen_clock.current = local(25, 0, 1)
    run_worker(app)
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["rule"] == "passed" and breach["state"] == "notified"
    [message] = notices(factory)
    assert "niet bezorgd op de beloofde dag" in message.text and "donderdag 26 november" in message.text


def test_a_window_just_after_midnight_is_a_promise_for_that_day_in_the_shops_zone(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    """00:30 on Wednesday in Amsterdam is Tuesday in UTC: the promise is Wednesday's, and
    it breaks at Tuesday's dispatch cut-off, not Monday's."""
    watching(client, tenant, factory, frozen_clock)
    placed = post_order(client, tenant, order(promised=None, promised_delivery_window={
        "start": local(25, 0, 30).isoformat(), "end": local(25, 6).isoformat()}))
    frozen_clock.current = local(24, 12)  # Monday's cut-off passed without a scan, Tuesday's not yet
    run_worker(app)
    assert breaches(client, tenant, placed["id"]) == []

    frozen_clock.current = local(24, 23)
    run_worker(app)
    [breach] = breaches(client, tenant, placed["id"])
    assert (breach["rule"], breach["promised_date"]) == ("cutoff", "2026-11-25")
    assert dt.datetime.fromisoformat(breach["broken_at"]) == local(24, 22)  # the shop's cut-off, 22:00


def test_a_carrier_exception_is_found_at_once(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(20, 12)
    add_mailbox(factory, tenant)
    enable(client, tenant)
    placed = post_order(client, tenant, order(placed_at="2026-11-20T10:00:00+01:00"))
    parcel = ship(client, tenant)
    scan(client, tenant, parcel, "in_transit", local(20, 18))
    frozen_clock.current = local(21, 9, 30)
    scan(client, tenant, parcel, "exception", local(21, 9), "Pakket beschadigd")
    run_worker(app)
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["rule"] == "exception" and breach["new_expected_date"] == "2026-11-25"
    [message] = notices(factory)
    assert "meldt een probleem" in message.text


def test_a_parcel_stuck_in_transit_longer_than_its_carrier_takes_is_found(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(20, 12)
    add_mailbox(factory, tenant)
    enable(client, tenant, carriers={"DHL": 3})
    placed = post_order(client, tenant, order(promised="2026-11-30", placed_at="2026-11-20T10:00:00+01:00"))
    parcel = ship(client, tenant, carrier="DHL")
    scan(client, tenant, parcel, "in_transit", local(20, 18))
    frozen_clock.current = local(23, 17, 59)
    run_worker(app)
    assert breaches(client, tenant, placed["id"]) == []  # three days for DHL, not the default two
    frozen_clock.current = local(23, 18, 1)
    run_worker(app)
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["rule"] == "stuck" and breach["state"] == "notified"
    assert "langer onderweg dan normaal" in notices(factory)[0].text


def test_two_passes_act_on_a_breach_once(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 5)
    for _ in range(2):
        monitor.scan(factory)
        notice.act(factory)
    frozen_clock.advance(hours=1)
    run_worker(app)
    assert len(notices(factory)) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Breach)) == 1
        assert session.scalar(select(func.count()).select_from(Voucher)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer: no race
def test_two_workers_at_once_notify_each_customer_once(
    database_url: str, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    for number in range(40):
        post_order(client, tenant, order(number=f"A{number}", email=f"klant{number}@example.nl"))
    frozen_clock.current = local(23, 22, 5)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            monitor.scan(factory)
            while notice.act(factory, limit=5):
                pass
        except BaseException as error:  # reported below: a thread's exception is otherwise lost
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    sent = notices(factory)
    assert len(sent) == 40 and len({message.conversation_id for message in sent}) == 40
    with factory() as session:
        states = session.execute(select(Breach.state, func.count()).group_by(Breach.state)).all()
        assert [tuple(row) for row in states] == [("notified", 40)]
        assert session.scalar(select(func.count()).select_from(Voucher)) == 40


@pytest.mark.parametrize(("total", "detected", "amount"), [
    ("19.99", (23, 22, 5), None),  # under €20: no voucher
    ("20.00", (23, 22, 5), "5.00"),  # one day late
    ("20.00", (26, 10, 0), "10.00"),  # found on Thursday: expected Friday, three days late
])
def test_compensation_follows_the_shops_rules(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    total: str, detected: tuple[int, int, int], amount: str | None,
) -> None:
    watching(client, tenant, factory, frozen_clock, cutoff="23:59" if detected[0] > 23 else "22:00")
    placed = post_order(client, tenant, order(total=total))
    if detected[0] > 23:  # scanned in time, then nothing: found when the day has passed
        scan(client, tenant, ship(client, tenant), "in_transit", local(23, 20))
    frozen_clock.current = local(*detected)
    run_worker(app)
    found = vouchers(client, tenant, placed["id"])
    [message] = notices(factory)
    if amount is None:
        assert found == [] and "tegoedbon" not in message.text
    else:
        assert [voucher["amount"] for voucher in found] == [amount]
        assert found[0]["code"] in message.text and found[0]["code"].startswith("SORRY-")


def test_no_compensation_rules_means_no_voucher(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock, compensation=[])
    placed = post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    assert vouchers(client, tenant, placed["id"]) == [] and len(notices(factory)) == 1


def test_the_template_fills_hostile_values_in_once_and_as_text(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock, templates={"nl": {
        "subject": "Bestelling {{ order.number }}: {0} %s",
        "body": "Beste {{customer.name}}, {{what_happened}} Nieuw: {{new_date}}. {{voucher}} {__class__}"}})
    hostile = "{{voucher}} <script>alert(1)</script> {0.__class__}"
    placed = post_order(client, tenant, order(customer={"email": "jan@example.nl", "name": hostile}))
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    [message] = notices(factory)
    [voucher] = vouchers(client, tenant, placed["id"])
    assert message.text.startswith(f"Beste {hostile}, Je pakket")
    assert message.text.count(voucher["code"]) == 1 and message.text.endswith("{__class__}")
    assert "<script>" not in (message.html or "")
    detail = conversation(client, tenant, message.conversation_id)
    assert detail["subject"] == "Bestelling 10023: {0} %s"


def test_the_customers_own_language_is_used(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    placed = post_order(client, tenant, order())
    with factory() as session, session.begin():
        session.get_one(Customer, placed["customer_id"]).language = "en"
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    [message] = notices(factory)
    assert message.text.startswith("Hello Jan Jansen,") and "Wednesday 25 November" in message.text
    assert "€5.00" in message.text


def test_a_customer_without_a_reachable_channel_gets_agents_a_note_instead(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    by_phone = post_order(client, tenant, order(customer={"phone": "06 12345678", "name": "Piet"}))
    nobody = post_order(client, tenant, order(number="10024", customer={}))
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)

    assert notices(factory) == []
    [breach] = breaches(client, tenant, by_phone["id"])
    assert breach["state"] == "unreachable" and breach["conversation_id"] is not None
    detail = conversation(client, tenant, breach["conversation_id"])
    assert detail["channel"] == "phone" and detail["status"] == "open"
    [note] = detail["messages"]
    assert note["direction"] == "note" and "geen e-mailadres of open chat" in note["text"]
    assert "SORRY-" in note["text"]  # the voucher is there for the agent to pass on
    [lonely] = breaches(client, tenant, nobody["id"])
    assert lonely["state"] == "unreachable" and lonely["conversation_id"] is None
    assert "10024" in lonely["note"]


def test_a_shop_that_does_not_watch_its_promises_sends_nothing(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 12)
    add_mailbox(factory, tenant)
    other = make_tenant(factory, name="Andere Winkel")
    enable(client, other)  # another shop watches; this one never turned it on
    post_order(client, tenant, order())
    enable(client, tenant, enabled=False)
    frozen_clock.current = local(25, 12)
    run_worker(app)
    assert notices(factory) == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Breach)) == 0


def test_turning_it_on_does_not_apologise_for_promises_broken_before(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(20, 12)
    add_mailbox(factory, tenant)
    old = post_order(client, tenant, order(number="900", promised="2026-11-21", placed_at="2026-11-20T10:00:00+01:00"))
    frozen_clock.current = local(23, 12)
    enable(client, tenant)  # the 21st is long gone: that customer is not mailed now
    fresh = post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    assert breaches(client, tenant, old["id"]) == []
    assert [breach["rule"] for breach in breaches(client, tenant, fresh["id"])] == ["cutoff"]
    enable(client, tenant, cutoff="21:00")  # saving again while on keeps the moment it was turned on
    frozen_clock.advance(days=2)
    run_worker(app)
    assert breaches(client, tenant, old["id"]) == [] and len(notices(factory)) == 1


def test_a_blocked_customer_gets_nothing_automatic_and_agents_a_note(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock)
    placed = post_order(client, tenant, order())
    with factory() as session, session.begin():
        session.get_one(Customer, placed["customer_id"]).block_state = "muted"
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    assert notices(factory) == []
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["state"] == "unreachable"
    [note] = conversation(client, tenant, breach["conversation_id"])["messages"]
    assert "geblokkeerd of gedempt" in note["text"]


def test_a_template_that_fills_in_to_nothing_falls_back_to_the_default(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    watching(client, tenant, factory, frozen_clock, compensation=[],
             templates={"nl": {"subject": "{{voucher}}", "body": "{{ voucher }}"}})
    post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 5)
    run_worker(app)
    [message] = notices(factory)
    assert message.text.startswith("Hallo Jan Jansen,") and "tegoedbon" not in message.text
    assert conversation(client, tenant, message.conversation_id)["subject"].startswith("Je bestelling 10023")


def test_one_shop_failing_does_not_keep_the_others_unwatched(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_clock.current = local(23, 12)
    broken = make_tenant(factory, name="Kapotte Winkel")
    for shop in (broken, tenant):
        enable(client, shop)
        post_order(client, shop, order())
    real = monitor.scan_shop

    def failing(session: Session, shop_id: int, now: Any) -> tuple[int, int]:
        if shop_id == broken.shop_id:
            raise RuntimeError("this shop's data is broken")
        return real(session, shop_id, now)

    monkeypatch.setattr(monitor, "scan_shop", failing)
    frozen_clock.current = local(23, 22, 5)
    result = monitor.scan(factory)
    assert result.shops == 1 and result.found == 1


def test_a_pass_costs_the_same_statements_for_five_orders_as_for_fifty(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 12)
    enable(client, tenant)
    counts = []
    for batch in (range(5), range(5, 50)):
        for number in batch:
            post_order(client, tenant, order(number=f"N{number}", email=f"n{number}@example.nl"))
        frozen_clock.current = local(23, 22, 5) if not counts else local(24, 22, 5)
        with counting(factory) as statements:
            found = monitor.scan(factory)
        counts.append(len(statements))
        assert found.found == len(batch)
    assert counts[0] == counts[1], counts
