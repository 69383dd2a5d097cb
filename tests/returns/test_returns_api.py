"""POST/GET /api/v1/returns and what follows: deadlines from the delivery, exceptions, both
policies, diminished value, the refund (delivery included, extra delivery not), repeats, and
malformed, hostile and foreign input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from returns_support import deliver, order_with, post_order, post_return, put_settings
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.returns.models import ReturnCase
from factories import Tenant

pytestmark = pytest.mark.usefixtures("frozen_clock")  # now: Tuesday 24 November 2026, 11:00 in Amsterdam


def condition(client: TestClient, tenant: Tenant, case: dict[str, Any], index: int, **body: Any) -> Any:
    line = case["lines"][index]["id"]
    return client.post(f"/api/v1/returns/{case['id']}/lines/{line}/condition", json=body, headers=tenant.headers)


def deduction(client: TestClient, tenant: Tenant, case: dict[str, Any], index: int, **body: Any) -> Any:
    line = case["lines"][index]["id"]
    return client.post(f"/api/v1/returns/{case['id']}/lines/{line}/deduction", json=body, headers=tenant.headers)


def test_a_return_of_a_delivered_order_has_every_deadline(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    deliver(client, tenant, "10023", "2026-11-20T14:00:00+01:00")  # Friday: day 14 is Friday 4 December

    response = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 1}], reason="Past niet")

    assert response.status_code == 201, response.text
    case = response.json()
    assert (case["order_number"], case["source"], case["reason"]) == ("10023", "api", "Past niet")
    assert case["in_time"] and not case["delivery_unknown"]
    assert case["period_ends_on"] == "2026-12-04"
    assert case["send_back_by"] == "2026-12-08" and case["refund"]["due_on"] == "2026-12-08"
    assert case["refund"]["state"] == "on_track" and case["refund"]["may_withhold"]
    assert [(line["sku"], line["quantity"], line["price"]) for line in case["lines"]] == [("HOES", 1, "15.00")]
    # Part of the order: the delivery is not refunded with it.
    assert case["refund"]["amount_due"] == "15.00" and case["refund"]["delivery_refund"] == "0.00"
    assert client.get(f"/api/v1/returns/{case['id']}", headers=tenant.headers).json() == case
    listed = client.get("/api/v1/returns", params={"order_number": "#10023"}, headers=tenant.headers).json()
    assert [item["id"] for item in listed["items"]] == [case["id"]]


def test_too_late_is_recorded_as_such(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant, order_with(placed_at="2026-10-20T10:00:00+02:00"))
    deliver(client, tenant, "10023", "2026-11-09T10:00:00+01:00")  # day 14: Monday 23 November

    case = post_return(client, tenant).json()

    assert case["period_ends_on"] == "2026-11-23" and not case["in_time"]


def test_unknown_delivery_is_in_time_and_marked(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    assert case["in_time"] and case["delivery_unknown"] and case["period_ends_on"] is None
    assert case["delivered_at"] is None


def test_the_whole_order_refunds_the_delivery_up_to_the_standard_cost(client: TestClient, tenant: Tenant) -> None:
    put_settings(client, tenant, standard_delivery_cost="4.95")  # the customer paid 6.95 for evening delivery
    post_order(client, tenant)

    case = post_return(client, tenant).json()

    assert [(line["sku"], line["quantity"]) for line in case["lines"]] == [("LAP-14", 1), ("HOES", 2)]
    assert case["refund"]["delivery_refund"] == "4.95"
    assert case["refund"]["amount_due"] == "933.95"  # 899.00 + 30.00 + 4.95


def test_the_last_part_withdrawn_brings_the_delivery_back(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    first = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}]).json()
    second = post_return(client, tenant, lines=[{"position": 1, "quantity": 2}]).json()

    assert first["refund"]["delivery_refund"] == "0.00"
    assert second["refund"]["delivery_refund"] == "6.95" and second["refund"]["amount_due"] == "36.95"
    nothing_left = post_return(client, tenant)
    assert nothing_left.status_code == 409 and nothing_left.json()["error"] == "already_withdrawn"
    too_many = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 1}])
    assert too_many.status_code == 400 and "lines[0].quantity" in too_many.json()["detail"]


def test_the_same_withdrawal_again_is_the_same_case(client: TestClient, tenant: Tenant,
                                                     factory: sessionmaker[Session]) -> None:
    post_order(client, tenant)
    first = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 2}])
    again = post_return(client, tenant, lines=[{"position": 1, "quantity": 2}])

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ReturnCase)) == 1


def test_shop_exceptions_by_sku_prefix_and_by_the_agents_choice(client: TestClient, tenant: Tenant) -> None:
    put_settings(client, tenant, exceptions=[{"kind": "custom_made", "sku_prefix": "lap-"},
                                             {"kind": "sealed_hygiene", "sku_prefix": "HOES"}])
    post_order(client, tenant)

    refused = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}])
    assert refused.status_code == 400 and refused.json()["error"] == "excluded_line"
    assert "lines[0]" in refused.json()["detail"] and "custom made" in refused.json()["detail"]
    chosen = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 1, "exception": "perishable"}])
    assert chosen.status_code == 400 and chosen.json()["error"] == "excluded_line"

    # The whole order: what is excluded outright is left out, sealed hygiene goods are taken back.
    case = post_return(client, tenant).json()
    assert [(line["sku"], line["exception"]) for line in case["lines"]] == [("HOES", "sealed_hygiene")]
    assert case["refund"]["amount_due"] == "30.00"
    # Unsealed on arrival: the shop keeps their value.
    opened = condition(client, tenant, case, 0, condition="opened_to_judge", notes="zegel verbroken").json()
    assert opened["lines"][0]["excluded"] and opened["refund"]["amount_due"] == "0.00"
    assert opened["goods_received_at"] is not None and not opened["refund"]["may_withhold"]


def test_resellable_policy_lets_an_agent_deduct_diminished_value_within_limits(client: TestClient,
                                                                              tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}]).json()

    before = deduction(client, tenant, case, 0, amount="50.00", reason="krassen")
    assert before.status_code == 400 and before.json()["error"] == "condition_required"
    handled = condition(client, tenant, case, 0, condition="handled", labels_attached=False,
                        notes="Gebruikt, krassen op de klep").json()
    assert handled["lines"][0]["resellable"] is False

    no_reason = deduction(client, tenant, case, 0, amount="50.00", reason="  ")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    too_much = deduction(client, tenant, case, 0, amount="899.01", reason="krassen")
    assert too_much.status_code == 400 and too_much.json()["error"] == "deduction_too_large"
    negative = deduction(client, tenant, case, 0, amount="-5", reason="krassen")
    assert negative.status_code == 400
    done = deduction(client, tenant, case, 0, amount="120.00", reason="Krassen op de klep, doos ontbreekt")
    assert done.status_code == 200, done.text
    line = done.json()["lines"][0]
    assert (line["deduction"], line["deduction_reason"]) == ("120.00", "Krassen op de klep, doos ontbreekt")
    assert done.json()["refund"]["amount_due"] == "779.00"
    # The whole value at most: allowed.
    assert deduction(client, tenant, case, 0, amount="899.00", reason="kapot").json()["refund"]["amount_due"] == "0.00"


def test_accept_all_policy_refunds_in_full(client: TestClient, tenant: Tenant) -> None:
    put_settings(client, tenant, policy="accept_all")
    post_order(client, tenant)
    case = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}]).json()
    handled = condition(client, tenant, case, 0, condition="damaged").json()
    assert handled["lines"][0]["resellable"] is None  # the policy does not ask

    refused = deduction(client, tenant, case, 0, amount="10.00", reason="kapot")
    assert refused.status_code == 400 and refused.json()["error"] == "policy_accept_all"


def test_recording_the_refund_meets_the_promise_once(client: TestClient, tenant: Tenant,
                                                     frozen_clock: clock.FrozenClock) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    url = f"/api/v1/returns/{case['id']}/refund"

    short = client.post(url, json={"amount": "900.00", "reference": "re_1"}, headers=tenant.headers)
    assert short.status_code == 400 and short.json()["error"] == "refund_too_small"
    frozen_clock.advance(days=20)  # past the due date: breached until recorded
    assert client.get(f"/api/v1/returns/{case['id']}", headers=tenant.headers).json()["refund"]["state"] == "breached"
    paid = client.post(url, json={"amount": "935.95", "reference": "re_1"}, headers=tenant.headers)
    assert paid.status_code == 200, paid.text
    refund = paid.json()["refund"]
    assert (refund["state"], refund["refunded_amount"], refund["reference"]) == ("met", "935.95", "re_1")
    assert client.post(url, json={"amount": "935.95", "reference": "re_1"}, headers=tenant.headers).status_code == 200
    other = client.post(url, json={"amount": "935.95", "reference": "re_2"}, headers=tenant.headers)
    assert other.status_code == 409 and other.json()["error"] == "already_refunded"


def test_shipment_proof_ends_the_right_to_withhold(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    proof = client.post(f"/api/v1/returns/{case['id']}/shipment-proof", json={}, headers=tenant.headers)
    assert proof.status_code == 200 and not proof.json()["refund"]["may_withhold"]
    future = client.post(f"/api/v1/returns/{case['id']}/shipment-proof", json={"at": "2027-01-01T00:00:00Z"},
                         headers=tenant.headers)
    assert future.status_code == 400 and "at: in the future" in future.json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [{"sku": "HOES", "quantity": -2}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "HOES", "quantity": 0}]}, "lines[0].quantity"),
    ({"lines": [{"position": 7, "quantity": 1}]}, "lines[0].position"),
    ({"lines": [{"position": -1, "quantity": 1}]}, "lines[0].position"),
    ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
    ({"lines": [{"sku": "HOES\u0000", "quantity": 1}]}, "lines[0].sku"),
    ({"lines": [{"sku": "HOES", "quantity": 1}, {"position": 1, "quantity": 1}]}, "lines[1]"),
    ({"lines": [{"sku": "HOES", "quantity": 1, "exception": "<script>"}]}, "lines[0].exception"),
    ({"withdrawn_at": "2026-12-24T10:00:00+01:00"}, "withdrawn_at"),
    ({"withdrawn_at": "2026-01-01T10:00:00+01:00"}, "withdrawn_at"),
    ({"reason": "x\u0000y"}, "reason"),
    ({"language": "de"}, "language"),
])
def test_bad_requests_name_the_field_and_store_nothing(client: TestClient, tenant: Tenant,
                                                       factory: sessionmaker[Session], body: dict[str, Any],
                                                       field: str) -> None:
    post_order(client, tenant)
    response = post_return(client, tenant, **body)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ReturnCase)) == 0


def test_malformed_bodies_and_unknown_orders(client: TestClient, tenant: Tenant) -> None:
    post_order(client, tenant)
    assert post_return(client, tenant, lines=[{"sku": "HOES", "quantity": "twee"}]).status_code == 422
    assert post_return(client, tenant, surprise=True).status_code == 422
    assert post_return(client, tenant, reason="x" * 2001).status_code == 422
    assert post_return(client, tenant, order_number="x" * 65).status_code == 422
    unknown = post_return(client, tenant, order_number="99999")
    assert unknown.status_code == 404 and unknown.json()["error"] == "order_not_found"
    cancelled = post_order(client, tenant, order_with(number="10024", status="cancelled"))
    assert post_return(client, tenant, order_number=cancelled["number"]).json()["error"] == "order_cancelled"
    assert client.get("/api/v1/returns/99999999999999999999", headers=tenant.headers).status_code in (404, 422)
    assert client.post("/api/v1/returns", json={"order_number": "10023"}).status_code == 401


def test_another_shop_sees_nothing(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant).json()
    assert client.get(f"/api/v1/returns/{case['id']}", headers=other_tenant.headers).status_code == 404
    assert client.get("/api/v1/returns", params={"order_number": "10023"},
                      headers=other_tenant.headers).json()["items"] == []
    assert post_return(client, other_tenant).status_code == 404
    refund = client.post(f"/api/v1/returns/{case['id']}/refund", json={"amount": "1.00", "reference": "x"},
                         headers=other_tenant.headers)
    assert refund.status_code == 404


def test_settings_are_checked_whole(client: TestClient, tenant: Tenant) -> None:
    bad = client.put("/api/v1/returns/settings", headers=tenant.headers, json={
        "policy": "resellable", "exceptions": [{"kind": "custom_made", "sku_prefix": "A"},
                                               {"kind": "bulky", "sku_prefix": "B"}]})
    assert bad.status_code == 400 and "exceptions[1].kind" in bad.json()["detail"]
    twice = client.put("/api/v1/returns/settings", headers=tenant.headers, json={
        "policy": "resellable", "exceptions": [{"kind": "custom_made", "sku_prefix": "A"},
                                               {"kind": "perishable", "sku_prefix": "a"}]})
    assert twice.status_code == 400 and "exceptions[1].sku_prefix" in twice.json()["detail"]
    assert client.put("/api/v1/returns/settings", headers=tenant.headers,
                      json={"policy": "everything"}).status_code == 400
    assert client.get("/api/v1/returns/settings", headers=tenant.headers).json() == {
        "policy": "resellable", "standard_delivery_cost": None, "exceptions": []}


def test_the_same_withdrawal_at_the_same_moment_is_one_case(client: TestClient, tenant: Tenant,
                                                             factory: sessionmaker[Session]) -> None:
    """Six identical requests at once (a customer's double click, a retrying system): one case."""
    import threading

    post_order(client, tenant)
    start = threading.Barrier(6)
    answers: list[tuple[int, int]] = []

    def send() -> None:
        start.wait(timeout=10)
        response = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 2}])
        answers.append((response.status_code, response.json().get("id", 0)))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(code for code, _ in answers) == [200] * 5 + [201]
    assert len({case_id for _, case_id in answers}) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ReturnCase)) == 1


