"""SLA timers on conversations with the test's clock: when they start, pause, resume, are met
and re-timed, in business time. Every expected moment is worked out by hand in the comments
(09:00–17:00 on weekdays is 480 business minutes a day; Amsterdam is UTC+1 in winter)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sla_support import (
    customer_writes,
    local,
    moment,
    office_hours,
    own_targets,
    patch,
    reply,
    run_due,
    sla,
    wake,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Conversation
from balie.customers.service import normalise
from balie.scheduling.models import DueJob
from balie.sla import service as sla_service
from balie.sla.targets import TargetRow
from factories import Tenant


@pytest.fixture
def friday_evening(frozen_clock: clock.FrozenClock) -> clock.FrozenClock:
    frozen_clock.current = local(2026, 11, 27, 17, 30)  # Friday 27 November 2026, after closing
    return frozen_clock


def test_an_email_on_friday_evening_is_due_by_business_hours(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, friday_evening: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    conversation_id = customer_writes(factory, tenant)
    # 24 business hours = 1440 minutes = three days of 480 from Monday 09:00: Wednesday 17:00.
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 12, 2, 17, 0)
    assert shown["next_response_due_at"] is None and shown["resolution_due_at"] is None
    assert shown["state"] == "on_track" and shown["calendar_fallback"] is False


def test_a_shorter_target_is_due_monday_and_due_soon_at_eighty_percent(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, friday_evening: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 8 * 60))
    conversation_id = customer_writes(factory, tenant)
    # 480 minutes from Monday 09:00: Monday 17:00. Due soon at 384 minutes: Monday 15:24.
    assert moment(sla(client, tenant, conversation_id)["first_response_due_at"]) == local(2026, 11, 30, 17, 0)
    with factory() as session:
        jobs = session.execute(select(DueJob.kind, DueJob.due_at).where(DueJob.kind.like("sla.%"))
                               .order_by(DueJob.due_at)).all()
    assert [(kind, due_at) for kind, due_at in jobs] == [("sla.due_soon", local(2026, 11, 30, 15, 24)),
                                                         ("sla.breached", local(2026, 11, 30, 17, 0))]
    friday_evening.current = local(2026, 11, 30, 15, 23)
    assert sla(client, tenant, conversation_id)["state"] == "on_track"
    friday_evening.current = local(2026, 11, 30, 15, 24)
    assert sla(client, tenant, conversation_id)["state"] == "due_soon"
    friday_evening.current = local(2026, 11, 30, 17, 0)
    assert sla(client, tenant, conversation_id)["state"] == "breached"


def test_pending_pauses_and_the_customer_writing_resumes_with_what_was_left(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 0)  # Monday 10:00
    conversation_id = customer_writes(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 11, 0)  # an hour used: 1380 minutes left
    patch(client, tenant, conversation_id, status="pending")
    shown = sla(client, tenant, conversation_id)
    assert shown == {"first_response_due_at": None, "next_response_due_at": None, "resolution_due_at": None,
                     "state": "paused", "calendar_fallback": False}
    frozen_clock.current = local(2026, 12, 1, 10, 0)  # Tuesday 10:00 the customer writes again
    assert customer_writes(factory, tenant, "Nog iets: het was een cadeau") == conversation_id
    # 1380 minutes from Tuesday 10:00: Tuesday 420, Wednesday 480, Thursday 480 → Thursday 17:00.
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 12, 3, 17, 0)
    assert shown["state"] == "on_track"


def test_snooze_pauses_and_waking_up_resumes(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 120))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 30)  # 90 minutes left
    patch(client, tenant, conversation_id, snooze_until=local(2026, 12, 1, 9, 0).isoformat())
    assert sla(client, tenant, conversation_id)["state"] == "paused"
    frozen_clock.current = local(2026, 11, 30, 12, 30)  # the old due moment passes: no breach
    run_due(factory)
    assert sla(client, tenant, conversation_id)["state"] == "paused"
    frozen_clock.current = local(2026, 12, 1, 9, 0)
    assert wake(factory) == 1
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 12, 1, 10, 30)  # 09:00 + 90 minutes
    with factory() as session:
        breaches = session.scalars(select(DueJob.state).where(DueJob.kind == "sla.breached")
                                   .order_by(DueJob.due_at)).all()
    assert list(breaches) == ["cancelled", "pending"]  # the one from before the snooze will not fire


def test_a_reply_meets_the_response_timer_and_the_next_message_starts_the_next(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 5)
    reply(client, tenant, conversation_id, status="open")
    assert sla(client, tenant, conversation_id) == {
        "first_response_due_at": None, "next_response_due_at": None, "resolution_due_at": None, "state": "met",
        "calendar_fallback": False}
    with factory() as session:
        states = session.scalars(select(DueJob.state).where(DueJob.kind.like("sla.%"))).all()
    assert sorted(states) == ["cancelled", "cancelled"]  # nothing left to fire
    frozen_clock.current = local(2026, 11, 30, 11, 0)
    customer_writes(factory, tenant, "Dank, en wanneer komt het?")
    shown = sla(client, tenant, conversation_id)
    # The next response: 1440 business minutes from Monday 11:00 → Thursday 11:00.
    assert shown["first_response_due_at"] is None
    assert moment(shown["next_response_due_at"]) == local(2026, 12, 3, 11, 0)
    assert shown["state"] == "on_track"


def test_a_second_message_before_the_answer_keeps_the_clock_of_the_first(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 16, 0)
    customer_writes(factory, tenant, "Hallo??")
    assert moment(sla(client, tenant, conversation_id)["first_response_due_at"]) == local(2026, 12, 3, 10, 0)


def test_a_priority_change_re_times_by_the_new_target(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 8 * 60),
                TargetRow("email", "urgent", "first_response", 2 * 60))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    # Normal: 480 minutes from Monday 10:00 → Monday 17:00 (60 minutes) + Tuesday 09:00 + 60 → Tuesday 10:00.
    assert moment(sla(client, tenant, conversation_id)["first_response_due_at"]) == local(2026, 12, 1, 10, 0)
    frozen_clock.current = local(2026, 11, 30, 11, 0)  # an hour used; urgent allows two: one left
    patch(client, tenant, conversation_id, priority="urgent")
    assert moment(sla(client, tenant, conversation_id)["first_response_due_at"]) == local(2026, 11, 30, 12, 0)
    frozen_clock.current = local(2026, 11, 30, 11, 30)  # 60 of 120 used before, 30 now: 75 % < 80 %
    assert sla(client, tenant, conversation_id)["state"] == "on_track"
    frozen_clock.current = local(2026, 11, 30, 11, 36)  # 96 of 120: due soon
    assert sla(client, tenant, conversation_id)["state"] == "due_soon"
    patch(client, tenant, conversation_id, priority="low")  # no target for low: the timer stops
    assert sla(client, tenant, conversation_id)["first_response_due_at"] is None


def test_no_opening_hours_counts_around_the_clock_and_says_so(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, friday_evening: clock.FrozenClock
) -> None:
    conversation_id = customer_writes(factory, tenant)  # the shop never set e-mail hours
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 11, 28, 17, 30)  # 24 calendar hours
    assert shown["calendar_fallback"] is True


def test_a_resolution_target_runs_until_resolved(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False),
                TargetRow("email", "normal", "resolution", 3 * 24 * 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 11, 30, 11, 0)
    assert moment(shown["resolution_due_at"]) == local(2026, 12, 3, 10, 0)
    reply(client, tenant, conversation_id, status="open")  # the resolution still runs
    shown = sla(client, tenant, conversation_id)
    assert shown["first_response_due_at"] is None and shown["state"] == "on_track"
    assert moment(shown["resolution_due_at"]) == local(2026, 12, 3, 10, 0)
    patch(client, tenant, conversation_id, status="resolved")
    assert sla(client, tenant, conversation_id)["state"] == "met"


def test_a_conversation_without_any_target_shows_no_state(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    own_targets(factory, tenant, TargetRow("chat", "normal", "first_response", 2))  # nothing for e-mail
    conversation_id = customer_writes(factory, tenant)
    assert sla(client, tenant, conversation_id) == {
        "first_response_due_at": None, "next_response_due_at": None, "resolution_due_at": None, "state": None,
        "calendar_fallback": False}


def test_expected_answer_at_is_the_running_response_due_moment(
    factory: sessionmaker[Session], tenant: Tenant, friday_evening: clock.FrozenClock
) -> None:
    office_hours(factory, tenant)
    conversation_id = customer_writes(factory, tenant)
    with factory() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert sla_service.expected_answer_at(session, conversation) == local(2026, 12, 2, 17, 0)


def test_an_agent_reopening_or_a_follow_up_resumes_the_clock(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    frozen_clock.current = local(2026, 11, 30, 10, 20)  # 40 minutes left
    patch(client, tenant, conversation_id, status="pending")
    frozen_clock.current = local(2026, 11, 30, 14, 0)
    patch(client, tenant, conversation_id, status="open")
    assert moment(sla(client, tenant, conversation_id)["first_response_due_at"]) == local(2026, 11, 30, 14, 40)

    frozen_clock.current = local(2026, 11, 30, 14, 10)  # 30 left
    patch(client, tenant, conversation_id, status="pending")
    response = client.post(f"/api/v1/conversations/{conversation_id}/follow-ups", headers=tenant.headers,
                           json={"due_at": local(2026, 12, 1, 9, 0).isoformat(), "note": "Nabellen"})
    assert response.status_code == 201, response.text
    frozen_clock.current = local(2026, 12, 1, 9, 0)
    run_due(factory)
    shown = sla(client, tenant, conversation_id)
    assert moment(shown["first_response_due_at"]) == local(2026, 12, 1, 9, 30) and shown["state"] == "on_track"


def test_an_automatic_reply_starts_no_timer(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        result = ingest(session, InboundMessage(
            shop_id=tenant.shop_id, channel="email", identities=[normalise("email", "klant@example.nl")],
            text="Ik ben afwezig tot maandag.", external_id="<ooo@example.nl>", flags=["auto_reply"], quiet=True))
    run_due(factory)
    assert sla(client, tenant, result.conversation_id)["state"] is None
