"""Proactive invitations at run time: what the widget reports about the visit (page events),
whether to invite now, and the visitor's answer.

The server decides, never the browser: idle time is measured between stored events, a visit
gets at most one invitation (a unique index on shop, visitor and visit), and none comes while
the visitor has a conversation going or when nobody can answer within the shop's target.
The rules are in docs/widget.md, "Proactive invitations". Services flush; the widget's socket
commits (through `Context.commit_retrying`, which also serialises SQLite writers).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from balie import clock, text
from balie.channels.chat.models import ChatVisitor
from balie.conversations.models import Conversation, Message
from balie.errors import Invalid, NotFound
from balie.events import Event, publish_on_commit
from balie.inputs import check_line, valid_id
from balie.proactive.models import PAGE_KINDS, Invitation, InvitationRule, InvitationSettings, PageEvent
from balie.reachability import service as reachability_service
from balie.shops.models import Shop

MAX_URL = 2000
MAX_PRODUCT = 200
MAX_STEP = 64
MAX_CART_VALUE = Decimal("9999999999.99")  # what Numeric(12, 2) holds
# Page events kept per visitor, newest first: enough for "the third visit to this product",
# and a browser that reports pages in a loop cannot grow the table.
MAX_EVENTS_PER_VISITOR = 200
DEFAULT_REPLY_TARGET_SECONDS = 120
REPLY_TARGET_SECONDS = (10, 3600)
# Visits are counted by the browser (a new tab after a while is a new visit), so a browser
# could claim a new visit on every page: never two invitations this close together.
COOLDOWN = dt.timedelta(minutes=30)
GOING = ("open", "pending")
DEFAULT_TEXTS = {"nl": "Kan ik je ergens mee helpen?", "en": "Can I help you with anything?"}
_NOTE = {"nl": "Uitnodiging ‘{rule}’ aangenomen. De klant zag: {text}",
         "en": "Invitation ‘{rule}’ accepted. The customer saw: {text}"}


@dataclass(frozen=True)
class PageReport:
    kind: str
    url: str = ""
    product: str = ""
    cart_value: Decimal | None = None
    checkout_step: str = ""


@dataclass(frozen=True)
class Offer:
    """An invitation just made: what the widget shows."""

    invitation_id: int
    action: str  # chat | callback
    text: str


def report(kind: object, url: object = None, product: object = None, cart_value: object = None,
           checkout_step: object = None) -> PageReport:
    """A page event as the widget sent it (any JSON), checked; Invalid names what is wrong."""
    if not isinstance(kind, str) or kind not in PAGE_KINDS:
        raise Invalid(f"kind must be one of {', '.join(PAGE_KINDS)}", code="invalid_page")
    return PageReport(
        kind=kind, url=_short(url, "url", MAX_URL), product=_short(product, "product", MAX_PRODUCT).strip(),
        cart_value=_amount(cart_value), checkout_step=_short(checkout_step, "checkout_step", MAX_STEP).strip(),
    )


def _short(value: object, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"{what} must be text of at most {limit} characters", code="invalid_page")
    return check_line(value, what)


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    # bool is an int in Python; "true" is no amount.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("cart_value must be a number", code="invalid_page")
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    if amount < 0 or amount > MAX_CART_VALUE:
        raise Invalid("cart_value must be a non-negative amount", code="invalid_page")
    return amount


def record(session: Session, visitor: ChatVisitor, page: PageReport) -> PageEvent:
    """Stores the event in the visitor's current visit, and forgets the oldest beyond the bound."""
    event = PageEvent(
        shop_id=visitor.shop_id, visitor_id=visitor.id, visit=visitor.visits, kind=page.kind, url=page.url,
        product=page.product, cart_value=page.cart_value, checkout_step=page.checkout_step, created_at=clock.now(),
    )
    session.add(event)
    session.flush()
    oldest_kept = session.scalar(
        select(PageEvent.id).where(PageEvent.shop_id == visitor.shop_id, PageEvent.visitor_id == visitor.id)
        .order_by(PageEvent.id.desc()).offset(MAX_EVENTS_PER_VISITOR - 1).limit(1))
    if oldest_kept is not None:
        session.execute(delete(PageEvent).where(PageEvent.shop_id == visitor.shop_id,
                                                PageEvent.visitor_id == visitor.id, PageEvent.id < oldest_kept))
    return event


# --- deciding ----------------------------------------------------------------------------------


