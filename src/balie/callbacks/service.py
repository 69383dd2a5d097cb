"""Call-me-back requests: created from the widget, the API or by an agent, put into the inbox
as a `phone` conversation, queued by due time, and closed by the outcome of each try.

The rules (due time, duplicates, retries, the message after the last try) are described in
docs/callbacks.md. Services flush; the entry point commits (for the API and the widget:
`Context.commit_retrying`, which also serialises SQLite writers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie import clock, cursors
from balie.agents.service import Actor
from balie.audit import service as audit_service
from balie.automation import queue as automation_queue
from balie.callbacks import checks, due, texts
from balie.callbacks.checks import Window
from balie.callbacks.models import CALLBACK_STATUSES, OUTCOMES, Callback, CallbackAttempt
from balie.channels.base import adapter_for
from balie.channels.chat.models import WidgetSettings
from balie.conversations import service as conversation_service
from balie.conversations import start as conversation_start
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import CHANNELS, Conversation
from balie.customers import service as customer_service
from balie.customers.models import Customer
from balie.customers.service import IdentityRef
from balie.db import get_scoped
from balie.errors import BalieError, Conflict, Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_text
from balie.shops import service as shop_service
from balie.shops.models import Shop

MAX_NOTE = 2000
DEFAULT_MINUTES = 30
DEFAULT_ATTEMPTS = 3
# After "no answer" the next try is due this long later (within the call-back hours).
RETRY_MINUTES = 30
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SOURCES = ("widget", "api", "agent")


@dataclass(frozen=True)
class Request:
    phone: str
    name: str = ""
    topic: str = ""
    window: tuple[dt.datetime, dt.datetime] | None = None
    email: str | None = None
    conversation_id: int | None = None  # the conversation it was asked from (API, agent)
    language: str | None = None  # the customer's; None: the shop's
    source: str = "api"


@dataclass(frozen=True)
class Created:
    callback: Callback
    created: bool  # False: the phone number already had an open call-back, which is returned


@dataclass(frozen=True)
class Limits:
    minutes: int  # "we call you within N minutes"
    attempts: int  # tries before the customer gets a message instead


@dataclass
class QueueItem:
    callback: Callback
    customer_name: str
    overdue: bool


@dataclass
class Page:
    items: list[QueueItem] = field(default_factory=list)
    next_cursor: str | None = None


def limits(session: Session, shop_id: int) -> Limits:
    """The shop's widget settings; no row yet: the defaults."""
    row = session.execute(
        select(WidgetSettings.callback_minutes, WidgetSettings.callback_attempts)
        .where(WidgetSettings.shop_id == shop_id)
    ).first()
    if row is None:
        return Limits(DEFAULT_MINUTES, DEFAULT_ATTEMPTS)
    return Limits(max(0, row.callback_minutes), max(1, row.callback_attempts))


# --- creating --------------------------------------------------------------------------


def create(
    session: Session,
    *,
    shop_id: int,
    request: Request,
    actor: Actor | None,
    visitor_customer_id: int | None = None,
    reopen_window: dt.timedelta | None = None,
) -> Created:
    """Checks everything before it writes; the same number with an open call-back in this shop
    returns that one (created=False) instead of a second."""
    shop = shop_service.get(session, shop_id)
    if request.source not in SOURCES:
        raise Invalid(f"source must be one of {', '.join(SOURCES)}")
    now = clock.now()
    phone = checks.normalise_phone(request.phone, checks.phone_region(shop.time_zone))
    name = checks.name(request.name)
    topic = checks.topic(request.topic)
    window = checks.window(request.window, now)
    email = checks.email(request.email)
    language = request.language if request.language in texts.LANGUAGES else texts.language(shop.language)
    rules = limits(session, shop_id)
    due_at = (due.in_window(session, shop_id, now, window.start, window.end) if window
              else due.asap(session, shop_id, now, rules.minutes))
    phone_ref = IdentityRef("phone", phone)
    refs = [phone_ref] + ([email] if email else [])
    if request.conversation_id is not None:
        refs += _conversation_identity(session, shop_id, request.conversation_id)
    if visitor_customer_id is not None:
        refs = _visitor_identities(session, shop_id, visitor_customer_id, phone_ref)

    _lock_number(session, shop_id, phone)
    existing = open_for_phone(session, shop_id, phone)
    if existing is not None:
        return Created(existing, created=False)

    promise = texts.promise(asap_minutes=None if window else rules.minutes, due_at=due_at, created_at=now,
                            time_zone=texts.zone(shop.time_zone))
    result = ingest(session, InboundMessage(
        shop_id=shop_id, channel="phone", identities=refs, customer_name=name,
        subject=texts.text(shop.language, "subject"),
        text=_inbox_text(shop, phone, name, topic, window, promise),
    ), reopen_window=reopen_window)
    callback = Callback(
        shop_id=shop_id, customer_id=result.customer_id, conversation_id=result.conversation_id, phone=phone,
        name=name, topic=topic, window_start=window.start if window else None,
        window_end=window.end if window else None, due_at=due_at, status="open", attempts=0,
        source=request.source, language=language, created_at=now,
    )
    session.add(callback)
    session.flush()
    automation_queue.watch_callback(session, callback)
    audit_service.record(
        session, shop_id=shop_id, actor_agent_id=actor.agent_id if actor else None, action="callback.created",
        object_type="callback", object_id=callback.id,
        data={"phone": phone, "source": request.source, "due_at": due_at.isoformat(),
              "window": [window.start.isoformat(), window.end.isoformat()] if window else None,
              "conversation_id": result.conversation_id, "asked_from": request.conversation_id},
    )
    _publish(session, "callback.created", callback)
    return Created(callback, created=True)


