"""A shop's business calendar from the database: public holidays by country, its own closures
and extra openings on top, channel rows over all-channel rows, and the checks on adding them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.errors import Invalid, NotFound
from balie.hours import service as hours_service
from balie.hours.models import DatedHours
from balie.shops.models import Shop
from factories import Tenant
from statements import counting

AMS = ZoneInfo("Europe/Amsterdam")
TODAY = dt.date(2026, 11, 24)  # the frozen clock's date


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def week_days(factory: sessionmaker[Session], tenant: Tenant, hours: str = "09:00-17:00",
              days: range = range(6)) -> None:
    with factory() as session, session.begin():
        for channel in hours_service.HOURS_CHANNELS:
            hours_service.replace(session, tenant.shop_id, channel,
                                  [i for day in days for i in hours_service.parse_day(day, hours)])


def country(factory: sessionmaker[Session], tenant: Tenant, value: str | None) -> None:
    with factory() as session, session.begin():
        hours_service.set_holiday_country(session, session.get_one(Shop, tenant.shop_id), value)


def add(factory: sessionmaker[Session], tenant: Tenant, day: dt.date, channel: str | None = None,
        opens: int | None = None, closes: int | None = None, note: str = "") -> int:
    with factory() as session, session.begin():
        row = hours_service.add_day(session, tenant.shop_id, day=day, channel=channel, opens=opens, closes=closes,
                                    note=note, today=TODAY)
        return row.id


def test_new_shops_keep_the_dutch_holidays(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    week_days(factory, tenant)
    with factory() as session:
        assert session.get_one(Shop, tenant.shop_id).holiday_country == "NL"
        chat = hours_service.load(session, tenant.shop_id, "chat")
    assert not hours_service.is_open(chat, local(2026, 12, 25, 10))  # Eerste Kerstdag, a Friday
    assert not hours_service.is_open(chat, local(2026, 12, 26, 10))  # Tweede Kerstdag, a Saturday
    assert hours_service.next_open(chat, local(2026, 12, 24, 18)) == local(2026, 12, 28, 9)
    # 8 business hours from Thursday noon: 5 on Thursday, the 3 left on Monday.
    assert hours_service.business_after(chat, local(2026, 12, 24, 12), 8 * 60) == local(2026, 12, 28, 12)
    assert not hours_service.is_open(chat, local(2027, 4, 27, 10))  # Koningsdag, next year


def test_belgian_holidays_and_none(factory: sessionmaker[Session], tenant: Tenant,
                                   frozen_clock: clock.FrozenClock) -> None:
    week_days(factory, tenant)
    country(factory, tenant, "be")
    with factory() as session:
        chat = hours_service.load(session, tenant.shop_id, "chat")
    assert not hours_service.is_open(chat, local(2026, 12, 25, 10))
    assert hours_service.is_open(chat, local(2026, 12, 26, 10))  # no second Christmas day in Belgium
    assert hours_service.is_open(chat, local(2027, 4, 27, 10))  # nor Koningsdag
    assert not hours_service.is_open(chat, local(2027, 7, 21, 10))  # Nationale feestdag

    country(factory, tenant, None)
    with factory() as session:
        chat = hours_service.load(session, tenant.shop_id, "chat")
    assert hours_service.is_open(chat, local(2026, 12, 25, 10))
    with factory() as session, session.begin(), pytest.raises(Invalid, match="public holidays"):
        hours_service.set_holiday_country(session, session.get_one(Shop, tenant.shop_id), "DE")


def test_an_extra_opening_on_a_sunday_and_on_a_holiday(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    week_days(factory, tenant)
    add(factory, tenant, dt.date(2026, 12, 20), opens=12 * 60, closes=17 * 60, note="Koopzondag")
    add(factory, tenant, dt.date(2026, 12, 26), channel="chat", opens=10 * 60, closes=14 * 60)
    with factory() as session:
        weeks = hours_service.load_all(session, tenant.shop_id)
    for channel in hours_service.HOURS_CHANNELS:
        assert hours_service.is_open(weeks[channel], local(2026, 12, 20, 13)), channel
        assert not hours_service.is_open(weeks[channel], local(2026, 12, 27, 13)), channel
    assert hours_service.is_open(weeks["chat"], local(2026, 12, 26, 11))  # the shop's own day beats the holiday
    assert not hours_service.is_open(weeks["chat"], local(2026, 12, 26, 15))
    assert not hours_service.is_open(weeks["phone"], local(2026, 12, 26, 11))


def test_a_channel_row_beats_the_all_channel_rows(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    week_days(factory, tenant)
    new_years_eve = dt.date(2026, 12, 31)  # a Thursday
    add(factory, tenant, new_years_eve)  # closed, every channel
    add(factory, tenant, new_years_eve, channel="phone", opens=10 * 60, closes=13 * 60)
    with factory() as session:
        weeks = hours_service.load_all(session, tenant.shop_id)
    assert not hours_service.is_open(weeks["chat"], local(2026, 12, 31, 11))
    assert weeks["phone"].spans_on(new_years_eve) == ((600, 780),)
    assert hours_service.closes_at(weeks["phone"], local(2026, 12, 31, 11)) == local(2026, 12, 31, 13)


def test_loading_every_channel_is_one_query_with_the_shop_at_hand(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    week_days(factory, tenant)
    add(factory, tenant, dt.date(2026, 12, 31))
    with factory() as session:
        shop = session.get_one(Shop, tenant.shop_id)
        with counting(factory) as statements:
            weeks = hours_service.load_all(session, tenant.shop_id, shop=shop)
    assert len(statements) == 1, statements
    assert weeks["email"].spans_on(dt.date(2026, 12, 31)) == ()


def test_adding_checks_the_day(factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"day": dt.date(2026, 11, 23)}, "day_in_past"),
        ({"day": dt.date(2029, 1, 1)}, "day_too_far"),
        ({"day": TODAY, "opens": 600}, "hours_incomplete"),
        ({"day": TODAY, "opens": 900, "closes": 600}, "hours_reversed"),
        ({"day": TODAY, "opens": 0, "closes": 1500}, "hours_out_of_range"),
        ({"day": TODAY, "note": "x" * 201}, "note_too_long"),
        ({"day": TODAY, "channel": "fax"}, "invalid_channel"),
    ]
    with factory() as session, session.begin():
        for values, code in cases:
            arguments: dict[str, object] = {"channel": None, **values}
            with pytest.raises(Invalid) as raised:
                hours_service.add_day(session, tenant.shop_id, today=TODAY, **arguments)  # type: ignore[arg-type]
            assert raised.value.code == code, values
        first = hours_service.add_day(session, tenant.shop_id, day=TODAY, channel="chat", opens=600, closes=720,
                                      note="  Extra\n open  ", today=TODAY)
        assert first.note == "Extra open"
        again = hours_service.add_day(session, tenant.shop_id, day=TODAY, channel="chat", opens=600, closes=720,
                                      today=TODAY)
        assert again.id == first.id  # a form sent twice adds one row
        with pytest.raises(Invalid) as raised:
            hours_service.add_day(session, tenant.shop_id, day=TODAY, channel="chat", opens=700, closes=800,
                                  today=TODAY)
        assert raised.value.code == "hours_overlap"
        with pytest.raises(Invalid) as raised:
            hours_service.add_day(session, tenant.shop_id, day=TODAY, channel="chat", today=TODAY)
        assert raised.value.code == "day_conflict"
        # Touching openings, and another scope on the same date, are fine.
        hours_service.add_day(session, tenant.shop_id, day=TODAY, channel="chat", opens=720, closes=800, today=TODAY)
        hours_service.add_day(session, tenant.shop_id, day=TODAY, channel=None, today=TODAY)
        listed = hours_service.upcoming_days(session, tenant.shop_id, TODAY)
        assert [(d.channel, d.opens, d.closed) for d in listed] == [(None, None, True), ("chat", 600, False),
                                                                     ("chat", 720, False)]
        with pytest.raises(NotFound):
            hours_service.remove_day(session, other_tenant.shop_id, first.id)
        hours_service.remove_day(session, tenant.shop_id, first.id)
        assert session.get(DatedHours, first.id) is None


def test_upcoming_holidays() -> None:
    found = hours_service.upcoming_holidays("NL", TODAY, 3)
    assert [day for day, _ in found] == [dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2027, 1, 1)]
    assert found[0][1] == "Eerste kerstdag"
    assert hours_service.upcoming_holidays(None, TODAY) == []
