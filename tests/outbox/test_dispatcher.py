"""Delivering replies through the outbox to a real webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.outbox import dispatcher
from balie.outbox.models import OutboxEntry
from balie.shops.models import Shop
from factories import Tenant, make_tenant, post_message
from webhooks import Receiver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


@pytest.fixture
def shop(factory: sessionmaker[Session], receiver: Receiver) -> Tenant:
    return make_tenant(factory, name="Webhook Winkel", webhook_url=receiver.url)


def reply(client: TestClient, tenant: Tenant, text: str = "Komt eraan!") -> tuple[int, int]:
    conversation_id = post_message(client, tenant)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation_id}/replies", headers=tenant.headers,
                           json={"text": text})
    assert response.status_code == 202
    return conversation_id, response.json()["id"]


def message_state(client: TestClient, tenant: Tenant, conversation_id: int, message_id: int) -> dict[str, object]:
    messages = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()["messages"]
    return next(m for m in messages if m["id"] == message_id)  # type: ignore[no-any-return]


def test_reply_is_delivered_signed_once(app: FastAPI, client: TestClient, shop: Tenant, receiver: Receiver,
                                        factory: sessionmaker[Session]) -> None:
    conversation_id, message_id = reply(client, shop)
    assert app.state.worker.run_once() >= 1
    assert app.state.worker.run_once() == 0  # nothing left: a sent message is never sent again
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    with factory() as session:
        secret = session.get_one(Shop, shop.shop_id).webhook_secret
    expected = hmac.new(secret.encode(), headers["x-balie-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-balie-signature"] == "sha256=" + expected.hexdigest()
    assert b"Komt eraan!" in body
    assert message_state(client, shop, conversation_id, message_id)["delivery_state"] == "sent"


def test_temporary_failures_are_retried_with_backoff(
    app: FastAPI, client: TestClient, shop: Tenant, receiver: Receiver, frozen_clock: clock.FrozenClock
) -> None:
    receiver.statuses = [503, 503]
    conversation_id, message_id = reply(client, shop)
    app.state.worker.run_once()
    state = message_state(client, shop, conversation_id, message_id)
    assert state["delivery_state"] == "queued" and "503" in str(state["delivery_error"])
    app.state.worker.run_once()
    assert len(receiver.received) == 1  # not due yet: backing off
    frozen_clock.advance(seconds=7)
    app.state.worker.run_once()
    assert len(receiver.received) == 2
    frozen_clock.advance(seconds=7)
    app.state.worker.run_once()
    assert len(receiver.received) == 2  # the second wait is longer (about 10 s)
    frozen_clock.advance(seconds=7)
    app.state.worker.run_once()
    assert len(receiver.received) == 3
    assert message_state(client, shop, conversation_id, message_id)["delivery_state"] == "sent"
    delivery_ids = {headers["x-balie-delivery"] for headers, _ in receiver.received}
    assert len(delivery_ids) == 1  # the same delivery id every time, so the receiver can drop repeats


def test_permanent_failure_is_shown_to_the_agent(
    app: FastAPI, client: TestClient, shop: Tenant, receiver: Receiver
) -> None:
    receiver.statuses = [410]
    conversation_id, message_id = reply(client, shop)
    app.state.worker.run_once()
    state = message_state(client, shop, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "410" in str(state["delivery_error"])
    assert app.state.worker.run_once() == 0


def test_unreachable_receiver_is_retried_then_fails(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    tenant = make_tenant(factory, webhook_url="http://127.0.0.1:9/nobody-listens")
    conversation_id, message_id = reply(client, tenant)
    outcomes = dispatcher.dispatch_once(factory, max_attempts=3)
    assert [o.status for o in outcomes] == ["pending"]
    for _ in range(2):
        frozen_clock.advance(hours=1)
        outcomes = dispatcher.dispatch_once(factory, max_attempts=3)
    assert [o.status for o in outcomes] == ["failed"]
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "unreachable" in str(state["delivery_error"])


def test_shop_without_webhook_gets_a_clear_failure(app: FastAPI, client: TestClient, tenant: Tenant) -> None:
    conversation_id, message_id = reply(client, tenant)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed"
    assert state["delivery_error"] == "no webhook URL configured for the API channel"


def test_a_claimed_entry_is_not_delivered_by_a_second_worker(
    client: TestClient, shop: Tenant, receiver: Receiver, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    reply(client, shop)
    # Worker A claims the entry and is killed before it delivers or records anything.
    with factory() as session, session.begin():
        claimed = dispatcher._claim(session, 10)
    assert len(claimed) == 1
    assert dispatcher.dispatch_once(factory) == []  # worker B: nothing to take while A's lease holds
    assert receiver.received == []
    frozen_clock.advance(seconds=dispatcher.LEASE.total_seconds() + 1)
    outcomes = dispatcher.dispatch_once(factory)  # A's lease expired: B delivers it, once
    assert [o.status for o in outcomes] == ["sent"]
    assert len(receiver.received) == 1
    with factory() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.attempts == 2 and entry.status == "sent"
        session.execute(update(OutboxEntry).values(locked_until=None))
    assert dispatcher.dispatch_once(factory) == []


def test_a_worker_whose_lease_ran_out_cannot_undo_the_next_ones_outcome(
    client: TestClient, shop: Tenant, receiver: Receiver, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    reply(client, shop)
    with factory() as session, session.begin():
        (entry_id,) = dispatcher._claim(session, 10)  # worker A: claim 1, then stuck for too long
    frozen_clock.advance(seconds=dispatcher.LEASE.total_seconds() + 1)
    assert [o.status for o in dispatcher.dispatch_once(factory)] == ["sent"]  # worker B: claim 2
    with factory() as session, session.begin():  # A finally comes back with a timeout
        assert dispatcher._record(session, entry_id, 1, "retry", "timed out", 8) is None
    with factory() as session:
        assert session.get_one(OutboxEntry, entry_id).status == "sent"
    frozen_clock.advance(hours=2)
    assert dispatcher.dispatch_once(factory) == []
    assert len(receiver.received) == 1


def test_an_entry_that_keeps_killing_its_worker_is_given_up(
    client: TestClient, shop: Tenant, receiver: Receiver, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    conversation_id, message_id = reply(client, shop)
    for _ in range(3):  # three workers die while delivering it
        with factory() as session, session.begin():
            dispatcher._claim(session, 10)
        frozen_clock.advance(seconds=dispatcher.LEASE.total_seconds() + 1)
    assert [o.status for o in dispatcher.dispatch_once(factory, max_attempts=3)] == ["failed"]
    assert receiver.received == []
    state = message_state(client, shop, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "interrupted" in str(state["delivery_error"])
