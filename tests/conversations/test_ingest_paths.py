"""The ordinary messages (a known customer into their open conversation, a new customer) and
the cases beside them: the same outcome on SQLite and PostgreSQL, where PostgreSQL stores the
ordinary ones with one statement (balie.conversations.ingest_pg) and the rest on the general path."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents.service import Actor
from balie.conversations import service as conversation_service
from balie.conversations.ingest import InboundMessage, IngestResult, ingest
from balie.conversations.models import Conversation, Message
from balie.customers import service as customer_service
from balie.customers.models import Customer, Identity
from balie.customers.service import normalise
from factories import Tenant
from statements import counting

EMAIL = normalise("email", "klant@example.nl")
# The one-statement path and the row locks under test are PostgreSQL's (SQLite has no
# data-modifying CTEs and serialises writers).
ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def inbound(tenant: Tenant, text: str = "Hallo", **kwargs: object) -> InboundMessage:
    kwargs.setdefault("identities", [EMAIL])
    kwargs.setdefault("channel", "api")
    return InboundMessage(shop_id=tenant.shop_id, text=text, **kwargs)  # type: ignore[arg-type]


def receive(factory: sessionmaker[Session], message: InboundMessage) -> IngestResult:
    with factory() as session, session.begin():
        return ingest(session, message)


def test_new_customer_gets_customer_identities_and_conversation(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    phone = normalise("phone", "06 1234 5678")
    result = receive(factory, inbound(tenant, "Waar blijft mijn pakket?", customer_name=" Klaas Klant ",
                                      identities=[EMAIL, phone], subject="Bestelling 1001"))
    with factory() as session:
        customer = session.get_one(Customer, result.customer_id)
        assert customer.name == "Klaas Klant"
        kinds = {(i.kind, i.value) for i in customer_service.identities(
            session, shop_id=tenant.shop_id, customer_id=customer.id)}
        assert kinds == {("email", "klant@example.nl"), ("phone", "+31612345678")}
        conversation = session.get_one(Conversation, result.conversation_id)
        assert (conversation.customer_id, conversation.status, conversation.channel) == (customer.id, "open", "api")
        assert conversation.subject == "Bestelling 1001"
        assert conversation.preview == "Waar blijft mijn pakket?"
        assert conversation.message_count == 1
        assert conversation.waiting_since == conversation.last_activity_at
        message = session.get_one(Message, result.message_id)
        assert (message.direction, message.author_customer_id, message.text) == (
            "in", customer.id, "Waar blijft mijn pakket?")


def test_subject_defaults_to_the_start_of_the_text(factory: sessionmaker[Session], tenant: Tenant) -> None:
    result = receive(factory, inbound(tenant, "Kan ik mijn bestelling nog wijzigen?"))
    with factory() as session:
        assert session.get_one(Conversation, result.conversation_id).subject == "Kan ik mijn bestelling nog wijzigen?"


def test_known_customer_writing_again_updates_the_conversation(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    first = receive(factory, inbound(tenant, "Eerste vraag"))
    frozen_clock.advance(minutes=5)
    second = receive(factory, inbound(tenant, "Tweede vraag", external_id="m-2"))
    assert (second.conversation_id, second.customer_id, second.created) == (
        first.conversation_id, first.customer_id, True)
    with factory() as session:
        conversation = session.get_one(Conversation, first.conversation_id)
        assert conversation.message_count == 2
        assert conversation.preview == "Tweede vraag"
        assert conversation.last_activity_at == clock.now()
        assert conversation.waiting_since == clock.now() - dt.timedelta(minutes=5)  # waiting since the first


@pytest.mark.parametrize("status", ["pending", "snoozed"])
def test_customer_writing_reopens_pending_and_snoozed(
    factory: sessionmaker[Session], tenant: Tenant, status: str
) -> None:
    first = receive(factory, inbound(tenant))
    with factory() as session, session.begin():
        conversation = session.get_one(Conversation, first.conversation_id)
        conversation.status, conversation.waiting_since = status, None
        conversation.snoozed_until = clock.now() + dt.timedelta(hours=1) if status == "snoozed" else None
    again = receive(factory, inbound(tenant, "Nog iets"))
    assert again.conversation_id == first.conversation_id
    with factory() as session:
        conversation = session.get_one(Conversation, first.conversation_id)
        assert (conversation.status, conversation.snoozed_until) == ("open", None)
        assert conversation.waiting_since is not None


def test_quiet_message_leaves_a_pending_conversation_pending(factory: sessionmaker[Session], tenant: Tenant) -> None:
    first = receive(factory, inbound(tenant))
    with factory() as session, session.begin():
        conversation = session.get_one(Conversation, first.conversation_id)
        conversation.status, conversation.waiting_since = "pending", None
    auto = receive(factory, inbound(tenant, "Ik ben afwezig", quiet=True, flags=["auto_reply"]))
    assert auto.conversation_id == first.conversation_id
    with factory() as session:
        conversation = session.get_one(Conversation, first.conversation_id)
        assert (conversation.status, conversation.waiting_since, conversation.message_count) == ("pending", None, 2)
        assert session.get_one(Message, auto.message_id).flags == "auto_reply"


def test_name_fills_in_a_nameless_customer_but_never_overwrites(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    first = receive(factory, inbound(tenant))
    receive(factory, inbound(tenant, "Ik ben Klaas", customer_name="Klaas"))
    receive(factory, inbound(tenant, "Of toch niet", customer_name="Iemand Anders"))
    with factory() as session:
        assert session.get_one(Customer, first.customer_id).name == "Klaas"


def test_new_identity_beside_a_known_one_joins_that_customer(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    first = receive(factory, inbound(tenant))
    shop_id = normalise("external", "cust-77")
    again = receive(factory, inbound(tenant, "Mijn klantnummer", identities=[EMAIL, shop_id]))
    assert (again.customer_id, again.conversation_id) == (first.customer_id, first.conversation_id)
    with factory() as session:
        owner = session.scalar(select(Identity.customer_id).where(Identity.kind == "external"))
        assert owner == first.customer_id


def test_with_two_open_conversations_the_latest_one_gets_the_message(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    older = receive(factory, inbound(tenant, "Oude vraag"))
    with factory() as session, session.begin():
        newer = Conversation(shop_id=tenant.shop_id, customer_id=older.customer_id, channel="api",
                             subject="Door een agent begonnen", status="open",
                             last_activity_at=clock.now() + dt.timedelta(minutes=1))
        session.add(newer)
        session.flush()
        newer_id = newer.id
    result = receive(factory, inbound(tenant, "Antwoord"))
    assert result.conversation_id == newer_id


def test_same_external_id_is_the_same_message(factory: sessionmaker[Session], tenant: Tenant) -> None:
    first = receive(factory, inbound(tenant, external_id="shop-msg-1"))
    again = receive(factory, inbound(tenant, "Anders geschreven", external_id="shop-msg-1"))
    assert (again.message_id, again.conversation_id, again.customer_id, again.created) == (
        first.message_id, first.conversation_id, first.customer_id, False)
    new_customer_same_id = receive(factory, inbound(tenant, identities=[normalise("email", "ander@example.nl")],
                                                    external_id="shop-msg-1"))
    assert new_customer_same_id.message_id == first.message_id
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert session.get_one(Conversation, first.conversation_id).message_count == 1


# --- PostgreSQL: the ordinary message is one statement, and stays correct under load --------


@ONLY_POSTGRESQL
def test_ordinary_messages_take_one_statement_on_postgresql(
    factory: sessionmaker[Session], tenant: Tenant, database_url: str
) -> None:
    with counting(factory) as new_customer:
        receive(factory, inbound(tenant, "Eerste bericht"))
    with counting(factory) as known_customer:
        receive(factory, inbound(tenant, "Tweede bericht"))
    assert len(new_customer) == 1, new_customer
    assert len(known_customer) == 1, known_customer


def _together(count: int, work: Callable[[int], None]) -> None:
    """Runs work(0..count-1) in threads released at the same moment; re-raises the first error."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(index)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