def request_from_widget(
    session: Session,
    shop_id: int,
    visitor_customer_id: int,
    phone: str,
    name: str,
    topic: str,
    window: tuple[dt.datetime, dt.datetime] | None,
    language: str,
) -> Callback:
    """The chat widget's "call me back": the visitor's customer gets the call-back (an already
    open one for this number is returned). Raises BalieError (a 4xx) on bad input; flushes,
    and the widget's endpoint commits (with `Context.commit_retrying`)."""
    return create(
        session, shop_id=shop_id, actor=None, visitor_customer_id=visitor_customer_id,
        request=Request(phone=phone, name=name, topic=topic, window=window, language=language, source="widget"),
    ).callback


def _conversation_identity(session: Session, shop_id: int, conversation_id: int) -> list[IdentityRef]:
    """One identity of that conversation's customer, so the call-back joins them (404 for
    another shop's conversation)."""
    conversation = get_scoped(session, Conversation, shop_id, conversation_id)
    customer = customer_service.get(session, shop_id=shop_id, customer_id=conversation.customer_id)
    identities = customer_service.identities(session, shop_id=shop_id, customer_id=customer.id)
    return [IdentityRef(identities[0].kind, identities[0].value)] if identities else []


def _visitor_identities(session: Session, shop_id: int, customer_id: int, phone: IdentityRef) -> list[IdentityRef]:
    """The visitor's own identity, and the number only when nobody else has it: a number typed
    into the widget is not proof enough to merge the visitor into another customer."""
    customer = customer_service.get(session, shop_id=shop_id, customer_id=customer_id)
    identities = customer_service.identities(session, shop_id=shop_id, customer_id=customer.id)
    refs = [IdentityRef(i.kind, i.value) for i in identities if i.kind == "visitor"]
    if not refs and identities:
        refs = [IdentityRef(identities[0].kind, identities[0].value)]
    owner = customer_service.lookup(session, shop_id=shop_id, refs=[phone])
    if owner is None or owner.id == customer.id or not refs:
        refs.append(phone)
    return refs


