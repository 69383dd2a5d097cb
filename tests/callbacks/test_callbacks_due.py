"""When a call-back is due: within the promise while the call-back hours are open, after the
next opening when they are closed, at a window's start, and at any time without hours."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.channels.chat.models import WidgetSettings
from balie.hours import service as hours_service
from balie.hours.service import Interval
from factories import Tenant

WEEKDAYS_9_TO_17 = [Interval(day, 9 * 60, 17 * 60) for day in range(5)]


def _hours(factory: sessionmaker[Session], tenant: Tenant, minutes: int | None = None) -> None:
    with factory() as session, session.begin():
        hours_service.replace(session, tenant.shop_id, "callback", WEEKDAYS_9_TO_17)
        if minutes is not None:
            session.add(WidgetSettings(shop_id=tenant.shop_id, secret="s" * 32, callback_minutes=minutes))


def _ask(client: TestClient, tenant: Tenant, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": "0612345678", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_inside_hours_the_shops_own_promise(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    _hours(factory, tenant, minutes=45)  # Tuesday 11:00 in Amsterdam: open
    body = _ask(client, tenant)
    assert body["due_at"] == "2026-11-24T10:45:00Z"
    assert body["promise"]["nl"] == "We bellen je binnen 45 minuten terug."


def test_outside_hours_after_the_next_opening(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    _hours(factory, tenant)
    frozen_clock.current = dt.datetime(2026, 11, 24, 19, 0, tzinfo=dt.UTC)  # Tuesday 20:00: closed
    body = _ask(client, tenant)
    assert body["due_at"] == "2026-11-25T08:30:00Z"  # Wednesday 09:00 opening + 30 minutes
    assert body["promise"] == {"nl": "We bellen je uiterlijk woensdag 25 november om 09:30 terug.",
                               "en": "We will call you back by Wednesday 25 November at 09:30."}
    frozen_clock.current = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)  # Friday 18:00
    assert _ask(client, tenant, phone="0687654321")["due_at"] == "2026-11-30T08:30:00Z"  # Monday


def test_without_callback_hours_always_open(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():  # hours for chat only: call-backs any time
        hours_service.replace(session, tenant.shop_id, "chat", WEEKDAYS_9_TO_17)
    frozen_clock.current = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)  # Sunday night
    assert _ask(client, tenant)["due_at"] == "2026-11-29T02:30:00Z"


def test_a_window_is_due_at_its_first_open_moment(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    _hours(factory, tenant)
    inside = _ask(client, tenant, window={"start": "2026-11-24T15:00:00+01:00", "end": "2026-11-24T16:00:00+01:00"})
    assert inside["due_at"] == "2026-11-24T14:00:00Z"
    assert inside["window"] == {"start": "2026-11-24T14:00:00Z", "end": "2026-11-24T15:00:00Z"}
    assert inside["promise"]["en"] == "We will call you back by Tuesday 24 November at 15:00."
    # Starts before the opening: due at the opening.
    early = _ask(client, tenant, phone="0687654321",
                 window={"start": "2026-11-25T07:00:00+01:00", "end": "2026-11-25T10:00:00+01:00"})
    assert early["due_at"] == "2026-11-25T08:00:00Z"
    # Already begun: due now.
    begun = _ask(client, tenant, phone="0611111111",
                 window={"start": "2026-11-24T10:30:00+01:00", "end": "2026-11-24T12:00:00+01:00"})
    assert begun["due_at"] == "2026-11-24T10:00:00Z"
    # Entirely outside the call-back hours: refused, nothing stored.
    closed = client.post("/api/v1/callbacks", headers=tenant.headers, json={
        "phone": "0622222222", "window": {"start": "2026-11-24T19:00:00+01:00", "end": "2026-11-24T21:00:00+01:00"}})
    assert closed.status_code == 400 and closed.json()["error"] == "window_outside_hours"
    assert len(client.get("/api/v1/callbacks", headers=tenant.headers).json()["items"]) == 3
