"""The four rules on their own, walking through time: when a promise counts as broken, and
when a second promise ignores what broke the first."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from balie.commerce.promises import rules
from balie.commerce.promises.rules import Finding, Parcel, Watched

ZONE = ZoneInfo("Europe/Amsterdam")
POLICY = rules.Policy(zone=ZONE, cutoff=dt.time(22, 0), transit_days=2, carriers={"dhl": 4}, extra_days=1)
TUESDAY = dt.date(2026, 11, 24)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


def promise(**changes: object) -> Watched:
    values: dict[str, object] = {"order_id": 1, "promised_date": TUESDAY}
    values.update(changes)
    return Watched(**values)  # type: ignore[arg-type]


def test_no_scan_by_the_cutoff_the_evening_before_breaks_a_next_day_promise() -> None:
    assert rules.evaluate(promise(), at(23, 21, 59), POLICY) is None
    found = rules.evaluate(promise(), at(23, 22, 0), POLICY)
    assert found == Finding("cutoff", at(23, 22, 0).astimezone(dt.UTC), "cutoff")
    only_data = promise(parcels=[Parcel("PostNL", "info_received", at(23, 18))])
    assert rules.evaluate(only_data, at(23, 22, 30), POLICY) is not None  # the label is not a scan
    scanned = promise(parcels=[Parcel("PostNL", "in_transit", at(23, 20))], delivery_status="in_transit")
    assert rules.evaluate(scanned, at(23, 22, 30), POLICY) is None


def test_the_promised_day_over_without_delivery_breaks_it_but_a_pickup_point_does_not() -> None:
    travelling = promise(parcels=[Parcel("PostNL", "in_transit", at(23, 20))], delivery_status="in_transit")
    assert rules.evaluate(travelling, at(24, 23, 59), POLICY) is None
    found = rules.evaluate(travelling, at(25, 0, 0), POLICY)
    assert found is not None and found.rule == "passed" and found.broken_at == at(25, 0).astimezone(dt.UTC)
    waiting = promise(parcels=[Parcel("PostNL", "available_for_pickup", at(24, 15))],
                      delivery_status="available_for_pickup")
    assert rules.evaluate(waiting, at(26, 9), POLICY) is None


def test_a_window_is_broken_when_its_end_passes() -> None:
    window = promise(window_end=at(24, 18), parcels=[Parcel("PostNL", "out_for_delivery", at(24, 8))],
                     delivery_status="out_for_delivery")
    assert rules.evaluate(window, at(24, 17, 59), POLICY) is None
    found = rules.evaluate(window, at(24, 18, 1), POLICY)
    assert found is not None and found.rule == "passed"


def test_carrier_trouble_breaks_it_at_once_with_what_the_carrier_said() -> None:
    for status in ("exception", "delivery_failed"):
        found = rules.evaluate(promise(promised_date=dt.date(2026, 11, 30),
                                       parcels=[Parcel("PostNL", status, at(24, 11))], delivery_status=status),
                               at(24, 11, 5), POLICY)
        assert found == Finding("exception", at(24, 11), status)


def test_stuck_in_transit_longer_than_the_carriers_normal_time() -> None:
    far = dt.date(2026, 12, 10)
    postnl = promise(promised_date=far, parcels=[Parcel("PostNL", "in_transit", at(24, 9))],
                     delivery_status="in_transit")
    assert rules.evaluate(postnl, at(26, 8, 59), POLICY) is None
    found = rules.evaluate(postnl, at(26, 9), POLICY)
    assert found is not None and found.rule == "stuck"
    dhl = promise(promised_date=far, parcels=[Parcel("DHL", "in_transit", at(24, 9))], delivery_status="in_transit")
    assert rules.evaluate(dhl, at(27, 9), POLICY) is None  # DHL is given four days here
    assert rules.evaluate(dhl, at(28, 9), POLICY) is not None


def test_a_second_promise_is_not_broken_by_what_broke_the_first() -> None:
    since = at(24, 11, 5)
    second = promise(promised_date=dt.date(2026, 11, 25), since=since, delivery_status="delivery_failed",
                     parcels=[Parcel("PostNL", "delivery_failed", at(24, 11))])
    assert rules.evaluate(second, at(24, 12), POLICY) is None
    again = promise(promised_date=dt.date(2026, 11, 25), since=since, delivery_status="delivery_failed",
                    parcels=[Parcel("PostNL", "delivery_failed", at(25, 14))])
    found = rules.evaluate(again, at(25, 14, 5), POLICY)
    assert found is not None and found.detail == "delivery_failed"
    stuck_before = promise(promised_date=dt.date(2026, 12, 10), since=since, delivery_status="in_transit",
                           parcels=[Parcel("PostNL", "in_transit", at(20, 9))])
    assert rules.evaluate(stuck_before, at(25, 9), POLICY) is None  # two days counted from the first breach
    assert rules.evaluate(stuck_before, at(26, 11, 5), POLICY) is not None


def test_the_new_expected_date_is_a_day_later_and_never_a_sunday() -> None:
    assert rules.new_expected_date(TUESDAY, at(23, 22), POLICY) == dt.date(2026, 11, 25)
    assert rules.new_expected_date(TUESDAY, at(26, 10), POLICY) == dt.date(2026, 11, 27)  # today is later
    saturday = dt.date(2026, 11, 28)
    assert rules.new_expected_date(saturday, at(27, 22), POLICY) == dt.date(2026, 11, 30)  # not Sunday the 29th


def test_the_cutoff_horizon_is_tomorrow_once_todays_cutoff_has_passed() -> None:
    assert rules.cutoff_horizon(at(23, 21, 59), POLICY) == dt.date(2026, 11, 23)
    assert rules.cutoff_horizon(at(23, 22, 0), POLICY) == TUESDAY
    assert rules.cutoff_horizon(at(24, 1, 0), POLICY) == TUESDAY