def _counts_agree(session: Session) -> bool:
    wrong = session.scalar(
        select(func.count()).select_from(Conversation).where(
            Conversation.message_count != select(func.count()).where(
                Message.conversation_id == Conversation.id).scalar_subquery()))
    return wrong == 0


@ONLY_POSTGRESQL
def test_messages_while_an_agent_resolves_are_all_kept(
    factory: sessionmaker[Session], tenant: Tenant, database_url: str
) -> None:
    first = receive(factory, inbound(tenant))
    actor = Actor(agent_id=tenant.agent_id, shop_id=tenant.shop_id, role="admin", email=tenant.email, name="Ada")

    def work(index: int) -> None:
        if index == 0:
            with factory() as session, session.begin():
                conversation_service.update(session, actor, first.conversation_id,
                                            conversation_service.Changes(status="resolved"))
            return
        with factory() as session:
            # The API's retry: a new conversation raced by another message is found the second time.
            for attempt in range(2):
                try:
                    with session.begin():
                        ingest(session, inbound(tenant, f"bericht {index}", external_id=f"r-{index}"))
                    break
                except Exception:
                    if attempt:
                        raise

    _together(9, work)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 9
        assert _counts_agree(session)
        active = session.scalar(select(func.count()).select_from(Conversation).where(
            Conversation.status.in_(("open", "pending", "snoozed"))))
        assert active is not None and active <= 1


@ONLY_POSTGRESQL
def test_messages_during_a_merge_all_end_up_with_the_survivor(
    factory: sessionmaker[Session], tenant: Tenant, database_url: str
) -> None:
    anna_mail = normalise("email", "anna@example.nl")
    anna_phone = normalise("phone", "0612345678")
    survivor = receive(factory, inbound(tenant, identities=[anna_mail]))
    other = receive(factory, inbound(tenant, identities=[anna_phone]))

    def work(index: int) -> None:
        if index == 0:
            with factory() as session, session.begin():
                customer_service.merge(
                    session, shop_id=tenant.shop_id, actor_agent_id=tenant.agent_id,
                    survivor=session.get_one(Customer, survivor.customer_id),
                    other=session.get_one(Customer, other.customer_id))
            return
        with factory() as session, session.begin():
            ingest(session, inbound(tenant, f"via telefoon {index}", identities=[anna_phone]))

    _together(7, work)
    with factory() as session:
        authors = set(session.scalars(select(Message.author_customer_id).where(Message.direction == "in")))
        owners = set(session.scalars(select(Conversation.customer_id)))
        assert authors == {survivor.customer_id}
        assert owners == {survivor.customer_id}
        assert session.scalar(select(func.count()).select_from(Message)) == 8
        assert _counts_agree(session)
