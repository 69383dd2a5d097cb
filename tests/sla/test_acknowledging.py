"""The automatic acknowledgement sent after a customer's message: stored in the conversation
and queued in the outbox, in the customer's language, once per QUIET_HOURS, never for
automatic mail, blocked customers or a channel that has it off; and it is no answer."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations import received
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Conversation, Message
from balie.customers import blocking
from balie.customers.service import normalise
from balie.outbox.models import OutboxEntry
from balie.scheduling import runner
from balie.shops.models import Shop
from balie.sla import acknowledgement_settings, acknowledging
from balie.worker import HANDLERS
from factories import Tenant, post_message

SOON_NL = "We hebben je bericht ontvangen en antwoorden zo snel mogelijk."
SOON_EN = "We have received your message and will answer as soon as we can."


def turn_on(factory: sessionmaker[Session], tenant: Tenant, channel: str = "api") -> None:
    with factory() as session, session.begin():
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel=channel, on=True,
                                             actor_agent_id=tenant.agent_id)


def outbound(client: TestClient, tenant: Tenant, conversation_id: object) -> list[dict[str, object]]:
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    return [message for message in detail["messages"] if message["direction"] == "out"]


def test_off_by_default(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    runner.run_due(factory, HANDLERS)
    assert outbound(client, tenant, conversation_id) == []
    with factory() as session:
        assert acknowledgement_settings.for_shop(session, tenant.shop_id) == {"email": False, "chat": False,
                                                                              "api": False}


def test_when_on_it_is_stored_queued_and_is_no_answer(client: TestClient, tenant: Tenant,
                                                      factory: sessionmaker[Session],
                                                      frozen_clock: clock.FrozenClock) -> None:
    turn_on(factory, tenant)
    conversation_id = post_message(client, tenant, text="Waar blijft mijn pakket? Ik heb het vorige week besteld.")[
        "conversation_id"]
    runner.run_due(factory, HANDLERS)

    [ack] = outbound(client, tenant, conversation_id)
    # The API channel keeps the e-mail promise (24 h); this shop has no opening hours, so they
    # count around the clock: 11:00 tomorrow in Amsterdam.
    assert ack["text"] == "We hebben je bericht ontvangen. Je hoort uiterlijk morgen om 11:00 van ons."
    assert ack["flags"] == ["acknowledgement"] and ack["author_type"] == "system" and ack["author_id"] is None
    assert ack["delivery_state"] == "queued"
    with factory() as session:
        [entry] = session.scalars(select(OutboxEntry)).all()
        assert (entry.message_id, entry.channel, entry.status) == (ack["id"], "api", "pending")
        conversation = session.get_one(Conversation, conversation_id)
        # Still waiting for a person: no first response, the waiting time and the preview unchanged.
        assert conversation.first_response_at is None
        assert conversation.waiting_since == dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
        assert conversation.preview.startswith("Waar blijft") and conversation.message_count == 2


def test_the_moment_from_the_sla_is_named_in_the_customers_language(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    client.put("/api/v1/sla/policy", headers=tenant.headers, json={"targets": [
        {"channel": "api", "priority": "normal", "kind": "first_response", "minutes": 90, "business": False}]})
    turn_on(factory, tenant)
    dutch = post_message(client, tenant, text="Waar blijft mijn pakket?")["conversation_id"]
    english = post_message(client, tenant, customer={"email": "john@example.com"},
                           text="Where is my parcel? I ordered it last week.")["conversation_id"]
    runner.run_due(factory, HANDLERS)

    # 10:00 UTC + 90 minutes = 12:30 in Amsterdam, today.
    assert [m["text"] for m in outbound(client, tenant, dutch)] == [
        "We hebben je bericht ontvangen. Je hoort uiterlijk vandaag om 12:30 van ons."]
    assert [m["text"] for m in outbound(client, tenant, english)] == [
        "We have received your message. You will hear from us by 12:30 today."]


def test_without_a_promise_it_says_as_soon_as_we_can(client: TestClient, tenant: Tenant,
                                                     factory: sessionmaker[Session]) -> None:
    assert client.put("/api/v1/sla/policy", headers=tenant.headers, json={"targets": []}).status_code == 200
    turn_on(factory, tenant)
    conversation_id = post_message(client, tenant, text="Waar blijft mijn pakket?")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    assert [m["text"] for m in outbound(client, tenant, conversation_id)] == [SOON_NL]


def test_language_unknown_falls_back_to_the_shops(client: TestClient, tenant: Tenant,
                                                  factory: sessionmaker[Session]) -> None:
    turn_on(factory, tenant)
    with factory() as session, session.begin():
        session.get_one(Shop, tenant.shop_id).language = "en"
    conversation_id = post_message(client, tenant, text="Top!")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    [ack] = outbound(client, tenant, conversation_id)
    assert ack["text"].startswith("We have received your message.")


def test_once_within_quiet_hours_then_again(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                            frozen_clock: clock.FrozenClock) -> None:
    turn_on(factory, tenant)
    conversation_id = post_message(client, tenant, text="Waar blijft mijn pakket?")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    frozen_clock.advance(hours=3, minutes=59)
    post_message(client, tenant, text="Hallo? Is daar iemand?")
    runner.run_due(factory, HANDLERS)
    assert len(outbound(client, tenant, conversation_id)) == 1

    frozen_clock.advance(minutes=2)
    post_message(client, tenant, text="Ik wacht nog steeds op een antwoord.")
    runner.run_due(factory, HANDLERS)
    assert len(outbound(client, tenant, conversation_id)) == 2


def test_a_message_handled_twice_is_acknowledged_once(client: TestClient, tenant: Tenant,
                                                      factory: sessionmaker[Session],
                                                      frozen_clock: clock.FrozenClock) -> None:
    turn_on(factory, tenant)
    posted = post_message(client, tenant, text="Waar blijft mijn pakket?")
    with factory() as session, session.begin():  # a second job about the same message
        received.schedule(session, shop_id=tenant.shop_id, message_id=int(str(posted["message_id"])),
                          now=clock.now() - dt.timedelta(seconds=1))
    outcomes = runner.run_due(factory, HANDLERS)
    assert [outcome.state for outcome in outcomes] == ["done", "done"]
    assert len(outbound(client, tenant, posted["conversation_id"])) == 1


@pytest.mark.parametrize("flag", ["auto_reply", "bounce"])
def test_automatic_mail_gets_none(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                  flag: str) -> None:
    turn_on(factory, tenant, "email")
    with factory() as session, session.begin():
        result = ingest(session, InboundMessage(
            shop_id=tenant.shop_id, channel="email", identities=[normalise("email", "klant@example.nl")],
            text="Ik ben afwezig tot maandag.", subject="Afwezig", external_id=f"<{flag}@example.nl>",
            flags=[flag], quiet=True))
    runner.run_due(factory, HANDLERS)
    assert outbound(client, tenant, result.conversation_id) == []


def test_the_setting_is_per_channel(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    turn_on(factory, tenant, "email")
    conversation_id = post_message(client, tenant)["conversation_id"]  # the API channel: still off
    runner.run_due(factory, HANDLERS)
    assert outbound(client, tenant, conversation_id) == []


def test_a_blocked_customer_gets_none_even_when_asked_directly(client: TestClient, tenant: Tenant,
                                                               factory: sessionmaker[Session]) -> None:
    turn_on(factory, tenant)
    posted = post_message(client, tenant)
    with factory() as session, session.begin():
        blocking.block(session, shop_id=tenant.shop_id, customer_id=int(str(posted["customer_id"])), mode="muted",
                       actor_agent_id=None)
        conversation = session.get_one(Conversation, posted["conversation_id"])
        message = session.get_one(Message, posted["message_id"])
        assert acknowledging.maybe_acknowledge(session, conversation, message) is None


def test_switching_is_audited_and_checked(factory: sessionmaker[Session], tenant: Tenant) -> None:
    from balie.errors import Invalid

    with factory() as session, session.begin():
        assert acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="chat", on=False,
                                                    actor_agent_id=None) is False  # already off
        assert acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="chat", on=True,
                                                    actor_agent_id=None) is True
        assert acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="chat", on=True,
                                                    actor_agent_id=None) is False
        with pytest.raises(Invalid) as error:
            acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="phone", on=True,
                                                 actor_agent_id=None)
        assert error.value.code == "invalid_channel"
        assert acknowledgement_settings.for_shop(session, tenant.shop_id)["chat"] is True


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer at a time
def test_two_workers_on_one_conversation_send_one(client: TestClient, tenant: Tenant,
                                                  factory: sessionmaker[Session]) -> None:
    """The second worker waits for the first one's lock, then sees its acknowledgement."""

    turn_on(factory, tenant)
    first = post_message(client, tenant, text="Waar blijft mijn pakket?")
    second = post_message(client, tenant, text="Hallo? Ik wacht nog steeds.")
    results: list[Message | None] = []

    def other_worker() -> None:
        with factory() as session, session.begin():
            conversation = session.get_one(Conversation, second["conversation_id"])
            results.append(acknowledging.maybe_acknowledge(session, conversation,
                                                           session.get_one(Message, second["message_id"])))

    with factory() as session, session.begin():
        conversation = session.get_one(Conversation, first["conversation_id"])
        assert acknowledging.maybe_acknowledge(session, conversation,
                                               session.get_one(Message, first["message_id"])) is not None
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive()  # waiting for this transaction's lock
    worker.join(timeout=30)
    assert results == [None]
    assert len(outbound(client, tenant, first["conversation_id"])) == 1
