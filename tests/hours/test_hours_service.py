"""Loading and replacing a shop's opening hours in the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from balie.errors import Invalid
from balie.hours import service as hours_service
from balie.hours.schedule import Interval
from balie.shops.models import Shop
from factories import Tenant


def test_replace_then_load(factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant) -> None:
    with factory() as session, session.begin():
        hours_service.replace(session, tenant.shop_id, "chat", hours_service.parse_day(0, "09:00-12:00, 13:00-17:00"))
        hours_service.replace(session, tenant.shop_id, "phone", [Interval(5, 600, 960)])
        hours_service.replace(session, other_tenant.shop_id, "chat", [Interval(1, 0, 1440)])
    with factory() as session:
        chat = hours_service.load(session, tenant.shop_id, "chat")
        assert [(i.weekday, i.opens, i.closes) for i in chat.intervals] == [(0, 540, 720), (0, 780, 1020)]
        assert str(chat.zone) == "Europe/Amsterdam"
        every = hours_service.load_all(session, tenant.shop_id)
        assert set(every) == {"chat", "phone", "email", "whatsapp", "callback"}
        assert every["phone"].intervals == (Interval(5, 600, 960),)
        assert not every["email"].configured
        # Replacing is whole-week: the old intervals go.
        hours_service.replace(session, tenant.shop_id, "chat", [Interval(2, 60, 120)])
        assert hours_service.load(session, tenant.shop_id, "chat").intervals == (Interval(2, 60, 120),)


def test_invalid_week_changes_nothing(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        hours_service.replace(session, tenant.shop_id, "chat", [Interval(0, 540, 720)])
    with factory() as session, session.begin():
        with pytest.raises(Invalid, match="overlap"):
            hours_service.replace(session, tenant.shop_id, "chat", [Interval(0, 540, 720), Interval(0, 600, 700)])
        with pytest.raises(Invalid, match="channel"):
            hours_service.replace(session, tenant.shop_id, "fax", [])
        assert hours_service.load(session, tenant.shop_id, "chat").intervals == (Interval(0, 540, 720),)


def test_time_zone(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        shop = session.get(Shop, tenant.shop_id)
        assert shop is not None
        hours_service.set_time_zone(session, shop, "Europe/Brussels")
        with pytest.raises(Invalid, match="time zone"):
            hours_service.set_time_zone(session, shop, "Europe/Atlantis")
        hours_service.replace(session, tenant.shop_id, "callback", [Interval(0, 540, 1020)])
    with factory() as session:
        callback = hours_service.load(session, tenant.shop_id, "callback")
        monday = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # 08:00 in Brussels
        assert hours_service.promise_due(callback, monday, 30) == dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)