def test_the_shops_holidays_and_closures_move_the_deadlines(client: TestClient, tenant: Tenant,
                                                           factory: sessionmaker[Session],
                                                           frozen_clock: clock.FrozenClock) -> None:
    import datetime as dt

    from balie.hours import service as hours_service

    post_order(client, tenant)
    with factory() as session, session.begin():  # closed for stocktaking on Tuesday 8 December
        hours_service.add_day(session, tenant.shop_id, day=dt.date(2026, 12, 8), channel=None,
                              today=dt.date(2026, 11, 24), note="Inventaris")
    closed = post_return(client, tenant, lines=[{"sku": "LAP-14", "quantity": 1}]).json()
    assert closed["refund"]["due_on"] == "2026-12-09" and closed["send_back_by"] == "2026-12-09"
    assert closed["refund"]["due_at"] == "2026-12-09T23:00:00Z"

    # Withdrawn Friday 11 December: + 14 is Christmas, then Tweede Kerstdag and a Sunday.
    frozen_clock.current = dt.datetime(2026, 12, 12, 9, tzinfo=dt.UTC)
    christmas = post_return(client, tenant, lines=[{"sku": "HOES", "quantity": 1}],
                            withdrawn_at="2026-12-11T15:00:00+01:00").json()
    assert christmas["refund"]["due_on"] == "2026-12-28"