def reply_target_seconds(session: Session, shop_id: int) -> int:
    target = session.scalar(select(InvitationSettings.reply_target_seconds)
                            .where(InvitationSettings.shop_id == shop_id))
    return DEFAULT_REPLY_TARGET_SECONDS if target is None else target


def set_reply_target_seconds(session: Session, shop_id: int, seconds: int) -> None:
    low, high = REPLY_TARGET_SECONDS
    if not low <= seconds <= high:
        raise Invalid(f"the reply target is {low} to {high} seconds", code="invalid_number")
    row = session.get(InvitationSettings, shop_id)
    if row is None:
        session.add(InvitationSettings(shop_id=shop_id, reply_target_seconds=seconds, updated_at=clock.now()))
    else:
        row.reply_target_seconds, row.updated_at = seconds, clock.now()
    session.flush()


def decide(session: Session, visitor: ChatVisitor) -> Offer | None:
    """Whether to invite this visitor now, and if so the invitation (flushed). Cheap when the
    shop has no enabled rule or the visit already had its invitation."""
    rules = list(session.scalars(
        select(InvitationRule).where(InvitationRule.shop_id == visitor.shop_id, InvitationRule.enabled.is_(True))
        .order_by(InvitationRule.position, InvitationRule.id)))
    if not rules or _invited_lately(session, visitor) or _conversation_going(session, visitor):
        return None
    now = clock.now()
    events = list(session.scalars(
        select(PageEvent).where(PageEvent.shop_id == visitor.shop_id, PageEvent.visitor_id == visitor.id,
                                PageEvent.visit == visitor.visits)
        .order_by(PageEvent.id.desc()).limit(MAX_EVENTS_PER_VISITOR)))
    answerable: dict[str, bool] = {}
    for rule in rules:
        if not _triggered(session, visitor, rule, events, now):
            continue
        if rule.action not in answerable:
            answerable[rule.action] = _can_answer(session, visitor.shop_id, rule.action, now)
        if answerable[rule.action]:
            invitation = Invitation(shop_id=visitor.shop_id, rule_id=rule.id, visitor_id=visitor.id,
                                    visit=visitor.visits, shown_at=now)
            session.add(invitation)
            session.flush()  # a second socket of this browser inserting too: the unique index refuses
            return Offer(invitation.id, rule.action, invitation_text(rule, visitor.language))
    return None


def invitation_text(rule: InvitationRule, language: str) -> str:
    """In the visitor's language; the other language, or a plain default, when it is empty."""
    texts = {"nl": rule.message_nl.strip(), "en": rule.message_en.strip()}
    code = language if language in texts else "nl"
    return texts[code] or texts["nl" if code == "en" else "en"] or DEFAULT_TEXTS[code]


def _invited_lately(session: Session, visitor: ChatVisitor) -> bool:
    latest = session.execute(
        select(Invitation.visit, Invitation.shown_at)
        .where(Invitation.shop_id == visitor.shop_id, Invitation.visitor_id == visitor.id)
        .order_by(Invitation.id.desc()).limit(1)).first()
    return latest is not None and (latest.visit == visitor.visits or clock.now() - latest.shown_at < COOLDOWN)


def _conversation_going(session: Session, visitor: ChatVisitor) -> bool:
    """An open or pending conversation of this visitor's customer, on any channel: they are
    already talking to the shop."""
    if visitor.customer_id is None:
        return False
    return session.scalar(
        select(Conversation.id).where(Conversation.shop_id == visitor.shop_id,
                                      Conversation.customer_id == visitor.customer_id,
                                      Conversation.status.in_(GOING)).limit(1)) is not None


def _triggered(session: Session, visitor: ChatVisitor, rule: InvitationRule, events: list[PageEvent],
               now: dt.datetime) -> bool:
    """`events`: this visit's, newest first."""
    threshold = Decimal(rule.threshold)
    if not events:
        return False
    if rule.trigger == "checkout_idle":
        return _checkout_idle_seconds(events, now) >= threshold
    if rule.trigger == "cart_value":
        value = next((event.cart_value for event in events if event.cart_value is not None), None)
        return value is not None and Decimal(value) >= threshold
    if rule.trigger == "product_views":
        product = next((event.product for event in events if event.kind == "product" and event.product), "")
        if not product:
            return False
        visits = session.scalar(
            select(func.count(func.distinct(PageEvent.visit)))
            .where(PageEvent.shop_id == visitor.shop_id, PageEvent.visitor_id == visitor.id,
                   PageEvent.kind == "product", PageEvent.product == product)) or 0
        return visits >= threshold
    return False