def _lock_number(session: Session, shop_id: int, phone: str) -> None:
    """Two requests for one number at once: the second waits and then finds the first.
    (SQLite has one writer at a time; its entry points serialise through Context.ingest_lock.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"balie.callback:{shop_id}:{phone}"))))


def open_for_phone(session: Session, shop_id: int, phone: str) -> Callback | None:
    return session.scalars(
        select(Callback).where(Callback.shop_id == shop_id, Callback.status == "open", Callback.phone == phone)
        .order_by(Callback.id).limit(1)
    ).first()


def _inbox_text(shop: Shop, phone: str, name: str, topic: str, window: Window | None,
                promise: dict[str, str]) -> str:
    code, zone = texts.language(shop.language), texts.zone(shop.time_zone)
    lines = [texts.text(code, "request", phone=phone)]
    if name:
        lines.append(texts.text(code, "name", name=name))
    if topic:
        lines.append(texts.text(code, "topic", topic=topic))
    if window:
        lines.append(texts.text(code, "window", start=texts.when(code, window.start, zone, "time"),
                                end=texts.when(code, window.end, zone, "time")))
    else:
        lines.append(texts.text(code, "asap"))
    lines.append(texts.text(code, "promised", promise=promise[code]))
    return "\n".join(lines)


# --- reading ---------------------------------------------------------------------------


def get(session: Session, shop_id: int, callback_id: int) -> Callback:
    return get_scoped(session, Callback, shop_id, callback_id)


def promise(session: Session, callback: Callback) -> dict[str, str]:
    """What the customer was promised, in nl and en (the widget shows the one in its language)."""
    shop = session.get_one(Shop, callback.shop_id)
    return promise_with(callback, limits(session, callback.shop_id), shop.time_zone)


def promise_with(callback: Callback, rules: Limits, time_zone: str) -> dict[str, str]:
    asap = callback.window_start is None and callback.attempts == 0
    return texts.promise(asap_minutes=rules.minutes if asap else None, due_at=callback.due_at,
                         created_at=callback.created_at, time_zone=texts.zone(time_zone))


def is_overdue(callback: Callback, now: dt.datetime) -> bool:
    return callback.status == "open" and callback.due_at < now


def attempts_of(session: Session, shop_id: int, callback_ids: list[int]) -> dict[int, list[CallbackAttempt]]:
    found: dict[int, list[CallbackAttempt]] = {}
    if not callback_ids:
        return found
    query = (select(CallbackAttempt)
             .where(CallbackAttempt.shop_id == shop_id, CallbackAttempt.callback_id.in_(callback_ids))
             .order_by(CallbackAttempt.id))
    for attempt in session.scalars(query):
        found.setdefault(attempt.callback_id, []).append(attempt)
    return found


def for_customer(session: Session, shop_id: int, customer_id: int) -> list[Callback]:
    query = (select(Callback).where(Callback.shop_id == shop_id, Callback.customer_id == customer_id)
             .order_by(Callback.created_at.desc(), Callback.id.desc()))
    return list(session.scalars(query))


def queue(session: Session, shop_id: int, *, status: str = "open", cursor: str | None = None,
          limit: int = PAGE_SIZE) -> Page:
    """Call-backs by due time, the most urgent first (ix_callback_queue)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = (select(Callback, customer_service.display_name_column())
             .join(Customer, Customer.id == Callback.customer_id)
             .where(Callback.shop_id == shop_id))
    if status != "all":
        if status not in CALLBACK_STATUSES:
            raise Invalid(f"status must be one of {', '.join(CALLBACK_STATUSES)} or all", code="invalid_filter")
        query = query.where(Callback.status == status)
    if cursor:
        when, row_id = cursors.decode(cursor)
        query = query.where((Callback.due_at > when) | ((Callback.due_at == when) & (Callback.id > row_id)))
    rows = session.execute(query.order_by(Callback.due_at, Callback.id).limit(limit + 1)).all()
    now = clock.now()
    page = Page(items=[QueueItem(callback, name, is_overdue(callback, now)) for callback, name in rows[:limit]])
    if len(rows) > limit:
        last = page.items[-1].callback
        page.next_cursor = cursors.encode(last.due_at, last.id)
    return page


# --- outcomes --------------------------------------------------------------------------


