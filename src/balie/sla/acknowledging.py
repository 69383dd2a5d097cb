"""Sending the automatic acknowledgement (acknowledge.py holds its texts and when to keep quiet).

The acknowledgement is an outbound message of the conversation, flagged `acknowledgement`
and written by nobody (the timeline shows "automatic acknowledgement"). It goes out through
the outbox like an agent's reply, so each channel delivers it its own way (e-mail: a reply
in the thread; chat: a line in the widget). It is not an answer: it does not count as the
first response and the customer keeps waiting (the SLA timers run on).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import in_conversation, where_is
from balie.commerce import texts as order_texts
from balie.conversations.models import Conversation, Message
from balie.customers import blocking, language
from balie.customers.models import Customer
from balie.outbox import service as outbox_service
from balie.shops.models import Shop
from balie.sla import acknowledge, acknowledgement_settings
from balie.sla import service as sla_service

FLAG = "acknowledgement"
log = logging.getLogger(__name__)


def maybe_acknowledge(session: Session, conversation: Conversation, message: Message) -> Message | None:
    """Answers at once with the expected time, when the channel has acknowledgements on;
    the stored message, or None when it kept quiet."""
    if not acknowledgement_settings.enabled(session, conversation.shop_id, conversation.channel):
        return None  # the usual case: one cheap query and nothing more
    if session.get_bind().dialect.name == "postgresql":
        # Two messages of one conversation handled at once by two workers: one acknowledges.
        # A lock, not a refresh: the earlier steps' changes to the conversation stay as they are.
        session.execute(select(Conversation.id).where(Conversation.shop_id == conversation.shop_id,
                                                      Conversation.id == conversation.id).with_for_update())
    now = clock.now()
    flags = set(message.flags.split())
    inbound = acknowledge.Inbound(
        enabled=True, auto_reply="auto_reply" in flags, bounce="bounce" in flags,
        blocked=blocking.muted(session, conversation.shop_id, conversation.customer_id),
        last_acknowledged_at=last_acknowledged_at(session, conversation),
    )
    answer, why = acknowledge.should_acknowledge(inbound, now)
    if not answer:
        log.info("no acknowledgement on conversation %s: %s", conversation.id, why)
        return None
    zone, language_code = _zone_and_language(session, conversation)
    body = acknowledge.acknowledgement(sla_service.expected_answer_at(session, conversation), now, zone,
                                       language_code)
    status = _order_status(session, conversation, message, zone, language_code, now)
    return outbox_service.send_automatic(session, conversation, f"{body}\n\n{status}" if status else body,
                                         flag=FLAG, now=now, touch=False)


def _order_status(session: Session, conversation: Conversation, message: Message, zone: ZoneInfo,
                  language_code: str, now: dt.datetime) -> str | None:
    """"Waar blijft mijn bestelling?": the live status of the order the customer means (one
    they mention, else their newest open one), when they ask and Balie knows their orders; with
    the date they were last promised (a broken promise's new date, once they were told it)."""
    if not where_is.asks_where(message.text):
        return None
    found = in_conversation.focus(session, conversation.shop_id, conversation.customer_id,
                                  in_conversation.customer_texts(session, conversation))
    if found is None:
        return None
    return order_texts.live_status(found.order, found.parcels, found.promise, language_code, zone,
                                   now.astimezone(zone).date())


def last_acknowledged_at(session: Session, conversation: Conversation) -> dt.datetime | None:
    value: dt.datetime | None = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.shop_id == conversation.shop_id, Message.conversation_id == conversation.id,
            Message.direction == "out", Message.flags.contains(FLAG))
    )
    if value is not None and value.tzinfo is None:  # SQLite's max() bypasses the column type
        value = dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
    return value


def _zone_and_language(session: Session, conversation: Conversation) -> tuple[ZoneInfo, str]:
    row = session.execute(
        select(Shop.time_zone, Shop.language, Customer.language.label("customer_language"))
        .join(Customer, Customer.shop_id == Shop.id)
        .where(Shop.id == conversation.shop_id, Customer.id == conversation.customer_id)
    ).one()
    try:
        zone = ZoneInfo(row.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Amsterdam")
    return zone, language.of_customer(row.customer_language, row.language)


