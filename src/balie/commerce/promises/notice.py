"""Acting on each promise found broken, once: claim new breaches (SKIP LOCKED on PostgreSQL,
so two workers never take the same one) and, for a first breach, tell the customer first
(with a voucher when the shop's rules give one); for a second breach, no second automatic
apology: the conversation goes to a human, urgent, with the whole history.

Where the notice goes (docs/promises.md):
1. the customer's open conversation (open, pending or snoozed) in which they wrote to us
   since the order was placed — one mentioning the order number first: they asked already,
   so the answer goes where they asked;
2. else, unless the shop prefers e-mail, their most recent conversation when it is a chat
   (that is how they talk to the shop);
3. else a new e-mail conversation from the shop's first support address;
4. else (no address, no mailbox): nothing is sent, and agents get a conversation with a note
   saying so, so a human can reach the customer another way."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, text
from balie.audit import service as audit_service
from balie.automation import queue as automation
from balie.channels.base import adapter_for
from balie.channels.email import outbound
from balie.channels.email.models import Mailbox
from balie.commerce.models import Order
from balie.commerce.promises import monitor, texts, vouchers
from balie.commerce.promises import settings as promise_settings
from balie.commerce.promises.models import Breach, Voucher
from balie.conversations.models import Conversation, Message
from balie.customers import language
from balie.customers import service as customer_service
from balie.customers.models import Customer
from balie.db import scoped, transaction
from balie.events import Event, publish_on_commit
from balie.outbox import service as outbox_service
from balie.shops.models import Shop
from balie.sla import service as sla_service

log = logging.getLogger(__name__)
BATCH = 50
FLAG = "promise_notice"
OPEN = ("open", "pending", "snoozed")


@dataclass(frozen=True)
class ShopView:
    """What every breach of a shop needs, read once per batch."""

    shop: Shop
    settings: promise_settings.Settings
    zone: dt.tzinfo


def _shop_view(session: Session, shop_id: int, cache: dict[int, ShopView]) -> ShopView:
    if shop_id not in cache:
        wanted = promise_settings.load(session, shop_id)
        cache[shop_id] = ShopView(session.get_one(Shop, shop_id), wanted,
                                  monitor.policy_of(session, shop_id, wanted).zone)
    return cache[shop_id]


@dataclass(frozen=True)
class Target:
    conversation: Conversation
    asked_first: bool


def act(factory: sessionmaker[Session], *, limit: int = BATCH) -> int:
    """Acts on up to `limit` new breaches, each in its own savepoint: one that fails is marked
    `failed` (with the reason) instead of holding up the rest. Returns how many were handled."""
    with transaction(factory) as session:
        query = (select(Breach).where(Breach.state == "new").order_by(Breach.detected_at, Breach.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = list(session.scalars(query))
        shops: dict[int, ShopView] = {}
        for breach in claimed:
            try:
                with session.begin_nested():
                    handle(session, breach, _shop_view(session, breach.shop_id, shops))
            except Exception as error:  # one broken order must not stop the others
                log.exception("promise breach %s could not be acted on", breach.id)
                breach.state, breach.acted_at = "failed", clock.now()
                breach.note = f"{type(error).__name__}: {error}"[:1000]
        return len(claimed)


def handle(session: Session, breach: Breach, view: ShopView | None = None) -> None:
    view = view or _shop_view(session, breach.shop_id, {})
    order = session.scalars(scoped(Order, breach.shop_id).where(Order.id == breach.order_id)).one()
    if order.status != "open" or order.delivered_at is not None:
        breach.state, breach.acted_at = "closed", clock.now()
        return
    if breach.generation == 1:
        _notify(session, breach, order, view)
    else:
        _escalate(session, breach, order, view)
    if breach.conversation_id is not None:
        automation.promise_broken(session, shop_id=breach.shop_id, conversation_id=breach.conversation_id,
                                  breach_id=breach.id, generation=breach.generation)
    publish_on_commit(session, Event("order.promise_broken", breach.shop_id, {
        "order_id": order.id, "breach_id": breach.id, "generation": breach.generation, "state": breach.state,
        "conversation_id": breach.conversation_id}))


# --- the first breach: tell the customer ----------------------------------------------


def _notify(session: Session, breach: Breach, order: Order, view: ShopView) -> None:
    now = clock.now()
    shop, wanted, zone = view.shop, view.settings, view.zone
    customer = _customer(session, order)
    code = language.of_customer(customer.language if customer else "", shop.language)
    days_late = max(1, (breach.new_expected_date - breach.promised_date).days)
    amount = vouchers.amount_for(wanted.rules, days_late, order.total)
    voucher = None
    if amount is not None:
        voucher = vouchers.grant(session, order, amount, breach_id=breach.id,
                                 reason=f"order {order.number}: {breach.rule}, {days_late} day(s) late")
    what = texts.text(code, breach.detail if breach.detail in ("delivery_failed", "exception", "cutoff", "passed",
                                                               "stuck") else breach.rule)
    voucher_line = texts.text(code, "voucher", amount=texts.amount(code, voucher.amount, voucher.currency),
                              code=voucher.code) if voucher else ""
    template = wanted.templates[texts.language(code)]
    values = {"customer.name": (customer.name if customer else "") or texts.text(code, "customer"),
              "order.number": order.number, "what_happened": what,
              "new_date": texts.date(code, breach.new_expected_date), "voucher": voucher_line, "shop.name": shop.name}
    # A template that fills in to nothing (only an empty {{voucher}}) falls back to Balie's text.
    subject = " ".join(texts.render(template.subject, values).split())[:300] or " ".join(
        texts.render(texts.DEFAULT_SUBJECT[texts.language(code)], values).split())
    body = texts.tidy(texts.render(template.body, values)) or texts.tidy(
        texts.render(texts.DEFAULT_BODY[texts.language(code)], values))
    voucher_note = texts.text(shop.language, "voucher_note", code=voucher.code,
                              amount=texts.amount(shop.language, voucher.amount, voucher.currency)) if voucher else ""
    # A blocked or muted customer gets nothing automatic (customers/blocking.py): a person decides.
    quiet = customer is not None and bool(customer.block_state)
    target = _target(session, order, customer, shop, wanted.channel, subject, now) if customer and not quiet \
        else None
    if target is None:
        _unreachable(session, breach, order, customer, shop, what, voucher_note, zone, now, blocked=quiet)
        return
    conversation = target.conversation
    message = outbox_service.send_automatic(session, conversation, body, flag=FLAG, now=now, touch=True)
    _note(session, conversation, texts.text(shop.language, "sent_note", number=order.number, voucher=voucher_note),
          now)
    breach.state, breach.acted_at, breach.watching = "notified", now, True
    breach.channel, breach.conversation_id, breach.message_id = conversation.channel, conversation.id, message.id
    breach.customer_asked_first = target.asked_first
    audit_service.record(session, shop_id=order.shop_id, actor_agent_id=None, action="promise.notice",
                         object_type="order", object_id=order.id,
                         data={"breach_id": breach.id, "rule": breach.rule, "conversation_id": conversation.id,
                               "channel": conversation.channel, "voucher": voucher.code if voucher else None})


def _customer(session: Session, order: Order) -> Customer | None:
    if order.customer_id is None:
        return None
    return customer_service.get(session, shop_id=order.shop_id, customer_id=order.customer_id)


def _sendable(shop: Shop) -> list[str]:
    # The API channel sends to the shop's webhook: without one, nothing would arrive.
    return [channel for channel in ("email", "chat", "api") if adapter_for(channel) is not None
            and (channel != "api" or shop.webhook_url)]


def mentions(body: str, number: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])", body) is not None


def _target(session: Session, order: Order, customer: Customer, shop: Shop, preference: str, subject: str,
            now: dt.datetime) -> Target | None:
    sendable = _sendable(shop)
    # 1. They already wrote to us since they ordered, in a conversation still open.
    rows = session.execute(
        select(Conversation, Message.text)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.shop_id == order.shop_id, Conversation.customer_id == customer.id,
               Conversation.status.in_(OPEN), Conversation.channel.in_(sendable),
               Message.shop_id == order.shop_id, Message.direction == "in", Message.created_at >= order.placed_at)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())).all()
    if rows:
        about = [row.Conversation for row in rows if mentions(row.text or "", order.number)]
        return Target((about or [rows[0].Conversation])[0], asked_first=True)
    # 2. Their most recent conversation is a chat: that is how they talk to the shop.
    latest = session.scalars(
        select(Conversation).where(Conversation.shop_id == order.shop_id, Conversation.customer_id == customer.id,
                                   Conversation.status != "closed")
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(1)).first()
    if preference == "auto" and latest is not None and latest.channel == "chat" and "chat" in sendable:
        return Target(latest, asked_first=False)
    # 3. A new e-mail.
    if "email" not in sendable:
        return None
    mailbox = session.scalars(scoped(Mailbox, order.shop_id).order_by(Mailbox.id).limit(1)).first()
    address = next((identity.value for identity in customer_service.identities(
        session, shop_id=order.shop_id, customer_id=customer.id)
        if identity.kind == "email" and outbound.sendable_address(identity.value)), None)
    if mailbox is None or address is None or outbound.sendable_address(mailbox.address) is None:
        return None
    conversation = Conversation(shop_id=order.shop_id, customer_id=customer.id, channel="email",
                                channel_address=mailbox.address, subject=subject, status="pending",
                                last_activity_at=now, created_at=now)
    session.add(conversation)
    session.flush()
    automation.conversation_started(session, shop_id=order.shop_id, conversation_id=conversation.id)
    return Target(conversation, asked_first=False)


def _note(session: Session, conversation: Conversation, body: str, now: dt.datetime) -> Message:
    note = Message(shop_id=conversation.shop_id, conversation_id=conversation.id, direction="note",
                   channel=conversation.channel, text=body, html=text.text_to_html(body), created_at=now)
    session.add(note)
    session.flush()
    conversation.message_count = Conversation.message_count + 1
    publish_on_commit(session, Event("message.created", conversation.shop_id, {
        "conversation_id": conversation.id, "message_id": note.id, "direction": "note"}))
    return note


def _agents_conversation(session: Session, order: Order, customer: Customer, subject: str,
                         now: dt.datetime) -> Conversation:
    """A conversation for agents only (a task): on e-mail when the customer has an address
    and the shop a mailbox (so the agent's answer reaches them), else on the phone."""
    mailbox = session.scalars(scoped(Mailbox, order.shop_id).order_by(Mailbox.id).limit(1)).first()
    has_email = any(identity.kind == "email" and outbound.sendable_address(identity.value)
                    for identity in customer_service.identities(session, shop_id=order.shop_id,
                                                                customer_id=customer.id))
    channel = "email" if mailbox is not None and has_email else "phone"
    conversation = Conversation(shop_id=order.shop_id, customer_id=customer.id, channel=channel,
                                channel_address=mailbox.address if channel == "email" and mailbox else None,
                                subject=subject[:500], status="open", last_activity_at=now, created_at=now)
    session.add(conversation)
    session.flush()
    return conversation


def _unreachable(session: Session, breach: Breach, order: Order, customer: Customer | None, shop: Shop, what: str,
                 voucher_note: str, zone: dt.tzinfo, now: dt.datetime, *, blocked: bool = False) -> None:
    body = texts.text(shop.language, "blocked" if blocked else "unreachable", number=order.number, what=what,
                      voucher=voucher_note, new_date=texts.date(shop.language, breach.new_expected_date))
    breach.state, breach.acted_at, breach.watching, breach.note = "unreachable", now, True, body[:1000]
    if customer is None:
        return  # an order without a customer: the breach and its note are all there is
    conversation = _agents_conversation(session, order, customer,
                                        texts.text(shop.language, "unreachable_subject", number=order.number), now)
    _note(session, conversation, body, now)
    breach.conversation_id = conversation.id
    audit_service.record(session, shop_id=order.shop_id, actor_agent_id=None, action="promise.unreachable",
                         object_type="order", object_id=order.id,
                         data={"breach_id": breach.id, "conversation_id": conversation.id})


# --- the second breach: a human takes over --------------------------------------------


def _escalate(session: Session, breach: Breach, order: Order, view: ShopView) -> None:
    now = clock.now()
    shop, zone = view.shop, view.zone
    code = shop.language
    first = session.scalars(select(Breach).where(Breach.order_id == order.id, Breach.generation == 1)).one()
    history = history_lines(session, order, first, breach, code, zone)
    body = texts.text(code, "escalation", number=order.number, history="\n".join(history))
    breach.state, breach.acted_at, breach.note = "escalated", now, body[:1000]
    customer = _customer(session, order)
    if customer is None:
        return
    conversation = None
    if first.conversation_id is not None:
        conversation = session.scalars(scoped(Conversation, order.shop_id)
                                       .where(Conversation.id == first.conversation_id)).first()
    if conversation is None:
        conversation = _agents_conversation(session, order, customer,
                                            texts.text(code, "escalation_subject", number=order.number), now)
    before: dict[str, str | int | None] = {"status": conversation.status, "priority": conversation.priority,
                                           "assignee_id": conversation.assignee_id}
    was_status, was_priority = conversation.status, conversation.priority
    conversation.priority, conversation.assignee_id = "urgent", None
    conversation.status, conversation.snoozed_until, conversation.resolved_at = "open", None, None
    conversation.last_activity_at = now  # back at the top of the inbox
    sla_service.on_priority(session, conversation, was_priority, now)
    sla_service.on_status(session, conversation, was_status, now)
    _note(session, conversation, body, now)
    breach.conversation_id, breach.channel = conversation.id, conversation.channel
    after = {"status": "open", "priority": "urgent", "assignee_id": None}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit_service.record(session, shop_id=order.shop_id, actor_agent_id=None, action="promise.escalated",
                         object_type="conversation", object_id=conversation.id,
                         data={**changed, "order_id": order.id, "breach_id": breach.id})
    if changed:
        publish_on_commit(session, Event("conversation.updated", order.shop_id,
                                         {"conversation_id": conversation.id, "changed": sorted(changed)}))


def history_lines(session: Session, order: Order, first: Breach, second: Breach, code: str,
                  zone: dt.tzinfo) -> list[str]:
    def what(breach: Breach) -> str:
        return texts.text(code, breach.detail if breach.detail in ("delivery_failed", "exception", "cutoff", "passed",
                                                                   "stuck") else breach.rule)

    lines = [texts.text(code, "history_promise", date=texts.date(code, first.promised_date)),
             texts.text(code, "history_breach", rule=first.rule, at=texts.moment(code, first.detected_at, zone),
                        what=what(first))]
    if first.state == "notified" and first.acted_at is not None:
        lines.append(texts.text(code, "history_notice", channel=first.channel,
                                at=texts.moment(code, first.acted_at, zone), conversation=first.conversation_id))
    else:
        lines.append(texts.text(code, "history_unreachable"))
    for voucher in session.scalars(scoped(Voucher, order.shop_id).where(Voucher.breach_id == first.id)):
        lines.append(texts.text(code, "history_voucher", code=voucher.code,
                                amount=texts.amount(code, voucher.amount, voucher.currency)))
    lines.append(texts.text(code, "history_new", date=texts.date(code, first.new_expected_date)))
    lines.append(texts.text(code, "history_second", rule=second.rule, at=texts.moment(code, second.detected_at, zone),
                            what=what(second)))
    return lines
