"""When Balie invites: each trigger, rules in order, one invitation per visit, none during a
conversation or when nobody can answer in time; hostile page events and forged answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from invitation_support import add_rule, invitations, new_visit, new_visitor, page, reachable
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents.models import Agent
from balie.channels.chat import service as chat_service
from balie.channels.chat.models import ChatVisitor
from balie.conversations.models import Conversation, Message
from balie.errors import Invalid, NotFound
from balie.proactive import rules
from balie.proactive import service as proactive_service
from balie.proactive.models import Invitation, PageEvent
from factories import Tenant


@pytest.fixture
def shop(factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> Tenant:
    reachable(factory, tenant)
    return tenant


def test_checkout_hesitation_invites_once_after_the_threshold(
    factory: sessionmaker[Session], shop: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    add_rule(factory, shop, "checkout_idle", "60", message_nl="Kan ik je helpen met je bestelling?")
    visitor = new_visitor(factory, shop)
    assert page(factory, visitor, "cart", url="https://shop.example/cart", cart_value=80) is None
    assert page(factory, visitor, "checkout", url="https://shop.example/checkout", checkout_step="address") is None
    frozen_clock.advance(seconds=40)
    assert page(factory, visitor, "checkout", checkout_step="address") is None  # a reload is no progress
    frozen_clock.advance(seconds=19)
    assert page(factory, visitor) is None  # 59 s

    frozen_clock.advance(seconds=1)
    offer = page(factory, visitor)

    assert offer is not None and offer.action == "chat" and offer.text == "Kan ik je helpen met je bestelling?"
    frozen_clock.advance(seconds=120)
    assert page(factory, visitor) is None
    assert page(factory, visitor, "checkout", checkout_step="payment") is None
    assert [i.id for i in invitations(factory, visitor)] == [offer.invitation_id]


def test_progress_in_the_checkout_restarts_the_idle_time(
    factory: sessionmaker[Session], shop: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    add_rule(factory, shop, "checkout_idle", "60")
    visitor = new_visitor(factory, shop)
    page(factory, visitor, "checkout", checkout_step="address")
    frozen_clock.advance(seconds=50)
    page(factory, visitor, "checkout", checkout_step="shipping")
    frozen_clock.advance(seconds=50)
    assert page(factory, visitor) is None
    page(factory, visitor, "page_view", url="https://shop.example/faq")
    frozen_clock.advance(seconds=300)
    assert page(factory, visitor) is None  # not on a checkout page any more


def test_a_cart_worth_the_threshold_invites_in_the_visitors_language(
    factory: sessionmaker[Session], shop: Tenant
) -> None:
    add_rule(factory, shop, "cart_value", "150", message_nl="Hulp nodig?", message_en="Need a hand?")
    dutch, english = new_visitor(factory, shop), new_visitor(factory, shop, language="en")
    assert page(factory, dutch, "cart", cart_value=149.99) is None
    offer = page(factory, dutch, "cart", cart_value=150)
    assert offer is not None and offer.text == "Hulp nodig?"
    english_offer = page(factory, english, "checkout", cart_value=1200.5, checkout_step="address")
    assert english_offer is not None and english_offer.text == "Need a hand?"


def test_the_third_visit_to_the_same_product_invites(factory: sessionmaker[Session], shop: Tenant) -> None:
    add_rule(factory, shop, "product_views", "3", action="callback", message_nl="Zullen we je bellen?")
    visitor = new_visitor(factory, shop)
    assert page(factory, visitor, "product", product="SKU-1") is None
    assert page(factory, visitor, "product", product="SKU-1") is None  # the same visit counts once
    new_visit(factory, visitor)
    assert page(factory, visitor, "product", product="SKU-1") is None
    new_visit(factory, visitor)
    assert page(factory, visitor, "product", product="SKU-2") is None

    offer = page(factory, visitor, "product", product="SKU-1")

    assert offer is not None and offer.action == "callback" and offer.text == "Zullen we je bellen?"


def test_rules_apply_in_their_order_and_disabled_rules_not_at_all(
    factory: sessionmaker[Session], shop: Tenant
) -> None:
    disabled = add_rule(factory, shop, "cart_value", "10", name="off", enabled=False)
    first = add_rule(factory, shop, "cart_value", "100", name="big cart")
    second = add_rule(factory, shop, "cart_value", "50", name="some cart")
    with factory() as session, session.begin():
        rules.move(session, shop.shop_id, second, -1)
    with factory() as session:
        assert [r.id for r in rules.list_rules(session, shop.shop_id)] == [disabled, second, first]

    visitor = new_visitor(factory, shop)
    assert page(factory, visitor, "cart", cart_value=500) is not None
    assert [i.rule_id for i in invitations(factory, visitor)] == [second]


def test_one_invitation_per_visit_and_none_soon_after_on_a_new_visit(
    factory: sessionmaker[Session], shop: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    add_rule(factory, shop, "cart_value", "100")
    add_rule(factory, shop, "checkout_idle", "10")
    visitor = new_visitor(factory, shop)
    assert page(factory, visitor, "checkout", cart_value=300, checkout_step="address") is not None
    frozen_clock.advance(seconds=30)
    assert page(factory, visitor) is None

    new_visit(factory, visitor)  # the browser says so; it cannot buy a second invitation with it
    assert page(factory, visitor, "cart", cart_value=300) is None
    frozen_clock.advance(minutes=31)
    reachable(factory, shop)  # the agent is still there
    new_visit(factory, visitor)
    assert page(factory, visitor, "cart", cart_value=300) is not None
    assert [i.visit for i in invitations(factory, visitor)] == [1, 3]


def test_the_database_refuses_a_second_invitation_in_one_visit(
    factory: sessionmaker[Session], shop: Tenant
) -> None:
    rule = add_rule(factory, shop, "cart_value", "100")
    visitor = new_visitor(factory, shop)
    assert page(factory, visitor, "cart", cart_value=300) is not None
    from sqlalchemy.exc import IntegrityError

    with factory() as session, pytest.raises(IntegrityError):
        session.add(Invitation(shop_id=shop.shop_id, rule_id=rule, visitor_id=visitor, visit=1))
        session.flush()


def chat(app: Any, factory: sessionmaker[Session], visitor_id: int) -> int:
    with factory() as session, session.begin():
        visitor = session.get_one(ChatVisitor, visitor_id)
        return chat_service.visitor_message(session, app.state.context.store, visitor, text="Hallo",
                                            client_id="c1").conversation_id


def test_no_invitation_while_a_conversation_is_going(app: Any, factory: sessionmaker[Session], shop: Tenant) -> None:
    add_rule(factory, shop, "cart_value", "100")
    visitor = new_visitor(factory, shop)
    conversation_id = chat(app, factory, visitor)
    assert page(factory, visitor, "cart", cart_value=300) is None
    with factory() as session, session.begin():
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(status="pending"))
    assert page(factory, visitor) is None
    with factory() as session, session.begin():
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(status="resolved"))
    assert page(factory, visitor) is not None


def test_no_chat_invitation_when_nobody_can_answer_in_time(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    add_rule(factory, tenant, "cart_value", "100")
    visitor = new_visitor(factory, tenant)
    assert page(factory, visitor, "cart", cart_value=300) is None  # nothing set up, nobody online

    reachable(factory, tenant, online=False)
    assert page(factory, visitor) is None  # open, nobody online

    reachable(factory, tenant, hours="00:00-01:00")  # online, but closed (11:00 in Amsterdam)
    assert page(factory, visitor) is None

    reachable(factory, tenant)
    with factory() as session, session.begin():
        proactive_service.set_reply_target_seconds(session, tenant.shop_id, 60)
    assert page(factory, visitor) is None  # a chat takes 120 s by default: beyond the target

    with factory() as session, session.begin():
        proactive_service.set_reply_target_seconds(session, tenant.shop_id, 120)
    assert page(factory, visitor) is not None


def test_a_call_back_invitation_needs_call_back_hours_now_not_agents(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    add_rule(factory, tenant, "cart_value", "100", name="chat first")
    add_rule(factory, tenant, "cart_value", "100", action="callback", name="then a call")
    visitor = new_visitor(factory, tenant)
    reachable(factory, tenant, hours="00:00-01:00")
    assert page(factory, visitor, "cart", cart_value=300) is None  # call-backs closed: only tomorrow

    reachable(factory, tenant, online=False)
    with factory() as session, session.begin():
        session.execute(update(Agent).values(last_seen_at=None))
    offer = page(factory, visitor)  # nobody to chat, but a call-back can be promised now
    assert offer is not None and offer.action == "callback"


@pytest.mark.parametrize(("fields", "detail"), [
    ({"kind": "purchase"}, "kind"),
    ({"kind": None}, "kind"),
    ({"kind": ["checkout"]}, "kind"),
    ({"kind": "page_view", "url": "https://shop.example/" + "a" * 2000}, "url"),
    ({"kind": "page_view", "url": 12}, "url"),
    ({"kind": "product", "product": "x" * 201}, "product"),
    ({"kind": "product", "product": "SKU\x00"}, "product"),
    ({"kind": "cart", "cart_value": -1}, "cart_value"),
    ({"kind": "cart", "cart_value": "150"}, "cart_value"),
    ({"kind": "cart", "cart_value": True}, "cart_value"),
    ({"kind": "cart", "cart_value": float("nan")}, "cart_value"),
    ({"kind": "cart", "cart_value": float("inf")}, "cart_value"),
    ({"kind": "cart", "cart_value": 10**12}, "cart_value"),
    ({"kind": "checkout", "checkout_step": "s" * 65}, "checkout_step"),
    ({"kind": "checkout", "checkout_step": "\ud800"}, "checkout_step"),
])
def test_hostile_page_events_are_refused_with_a_reason(fields: dict[str, Any], detail: str) -> None:
    with pytest.raises(Invalid) as refused:
        proactive_service.report(**fields)
    assert refused.value.code in ("invalid_page", "invalid_text") and detail in refused.value.detail


def test_page_events_are_bounded_per_visitor(factory: sessionmaker[Session], shop: Tenant) -> None:
    visitor = new_visitor(factory, shop)
    with factory() as session, session.begin():
        row = session.get_one(ChatVisitor, visitor)
        for number in range(proactive_service.MAX_EVENTS_PER_VISITOR + 15):
            proactive_service.record(session, row, proactive_service.report("page_view", url=f"/p/{number}"))
    with factory() as session:
        urls = list(session.scalars(select(PageEvent.url).where(PageEvent.visitor_id == visitor)
                                    .order_by(PageEvent.id)))
    assert len(urls) == proactive_service.MAX_EVENTS_PER_VISITOR
    assert urls[0] == "/p/15" and urls[-1] == f"/p/{proactive_service.MAX_EVENTS_PER_VISITOR + 14}"


def test_answers_count_once_and_only_for_the_visitors_own_invitation(
    factory: sessionmaker[Session], shop: Tenant, other_tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    rule = add_rule(factory, shop, "cart_value", "100")
    visitor, someone_else = new_visitor(factory, shop), new_visitor(factory, shop)
    offer = page(factory, visitor, "cart", cart_value=300)
    assert offer is not None
    with factory() as session, session.begin():
        stranger = session.get_one(ChatVisitor, someone_else)
        for forged in (offer.invitation_id, offer.invitation_id + 1, 0, -1, 2**70, "1", True, None, 1.0):
            with pytest.raises(NotFound):
                proactive_service.answer(session, stranger, forged, accepted=True)
    with factory() as session, session.begin():
        row = session.get_one(ChatVisitor, visitor)
        first = proactive_service.answer(session, row, offer.invitation_id, accepted=True).accepted_at
    frozen_clock.advance(seconds=5)
    with factory() as session, session.begin():
        row = session.get_one(ChatVisitor, visitor)
        assert proactive_service.answer(session, row, offer.invitation_id, accepted=True).accepted_at == first
    with factory() as session:
        assert rules.counts(session, shop.shop_id) == {rule: rules.Counts(shown=1, accepted=1, orders=None)}
        assert rules.counts(session, other_tenant.shop_id) == {}


def test_the_first_answer_after_an_accepted_chat_invitation_joins_the_conversation(
    app: Any, factory: sessionmaker[Session], shop: Tenant
) -> None:
    add_rule(factory, shop, "cart_value", "100", name="Grote mand", message_nl="Vragen over je bestelling?")
    visitor = new_visitor(factory, shop)
    offer = page(factory, visitor, "cart", cart_value=300)
    assert offer is not None
    with factory() as session, session.begin():
        proactive_service.answer(session, session.get_one(ChatVisitor, visitor), offer.invitation_id, accepted=True)
    conversation_id = chat(app, factory, visitor)

    with factory() as session, session.begin():
        row = session.get_one(ChatVisitor, visitor)
        assert proactive_service.answered_in_chat(session, row, offer.invitation_id)
        assert not proactive_service.answered_in_chat(session, row, offer.invitation_id)  # once

    assert invitations(factory, visitor)[0].conversation_id == conversation_id
    with factory() as session:
        notes = list(session.scalars(select(Message.text).where(Message.conversation_id == conversation_id,
                                                                 Message.direction == "note")))
        assert notes == ["Uitnodiging ‘Grote mand’ aangenomen. De klant zag: Vragen over je bestelling?"]
        count = session.scalar(select(Conversation.message_count).where(Conversation.id == conversation_id))
        assert count == session.scalar(select(func.count()).select_from(Message)
                                       .where(Message.conversation_id == conversation_id))


def test_rule_values_are_checked_field_by_field() -> None:
    with pytest.raises(rules.RuleInvalid) as refused:
        rules.check(rules.RuleInput(name=" ", trigger="mood", threshold="lots", action="email",
                                    message_nl="x" * 1001))
    assert set(refused.value.problems) == {"name", "trigger", "threshold", "action", "message_nl"}
    for trigger, threshold in (("checkout_idle", "2"), ("checkout_idle", "60.5"), ("product_views", "1"),
                               ("cart_value", "-5"), ("cart_value", "1.005"), ("cart_value", "NaN")):
        with pytest.raises(rules.RuleInvalid):
            rules.check(rules.RuleInput(name="r", trigger=trigger, threshold=threshold, action="chat"))
    checked = rules.check(rules.RuleInput(name=" Mand ", trigger="cart_value", threshold="149,95", action="chat"))
    assert checked.name == "Mand" and str(checked.threshold) == "149.95"


def test_time_helpers_use_the_injected_clock(frozen_clock: clock.FrozenClock) -> None:
    assert clock.now() == dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