def record_attempt(session: Session, actor: Actor, callback_id: int, outcome: str, note: str = "") -> Callback:
    """One try: reached and wrong number close the call-back; no answer schedules the next try,
    and after the shop's number of tries gives up and sends the customer a message."""
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", code="invalid_outcome")
    check_text(note, "note")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise Invalid(f"note is longer than {MAX_NOTE} characters", code="invalid_note")
    callback = _locked(session, actor.shop_id, callback_id)
    if callback.status != "open":
        raise Conflict(f"call-back {callback.id} is already closed ({callback.status})", code="callback_closed")
    shop = session.get_one(Shop, actor.shop_id)
    rules = limits(session, actor.shop_id)
    now = clock.now()
    before = {"status": callback.status, "due_at": callback.due_at.isoformat(), "attempts": callback.attempts}
    session.add(CallbackAttempt(shop_id=actor.shop_id, callback_id=callback.id, agent_id=actor.agent_id,
                                outcome=outcome, note=note, created_at=now))
    callback.attempts += 1
    code, zone = texts.language(shop.language), texts.zone(shop.time_zone)
    told: int | None = None
    if outcome == "no_answer" and callback.attempts < rules.attempts:
        callback.due_at = due.asap(session, actor.shop_id, now, RETRY_MINUTES)
        automation_queue.watch_callback(session, callback)
        summary = texts.text(code, "no_answer", phone=callback.phone, attempts=callback.attempts,
                             max=rules.attempts, when=texts.when(code, callback.due_at, zone))
    elif outcome == "no_answer":
        callback.status, callback.closed_at = "gave_up", now
        told = _tell_customer(session, actor, callback)
        summary = texts.text(code, "gave_up" if told else "unreachable", phone=callback.phone,
                             attempts=callback.attempts)
    else:
        callback.status, callback.closed_at = outcome, now
        summary = texts.text(code, outcome, phone=callback.phone)
    session.flush()
    if callback.conversation_id is not None:
        body = summary + ("\n" + texts.text(code, "note", note=note) if note else "")
        conversation_service.note(session, actor, callback.conversation_id, body)
        if callback.status != "open":
            _resolve_conversation(session, actor, callback)
    after = {"status": callback.status, "due_at": callback.due_at.isoformat(), "attempts": callback.attempts}
    audit_service.record(
        session, shop_id=actor.shop_id, actor_agent_id=actor.agent_id, action="callback.attempt",
        object_type="callback", object_id=callback.id,
        data={"outcome": outcome, "note": note, "told_in": told,
              **{key: [before[key], after[key]] for key in after if before[key] != after[key]}},
    )
    _publish(session, "callback.updated", callback)
    return callback


def _locked(session: Session, shop_id: int, callback_id: int) -> Callback:
    """Two agents recording a try at once: one after the other, and the second sees the first."""
    callback = get(session, shop_id, callback_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Callback.id).where(Callback.id == callback.id).with_for_update())
        session.refresh(callback)
    return callback


def _tell_customer(session: Session, actor: Actor, callback: Callback) -> int | None:
    """After the last try: a message on the customer's most recent conversation on a channel
    that can send (e-mail, chat, API), else a new e-mail when we know their address. Returns
    the conversation it went into, or None when there is no way to reach them."""
    customer = customer_service.get(session, shop_id=actor.shop_id, customer_id=callback.customer_id)
    body = texts.text(callback.language, "gave_up_message", name=f" {callback.name}" if callback.name else "",
                      phone=callback.phone, attempts=callback.attempts)
    shop = session.get_one(Shop, actor.shop_id)
    # The API channel sends to the shop's webhook: without one, nothing would arrive.
    sendable = [channel for channel in CHANNELS if channel != "phone" and adapter_for(channel) is not None
                and (channel != "api" or shop.webhook_url)]
    conversation_id = session.scalars(
        select(Conversation.id)
        .where(Conversation.shop_id == actor.shop_id, Conversation.customer_id == customer.id,
               Conversation.channel.in_(sendable), Conversation.status != "closed")
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(1)
    ).first()
    if conversation_id is not None:
        conversation_service.reply(session, actor, conversation_id, body, status=None)
        return conversation_id
    if "email" not in sendable:
        return None
    identities = customer_service.identities(session, shop_id=actor.shop_id, customer_id=customer.id)
    address = next((identity.value for identity in identities if identity.kind == "email"), None)
    if address is None:
        return None
    wanted = conversation_start.Start(channel="email", customer_email=address, customer_name=callback.name,
                                      subject=texts.text(callback.language, "gave_up_subject"), text=body)
    if conversation_start.problems(session, actor.shop_id, wanted):
        return None  # no support address to send from (or an address we cannot send to)
    try:
        return conversation_start.start(session, actor, wanted).conversation_id
    except BalieError:
        return None


def _resolve_conversation(session: Session, actor: Actor, callback: Callback) -> None:
    """The request's phone conversation is done when its last open call-back is."""
    assert callback.conversation_id is not None
    still_open = session.scalar(select(func.count()).select_from(Callback).where(
        Callback.shop_id == actor.shop_id, Callback.conversation_id == callback.conversation_id,
        Callback.status == "open"))
    conversation = conversation_service.get(session, actor, callback.conversation_id)
    if not still_open and conversation.status in ("open", "pending", "snoozed"):
        conversation_service.update(session, actor, conversation.id,
                                    conversation_service.Changes(status="resolved"))


def _publish(session: Session, kind: str, callback: Callback) -> None:
    publish_on_commit(session, Event(kind, callback.shop_id, {
        "callback_id": callback.id, "customer_id": callback.customer_id,
        "conversation_id": callback.conversation_id, "status": callback.status,
        "due_at": callback.due_at.isoformat(),
    }))