def _checkout_idle_seconds(events: list[PageEvent], now: dt.datetime) -> float:
    """How long the visitor has been on the same checkout step: since the first of the latest
    run of events on that step (a reload reports it again and is no progress). 0 when the
    latest event is not a checkout page."""
    latest = events[0]
    if latest.kind != "checkout":
        return 0.0
    since = latest.created_at
    for event in events[1:]:
        if event.kind != "checkout" or event.checkout_step != latest.checkout_step:
            break
        since = event.created_at
    return (now - since).total_seconds()


def _can_answer(session: Session, shop_id: int, action: str, now: dt.datetime) -> bool:
    """Chat: open, someone online, and the expected first reply within the shop's target.
    Call-back: the call-back hours are open now, so the widget's promise starts at once."""
    shop = session.get_one(Shop, shop_id)
    reach = reachability_service.reachability(session, shop, now)
    if action == "callback":
        due = reach.callback.next_due_at
        return (reach.callback.available and due is not None
                and due <= now + dt.timedelta(minutes=reach.callback.promise_minutes, seconds=1))
    chat = next((channel for channel in reach.channels if channel.channel == "chat"), None)
    return (chat is not None and chat.available and chat.expected_reply_seconds is not None
            and chat.expected_reply_seconds <= reply_target_seconds(session, shop_id))


# --- the visitor's answer ----------------------------------------------------------------------


def _own(session: Session, visitor: ChatVisitor, invitation_id: object) -> Invitation:
    """One of this visitor's invitations; any other id (someone else's, made up) is not found."""
    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int) or not valid_id(invitation_id):
        raise NotFound("no such invitation", code="unknown_invitation")
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.shop_id == visitor.shop_id,
                                 Invitation.visitor_id == visitor.id)).first()
    if invitation is None:
        raise NotFound("no such invitation", code="unknown_invitation")
    return invitation


def answer(session: Session, visitor: ChatVisitor, invitation_id: object, *, accepted: bool) -> Invitation:
    """The visitor said yes (counted once) or no (nothing to store: shown, not accepted)."""
    invitation = _own(session, visitor, invitation_id)
    if accepted and invitation.accepted_at is None:
        invitation.accepted_at = clock.now()
        session.flush()
    return invitation


def answered_in_chat(session: Session, visitor: ChatVisitor, invitation_id: object) -> bool:
    """The visitor wrote their first message after accepting a chat invitation (the widget
    names the invitation with it): the invitation joins that conversation, and a note there
    tells the agents what the visitor was shown. Once only; True when it linked."""
    invitation = _own(session, visitor, invitation_id)
    if invitation.accepted_at is None or invitation.conversation_id is not None or visitor.conversation_id is None:
        return False
    rule = session.get_one(InvitationRule, invitation.rule_id)
    if rule.action != "chat":
        return False
    invitation.conversation_id = visitor.conversation_id
    shop_language = session.scalar(select(Shop.language).where(Shop.id == visitor.shop_id)) or "nl"
    body = _NOTE.get(shop_language, _NOTE["nl"]).format(rule=rule.name, text=invitation_text(rule, visitor.language))
    note = Message(shop_id=visitor.shop_id, conversation_id=visitor.conversation_id, direction="note",
                   channel="chat", text=body, html=text.text_to_html(body), created_at=clock.now())
    session.add(note)
    conversation = session.get_one(Conversation, visitor.conversation_id)
    conversation.message_count = Conversation.message_count + 1
    session.flush()
    publish_on_commit(session, Event("message.created", visitor.shop_id, {
        "conversation_id": conversation.id, "message_id": note.id, "direction": "note"}))
    return True


def callback_asked(session: Session, visitor: ChatVisitor, invitation_id: object, callback_id: int) -> bool:
    """The visitor asked for a call-back from an accepted call-back invitation: the invitation
    records which call-back it brought (once). True when it linked; a stale or foreign id is
    ignored (the call-back itself stands)."""
    try:
        invitation = _own(session, visitor, invitation_id)
    except NotFound:
        return False
    if invitation.accepted_at is None or invitation.callback_id is not None:
        return False
    rule = session.get_one(InvitationRule, invitation.rule_id)
    if rule.action != "callback":
        return False
    invitation.callback_id = callback_id
    session.flush()
    return True
