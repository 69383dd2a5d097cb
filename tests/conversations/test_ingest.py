"""The one way in: dedupe, customer resolution, threading and reopening, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations.ingest import InboundFile, InboundMessage, ingest
from balie.conversations.models import Attachment, Conversation, Message
from balie.customers.models import Customer
from balie.customers.service import normalise
from balie.errors import Invalid
from balie.events import Bus, Event, session_info
from balie.storage import FileStore
from factories import Tenant


def inbound(tenant: Tenant, text: str = "Hallo", channel: str = "api", **kwargs: object) -> InboundMessage:
    identities = kwargs.pop("identities", [normalise("email", "klant@example.nl")])
    return InboundMessage(shop_id=tenant.shop_id, channel=channel, identities=identities,  # type: ignore[arg-type]
                          text=text, **kwargs)  # type: ignore[arg-type]


def test_resolved_conversation_reopens_within_window_and_not_after(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        first = ingest(session, inbound(tenant))
        session.get_one(Conversation, first.conversation_id).status = "resolved"
        session.get_one(Conversation, first.conversation_id).resolved_at = clock.now()
    frozen_clock.advance(days=6)
    with factory() as session, session.begin():
        again = ingest(session, inbound(tenant, "Toch nog een vraag"))
        conversation = session.get_one(Conversation, again.conversation_id)
        assert again.conversation_id == first.conversation_id
        assert conversation.status == "open"
        conversation.status = "resolved"
        conversation.resolved_at = clock.now()
    frozen_clock.advance(days=7, seconds=1)
    with factory() as session, session.begin():
        later = ingest(session, inbound(tenant, "Nieuwe bestelling"))
        assert later.conversation_id != first.conversation_id
        assert later.customer_id == first.customer_id


def test_closed_conversation_never_reopens(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        first = ingest(session, inbound(tenant))
        session.get_one(Conversation, first.conversation_id).status = "closed"
    with factory() as session, session.begin():
        assert ingest(session, inbound(tenant, "Nog iets")).conversation_id != first.conversation_id


def test_each_channel_threads_separately(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        by_api = ingest(session, inbound(tenant, channel="api"))
        by_chat = ingest(session, inbound(tenant, channel="chat"))
    assert by_api.customer_id == by_chat.customer_id
    assert by_api.conversation_id != by_chat.conversation_id


def test_message_with_identities_of_two_customers_merges_them(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    email, phone = normalise("email", "anna@example.nl"), normalise("phone", "0612345678")
    with factory() as session, session.begin():
        by_mail = ingest(session, inbound(tenant, identities=[email]))
        by_phone = ingest(session, inbound(tenant, channel="whatsapp", identities=[phone]))
    assert by_mail.customer_id != by_phone.customer_id
    with factory() as session, session.begin():
        both = ingest(session, inbound(tenant, "Ik ben het", channel="chat", identities=[phone, email]))
    with factory() as session:
        survivor = session.get_one(Customer, both.customer_id)
        absorbed = session.get_one(Customer, by_phone.customer_id)
        assert survivor.id == by_mail.customer_id  # the oldest customer survives
        assert absorbed.merged_into_id == survivor.id
        owners = set(session.scalars(select(Conversation.customer_id).where(Conversation.shop_id == tenant.shop_id)))
        assert owners == {survivor.id}
        authors = set(session.scalars(select(Message.author_customer_id).where(Message.direction == "in")))
        assert authors == {survivor.id}


def test_empty_message_and_unknown_channel_are_refused(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session:
        with pytest.raises(Invalid):
            ingest(session, inbound(tenant, "   "))
        with pytest.raises(Invalid):
            ingest(session, inbound(tenant, channel="pigeon"))
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_html_is_sanitised_and_turned_into_text(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        result = ingest(session, inbound(tenant, "", html='<p>Hoi <b>daar</b></p><script>alert(1)</script>'
                                         '<a href="javascript:alert(2)" onclick="x()">klik</a>'))
        message = session.get_one(Message, result.message_id)
        assert message.text == "Hoi daar\n\nklik"
        assert message.html is not None
        assert "script" not in message.html and "javascript:" not in message.html
        assert "onclick" not in message.html


def test_attachments_are_stored_on_disk_and_referenced(
    factory: sessionmaker[Session], tenant: Tenant, tmp_path: object
) -> None:
    store = FileStore(tmp_path)  # type: ignore[arg-type]
    data = b"%PDF-1.4 factuur"
    with factory() as session, session.begin():
        result = ingest(session, inbound(tenant, "Zie bijlage", files=[
            InboundFile("factuur.pdf", "application/pdf", data)]), store=store)
    with factory() as session:
        attachment = session.scalars(select(Attachment).where(Attachment.message_id == result.message_id)).one()
        assert attachment.filename == "factuur.pdf" and attachment.size == len(data)
        assert store.open(attachment.path) == data


def test_events_go_out_after_commit_and_never_after_rollback(
    settings: object, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    bus = Bus()
    seen: list[Event] = []
    bus.add_listener(seen.append)
    publishing = sessionmaker(factory.kw["bind"], expire_on_commit=False, info=session_info(bus))
    with publishing() as session:
        ingest(session, inbound(tenant, "teruggedraaid"))
        session.flush()
        assert seen == []
        session.rollback()
    assert seen == []
    with publishing() as session, session.begin():
        result = ingest(session, inbound(tenant, "bewaard"))
        assert seen == []
    assert [(e.type, e.data["message_id"]) for e in seen] == [("message.created", result.message_id)]


def test_shop_reopen_window_setting_wins(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    from balie.shops.models import Shop

    with factory() as session, session.begin():
        session.get_one(Shop, tenant.shop_id).reopen_window_days = 1
        first = ingest(session, inbound(tenant))
        conversation = session.get_one(Conversation, first.conversation_id)
        conversation.status, conversation.resolved_at = "resolved", clock.now()
    frozen_clock.advance(days=2)
    with factory() as session, session.begin():
        assert ingest(session, inbound(tenant, "weer")).conversation_id != first.conversation_id
        assert ingest(session, inbound(tenant, "weer")).conversation_id != first.conversation_id


def test_explicit_threading_follows_references_then_subject_number(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    def mail(text: str, **kwargs: object) -> InboundMessage:
        return inbound(tenant, text, channel="email", explicit_threading=True, **kwargs)

    with factory() as session, session.begin():
        first = ingest(session, mail("Vraag een", external_id="<a@klant.nl>"))
        other = ingest(session, mail("Vraag twee", external_id="<b@klant.nl>"))
        assert other.conversation_id != first.conversation_id  # no reference: a new conversation
        reply = ingest(session, mail("Antwoord op een", external_id="<c@klant.nl>",
                                     references=["<c0@elders>", "<a@klant.nl>"]))
        assert reply.conversation_id == first.conversation_id
        by_number = ingest(session, mail("Over #2", external_id="<d@klant.nl>",
                                         conversation_ref=other.conversation_id))
        assert by_number.conversation_id == other.conversation_id


def test_subject_number_of_another_customer_is_not_followed(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        theirs = ingest(session, inbound(tenant, "Van Anna", channel="email", explicit_threading=True,
                                         identities=[normalise("email", "anna@example.nl")]))
        mine = ingest(session, inbound(tenant, "Van Bob [#1]", channel="email", explicit_threading=True,
                                       identities=[normalise("email", "bob@example.nl")],
                                       conversation_ref=theirs.conversation_id))
        assert mine.conversation_id != theirs.conversation_id


def test_quiet_message_reopens_nothing(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        first = ingest(session, inbound(tenant, "Vraag", channel="email", explicit_threading=True,
                                        external_id="<q1@klant.nl>"))
        conversation = session.get_one(Conversation, first.conversation_id)
        conversation.status, conversation.waiting_since, conversation.resolved_at = "resolved", None, clock.now()
    with factory() as session, session.begin():
        auto = ingest(session, inbound(tenant, "Ik ben afwezig", channel="email", explicit_threading=True,
                                       external_id="<q2@klant.nl>", references=["<q1@klant.nl>"], quiet=True,
                                       flags=["auto_reply"]))
        assert auto.conversation_id == first.conversation_id
    with factory() as session:
        conversation = session.get_one(Conversation, first.conversation_id)
        assert conversation.status == "resolved" and conversation.waiting_since is None
        assert session.get_one(Message, auto.message_id).flags == "auto_reply"
