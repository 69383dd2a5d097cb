"""The calendar part of the opening-hours page: the public holidays a shop keeps, and its
closures and extra openings, added and removed with the CSRF token, wrong input explained
beside the field, in Dutch and English."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.hours import service as hours_service
from balie.hours.models import DatedHours
from balie.shops.models import Shop
from factories import Tenant
from ui_support import sign_in

TODAY = dt.date(2026, 11, 24)  # the frozen clock's date


def day_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "day": "2026-12-31", "channel": "", "kind": "closed", "opens": "", "closes": "",
              "note": ""}
    values.update(fields)
    return values


def rows(factory: sessionmaker[Session], shop_id: int) -> list[DatedHours]:
    with factory() as session:
        return list(session.scalars(select(DatedHours).where(DatedHours.shop_id == shop_id)
                                    .order_by(DatedHours.id)).all())


def test_the_page_shows_the_next_holidays_and_the_choice_is_saved(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    page = client.get("/settings/hours").text
    assert "Feestdagen" in page and 'value="NL" selected' in page
    assert "Eerste kerstdag" in page and 'datetime="2026-12-25"' in page and "Christmas Day" not in page
    assert "Geen sluitingen of extra openingen in het vooruitzicht." in page

    saved = client.post("/settings/hours/holidays", data={"csrf_token": csrf, "holiday_country": "BE"},
                        follow_redirects=False)
    assert saved.status_code == 303
    assert "Tweede kerstdag" not in client.get("/settings/hours").text
    client.post("/settings/hours/holidays", data={"csrf_token": csrf, "holiday_country": ""})
    with factory() as session:
        assert session.get_one(Shop, tenant.shop_id).holiday_country is None
    assert "Eerste kerstdag" not in client.get("/settings/hours").text
    assert client.post("/settings/hours/holidays", data={"csrf_token": csrf, "holiday_country": "XX"}
                       ).status_code == 400
    assert client.post("/settings/hours/holidays", data={"holiday_country": "BE"}).status_code == 403
    with factory() as session:
        assert session.get_one(Shop, tenant.shop_id).holiday_country is None


def test_an_admin_adds_a_closure_and_an_extra_opening_then_removes_one(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    closed = client.post("/settings/hours/days", data=day_form(csrf, note="Inventaris"), follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == "/settings/hours?notice=day_added#days"
    opened = client.post("/settings/hours/days", data=day_form(
        csrf, day="20-12-2026", channel="chat", kind="open", opens="12:00", closes="17.00", note="Koopzondag"))
    assert opened.status_code == 200  # followed to the page
    assert "Dag toegevoegd." in opened.text and "Koopzondag" in opened.text and "open 12:00–17:00" in opened.text
    stored = rows(factory, tenant.shop_id)
    assert [(r.day, r.channel, r.opens, r.closes, r.note) for r in stored] == [
        (dt.date(2026, 12, 31), None, None, None, "Inventaris"),
        (dt.date(2026, 12, 20), "chat", 720, 1020, "Koopzondag"),
    ]
    with factory() as session:
        chat = hours_service.load(session, tenant.shop_id, "chat")
    assert chat.spans_on(dt.date(2026, 12, 20)) == ((720, 1020),) and chat.spans_on(dt.date(2026, 12, 31)) == ()

    removed = client.post(f"/settings/hours/days/{stored[0].id}/delete", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert [r.id for r in rows(factory, tenant.shop_id)] == [stored[1].id]
    assert client.post(f"/settings/hours/days/{stored[1].id}/delete", data={}).status_code == 403  # no token


def test_a_form_sent_twice_adds_one_day(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    form = day_form(csrf, kind="open", opens="10:00", closes="14:00", channel="phone")
    first = client.post("/settings/hours/days", data=form, follow_redirects=False)
    second = client.post("/settings/hours/days", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert len(rows(factory, tenant.shop_id)) == 1


def test_wrong_days_are_explained_beside_the_field_and_nothing_is_stored(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    cases = [
        (day_form(csrf, day="31-02-2026"), "day-date-error", "Vul een datum in"),
        (day_form(csrf, day="morgen"), "day-date-error", "Vul een datum in"),
        (day_form(csrf, day="2026-11-23"), "day-date-error", "Deze datum is al voorbij."),
        (day_form(csrf, day="2030-01-01"), "day-date-error", "hoogstens twee jaar vooruit"),
        (day_form(csrf, kind="open", opens="17:00", closes="09:00"), "day-times-error",
         "De opening moet eindigen na het begin."),
        (day_form(csrf, kind="open", opens="half tien", closes="12:00"), "day-times-error",
         "Schrijf tijden als 09:00."),
        (day_form(csrf, kind="open", opens="", closes="12:00"), "day-times-error", "Schrijf tijden als 09:00."),
        (day_form(csrf, channel="fax"), "day-channel-error", "Kies een kanaal uit de lijst."),
        (day_form(csrf, note="x" * 201), "day-note-error", "Een notitie heeft hoogstens 200 tekens."),
    ]
    for form, field, message in cases:
        response = client.post("/settings/hours/days", data=form)
        assert response.status_code == 400, form
        assert f'id="{field}"' in response.text and message in response.text, form
        assert 'id="day-form-error"' in response.text
    assert rows(factory, tenant.shop_id) == []

    client.post("/settings/hours/days", data=day_form(csrf, kind="open", opens="09:00", closes="12:00"))
    overlap = client.post("/settings/hours/days", data=day_form(csrf, kind="open", opens="11:00", closes="13:00"))
    assert overlap.status_code == 400 and "Deze opening overlapt een andere op die datum." in overlap.text
    assert len(rows(factory, tenant.shop_id)) == 1


def test_a_hostile_note_stays_text(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    note = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post("/settings/hours/days", data=day_form(csrf, note=note))
    page = client.get("/settings/hours").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # Typed back into the form after a wrong field: still text.
    wrong = client.post("/settings/hours/days", data=day_form(csrf, day="nope", note=note))
    assert wrong.status_code == 400 and "<script>alert" not in wrong.text


def test_another_shops_day_cannot_be_removed(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant,
    frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        theirs = hours_service.add_day(session, other_tenant.shop_id, day=dt.date(2026, 12, 31), channel=None,
                                       today=TODAY).id
    csrf = sign_in(client, tenant)
    assert client.post(f"/settings/hours/days/{theirs}/delete", data={"csrf_token": csrf}).status_code == 404
    assert client.post("/settings/hours/days/99999999999999999999999/delete",
                       data={"csrf_token": csrf}).status_code in (404, 422)
    assert len(rows(factory, other_tenant.shop_id)) == 1
    assert f'data-day-id="{theirs}"' not in client.get("/settings/hours").text


def test_the_calendar_speaks_english_on_request(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    csrf = sign_in(client, tenant)
    client.get("/ui/lang/en")
    page = client.get("/settings/hours").text
    for expected in ("Public holidays", "The Netherlands", "Closures and extra openings", "Add a day",
                     "All channels", "Christmas Day"):
        assert expected in page, expected
    assert "Eerste kerstdag" not in page
    wrong = client.post("/settings/hours/days", data=day_form(csrf, kind="open", opens="17:00", closes="09:00"))
    assert "The opening must end after it starts." in wrong.text
