"""Follow-ups with the test's clock: scheduled with a note in the conversation, and when
due the conversation reopens, goes back to the agent who asked and shows the note."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from follow_up_support import actor, conversation, notes, schedule
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents.models import Membership
from balie.conversations.models import Conversation, Message
from balie.errors import Conflict, Invalid, NotFound
from balie.events import Event
from balie.follow_ups import service as follow_up_service
from balie.scheduling.models import DueJob
from balie.shops.models import Shop
from factories import Tenant, post_message


@pytest.fixture
def events(app: FastAPI) -> list[Event]:
    seen: list[Event] = []
    app.state.context.bus.add_listener(seen.append)
    return seen


def new_conversation(client: TestClient, tenant: Tenant) -> int:
    return int(post_message(client, tenant)["conversation_id"])  # type: ignore[call-overload]


def test_a_due_follow_up_reopens_assigns_back_and_shows_the_note(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
    frozen_clock: clock.FrozenClock, events: list[Event]
) -> None:
    conversation_id = new_conversation(client, tenant)
    in_two_weeks = frozen_clock.current + dt.timedelta(weeks=2)  # 8 December 2026, 11:00 in Amsterdam
    follow_up = schedule(factory, tenant, conversation_id, in_two_weeks)
    assert follow_up.state == "pending" and follow_up.due_at == in_two_weeks
    [scheduled] = notes(client, tenant, conversation_id)
    assert scheduled["text"] == ("Follow-up gepland voor dinsdag 8 december 2026 om 11:00: "
                                 "Nagaan of PostNL het pakket heeft gevonden")
    assert scheduled["author_name"] == "Ada Agent"
    # Meanwhile: resolved, and handed to nobody.
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers,
                 json={"status": "resolved", "assignee_id": None})

    frozen_clock.advance(weeks=2, seconds=-1)
    app.state.worker.run_once()
    assert conversation(client, tenant, conversation_id)["status"] == "resolved"  # not a second early
    frozen_clock.advance(seconds=1)
    events.clear()
    assert app.state.worker.run_once() >= 1

    detail = conversation(client, tenant, conversation_id)
    assert detail["status"] == "open"
    assert detail["assignee"]["id"] == tenant.agent_id  # type: ignore[index]
    assert detail["last_activity_at"] == frozen_clock.current.isoformat().replace("+00:00", "Z")
    due = notes(client, tenant, conversation_id)[-1]
    assert due["text"] == "Follow-up van Ada Agent: Nagaan of PostNL het pakket heeft gevonden"
    assert due["author_type"] == "system"
    assert {event.type for event in events} >= {"conversation.updated", "message.created"}
    updated = next(event for event in events if event.type == "conversation.updated")
    assert updated.data == {"conversation_id": conversation_id, "changed": ["assignee_id", "status"]}
    [listed] = follow_up_service.list_for(factory(), actor(factory, tenant), conversation_id)
    assert listed.state == "done" and listed.done_at == frozen_clock.current

    frozen_clock.advance(days=30)
    app.state.worker.run_once()
    assert len(notes(client, tenant, conversation_id)) == 2  # it fired once


def test_a_snoozed_conversation_wakes_for_its_follow_up(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
    frozen_clock: clock.FrozenClock
) -> None:
    conversation_id = new_conversation(client, tenant)
    schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(days=1))
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers,
                 json={"snooze_until": (frozen_clock.current + dt.timedelta(days=30)).isoformat()})

    frozen_clock.advance(days=1)
    app.state.worker.run_once()

    detail = conversation(client, tenant, conversation_id)
    assert detail["status"] == "open" and detail["snoozed_until"] is None


def test_an_agent_who_left_the_shop_gets_nothing_and_the_note_says_so(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
    frozen_clock: clock.FrozenClock
) -> None:
    conversation_id = new_conversation(client, tenant)
    schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(days=1))
    with factory() as session, session.begin():
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(assignee_id=tenant.agent_id))
        session.execute(delete(Membership).where(Membership.agent_id == tenant.agent_id))

    frozen_clock.advance(days=1)
    app.state.worker.run_once()

    with factory() as session:
        reopened = session.get_one(Conversation, conversation_id)
        assert reopened.status == "open" and reopened.assignee_id is None
    with factory() as session:  # the agent's token no longer works in the shop: read the rows
        texts = list(session.scalars(select(Message.text).where(Message.conversation_id == conversation_id,
                                                                 Message.direction == "note")
                                     .order_by(Message.id)))
    assert texts[-1] == ("Follow-up van Ada Agent: Nagaan of PostNL het pakket heeft gevonden\n\n"
                         "Ada Agent werkt niet meer in deze winkel; het gesprek is daarom niet toegewezen.")


def test_texts_follow_the_shops_language(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
    frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        session.execute(update(Shop).where(Shop.id == tenant.shop_id).values(language="en",
                                                                              time_zone="Europe/Brussels"))
    conversation_id = new_conversation(client, tenant)
    schedule(factory, tenant, conversation_id, dt.datetime(2027, 1, 4, 8, 30, tzinfo=dt.UTC), note="Ring the depot")
    frozen_clock.current = dt.datetime(2027, 1, 4, 8, 30, tzinfo=dt.UTC)
    app.state.worker.run_once()

    assert [note["text"] for note in notes(client, tenant, conversation_id)] == [
        "Follow-up scheduled for Monday 4 January 2027 at 09:30: Ring the depot",
        "Follow-up from Ada Agent: Ring the depot",
    ]


def test_a_cancelled_follow_up_never_fires(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
    frozen_clock: clock.FrozenClock
) -> None:
    conversation_id = new_conversation(client, tenant)
    follow_up = schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(hours=3))
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers, json={"status": "resolved"})
    with factory() as session, session.begin():
        cancelled = follow_up_service.cancel(session, actor(factory, tenant), conversation_id, follow_up.id)
    assert cancelled.state == "cancelled"

    frozen_clock.advance(hours=3)
    app.state.worker.run_once()

    assert conversation(client, tenant, conversation_id)["status"] == "resolved"
    assert [note["text"] for note in notes(client, tenant, conversation_id)][-1] == (
        "Follow-up voor dinsdag 24 november 2026 om 14:00 geannuleerd.")


@pytest.mark.parametrize(("due", "code"), [
    (dt.timedelta(0), "invalid_follow_up"),
    (dt.timedelta(seconds=-1), "invalid_follow_up"),
    (dt.timedelta(days=731, seconds=1), "invalid_follow_up"),
])
def test_when_a_follow_up_may_be_due(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                     frozen_clock: clock.FrozenClock, due: dt.timedelta, code: str) -> None:
    conversation_id = new_conversation(client, tenant)
    with pytest.raises(Invalid) as raised:
        schedule(factory, tenant, conversation_id, frozen_clock.current + due)
    assert raised.value.code == code
    with pytest.raises(Invalid, match="timezone"):
        schedule(factory, tenant, conversation_id, dt.datetime(2026, 12, 1, 9, 0))
    assert schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(days=731)).state == "pending"


def test_what_a_note_may_be(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                            frozen_clock: clock.FrozenClock) -> None:
    conversation_id = new_conversation(client, tenant)
    due = frozen_clock.current + dt.timedelta(days=1)
    for bad in ("", "   \n ", "x" * 2001):
        with pytest.raises(Invalid) as raised:
            schedule(factory, tenant, conversation_id, due, note=bad)
        assert raised.value.code == "invalid_note"
    with pytest.raises(Invalid) as raised:
        schedule(factory, tenant, conversation_id, due, note="nul\x00byte")
    assert raised.value.code == "invalid_text"
    # 2000 characters after trimming, however many bytes they take.
    assert schedule(factory, tenant, conversation_id, due, note="  " + "€" * 2000 + "\n").note == "€" * 2000
    with factory() as session:
        assert session.scalars(select(DueJob).where(DueJob.kind == "follow_up")).one().payload["note"] == "€" * 2000


def test_another_shops_conversation_does_not_exist(client: TestClient, factory: sessionmaker[Session],
                                                   tenant: Tenant, other_tenant: Tenant,
                                                   frozen_clock: clock.FrozenClock) -> None:
    theirs = new_conversation(client, other_tenant)
    mine = new_conversation(client, tenant)
    their_follow_up = schedule(factory, other_tenant, theirs, frozen_clock.current + dt.timedelta(days=1))
    with pytest.raises(NotFound):
        schedule(factory, tenant, theirs, frozen_clock.current + dt.timedelta(days=1))
    with factory() as session, pytest.raises(NotFound):
        follow_up_service.cancel(session, actor(factory, tenant), theirs, their_follow_up.id)
    with factory() as session, pytest.raises(NotFound):  # their follow-up through my conversation
        follow_up_service.cancel(session, actor(factory, tenant), mine, their_follow_up.id)


def test_a_conversation_has_at_most_twenty_waiting(client: TestClient, factory: sessionmaker[Session],
                                                   tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    conversation_id = new_conversation(client, tenant)
    for day in range(1, 21):
        schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(days=day))
    with pytest.raises(Conflict) as raised:
        schedule(factory, tenant, conversation_id, frozen_clock.current + dt.timedelta(days=30))
    assert raised.value.code == "too_many_follow_ups"
    assert len(notes(client, tenant, conversation_id)) == 20
