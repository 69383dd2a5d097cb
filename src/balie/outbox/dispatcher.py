"""Delivers the outbox: claim due entries, hand them to the channel adapter, record the outcome.

Guarantees (see docs/delivery.md): nothing is sent that was not committed; an entry is
claimed by one worker at a time (a lease, with SKIP LOCKED on PostgreSQL); a recorded
success is never sent again. A worker killed between the receiver's accept and our record
leaves the claim to expire, and that one delivery is tried again with the same delivery id,
which receivers use to drop the repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents.models import Agent
from balie.channels.base import Delivery, PermanentFailure, TemporaryFailure, adapter_for
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer, Identity
from balie.events import Event, publish_on_commit
from balie.outbox.models import OutboxEntry
from balie.shops.models import Shop

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=120)
BASE_DELAY = 5.0
MAX_DELAY = 3600.0
PARALLEL = 8  # deliveries in flight at once per worker


@dataclass(frozen=True)
class Outcome:
    entry_id: int
    status: str
    error: str | None = None


def backoff(attempts: int) -> dt.timedelta:
    """Exponential with jitter: 5 s, 10 s, 20 s, ... capped at an hour."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=delay * random.uniform(0.8, 1.2))


def _claim(session: Session, limit: int) -> list[int]:
    now = clock.now()
    due = or_(
        (OutboxEntry.status == "pending") & (OutboxEntry.next_attempt_at <= now),
        (OutboxEntry.status == "sending") & (OutboxEntry.locked_until < now),
    )
    query = select(OutboxEntry.id).where(due).order_by(OutboxEntry.next_attempt_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[int] = []
    for entry_id in session.scalars(query).all():
        # The conditional update makes the claim safe on SQLite too: only one worker's wins.
        result = session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry_id, due)
            .values(status="sending", locked_until=now + LEASE, attempts=OutboxEntry.attempts + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(entry_id)
    if claimed:
        session.execute(
            update(Message)
            .where(Message.id.in_(select(OutboxEntry.message_id).where(OutboxEntry.id.in_(claimed))))
            .values(delivery_state="sending")
        )
    return claimed


def _delivery(session: Session, entry: OutboxEntry) -> Delivery:
    message = session.get_one(Message, entry.message_id)
    conversation = session.get_one(Conversation, message.conversation_id)
    customer = session.get_one(Customer, conversation.customer_id)
    identities = list(session.scalars(select(Identity).where(Identity.customer_id == customer.id)))
    agent = session.get(Agent, message.author_agent_id) if message.author_agent_id else None
    return Delivery(
        delivery_id=f"balie-{entry.shop_id}-{entry.id}",
        shop=session.get_one(Shop, entry.shop_id),
        conversation=conversation,
        message=message,
        customer=customer,
        identities=identities,
        agent_name=agent.name if agent else "",
    )


def _record(
    session: Session, entry_id: int, claim: int, status: str, error: str | None, max_attempts: int
) -> str | None:
    """Writes the outcome, unless our claim was lost meanwhile (our lease ran out and another
    worker took the entry): then that worker's outcome counts and ours is dropped (None)."""
    query = select(OutboxEntry).where(
        OutboxEntry.id == entry_id, OutboxEntry.status == "sending", OutboxEntry.attempts == claim
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    entry = session.scalars(query).first()
    if entry is None:
        log.warning("outbox entry %s: claim %s was taken over; outcome %s dropped", entry_id, claim, status)
        return None
    now = clock.now()
    message = session.get_one(Message, entry.message_id)
    if status == "sent":
        entry.status, entry.sent_at, entry.last_error = "sent", now, None
        message.delivery_state, message.delivery_error = "sent", None
    elif status == "retry" and entry.attempts < max_attempts:
        entry.status, entry.next_attempt_at, entry.last_error = "pending", now + backoff(entry.attempts), error
        message.delivery_state, message.delivery_error = "queued", error
    else:
        entry.status, entry.last_error = "failed", error
        message.delivery_state, message.delivery_error = "failed", error
    entry.locked_until = None
    publish_on_commit(
        session,
        Event("message.delivery", entry.shop_id,
              {"conversation_id": message.conversation_id, "message_id": message.id,
               "state": message.delivery_state}),
    )
    return entry.status


def dispatch_once(
    factory: sessionmaker[Session], *, limit: int = 50, max_attempts: int = 8, parallel: int = PARALLEL
) -> list[Outcome]:
    """One round: claim, deliver outside any transaction, record. Returns what happened.

    Deliveries wait on the network (SMTP, webhooks), so several run at once; each one has
    its own sessions and its own claim, exactly as if separate workers had taken them."""
    with factory() as session, session.begin():
        claimed = _claim(session, limit)
    if len(claimed) <= 1 or parallel <= 1:
        outcomes = [_deliver_one(factory, entry_id, max_attempts) for entry_id in claimed]
    else:
        with ThreadPoolExecutor(max_workers=min(parallel, len(claimed)), thread_name_prefix="balie-send") as pool:
            outcomes = list(pool.map(lambda entry_id: _deliver_one(factory, entry_id, max_attempts), claimed))
    return [outcome for outcome in outcomes if outcome is not None]


def _deliver_one(factory: sessionmaker[Session], entry_id: int, max_attempts: int) -> Outcome | None:
    with factory() as session:
        entry = session.get_one(OutboxEntry, entry_id)
        delivery = _delivery(session, entry)
        session.expunge_all()  # nothing is held open while we talk to the outside world
    claim = entry.attempts  # our claim; a later one (after our lease ran out) is another number
    adapter = adapter_for(entry.channel)
    result, error = "sent", None
    try:
        if entry.attempts > max_attempts:
            # Claimed again and again without an outcome: each time a worker died delivering it.
            raise PermanentFailure("gave up: delivery was interrupted on every attempt")
        if adapter is None:
            raise PermanentFailure(f"the {entry.channel} channel cannot send messages yet")
        adapter.deliver(delivery)
    except TemporaryFailure as failure:
        result, error = "retry", str(failure)[:1000]
    except PermanentFailure as failure:
        result, error = "failed", str(failure)[:1000]
    except Exception as failure:  # an adapter bug must not stop the queue; retried like a 5xx
        log.exception("adapter for %s crashed", entry.channel)
        result, error = "retry", f"internal error: {failure.__class__.__name__}"[:1000]
    with factory() as session, session.begin():
        status = _record(session, entry_id, claim, result, error, max_attempts)
    return Outcome(entry_id, status, error) if status is not None else None
