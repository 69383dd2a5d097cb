"""How a shop can be reached right now, for the chat widget and the shop's own pages:
which channels it offers, whether they are open, when they open or close, and how long an
answer takes, estimated live from who is online and how many chats are waiting.

The formula (docs/widget.md, "Reachability"): a channel's typical first reply is the median
time to first response of its conversations answered in the last 24 hours (at least
`MIN_SAMPLES` of them, else `DEFAULT_REPLY_SECONDS`). Chat multiplies it by
(1 + waiting chats / agents online): each agent takes the queue in turn.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie.agents import service as agent_service
from balie.channels.chat import settings as widget_settings
from balie.channels.chat.models import WidgetSettings
from balie.conversations.models import Conversation
from balie.hours import service as hours_service
from balie.hours.schedule import Schedule, hhmm
from balie.proactive.models import InvitationRule
from balie.shops.models import Shop

# The order the widget lists them in.
LISTED = ("chat", "phone", "whatsapp", "email")
# When a channel has too few recent answers to measure: a typical first reply.
DEFAULT_REPLY_SECONDS = {"chat": 120, "whatsapp": 30 * 60, "email": 8 * 3600}
MIN_SAMPLES = 5
SAMPLE_WINDOW = dt.timedelta(hours=24)
MAX_SAMPLES = 500
MIN_CHAT_SECONDS = 30


@dataclass(frozen=True)
class ChannelReach:
    channel: str
    available: bool
    open_now: bool
    hours_configured: bool
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    hours: list[tuple[int, str, str]]  # (weekday, "HH:MM", "HH:MM")
    expected_reply_seconds: int | None
    expected_reply_text: dict[str, str]
    contact: str | None


@dataclass(frozen=True)
class CallbackReach:
    available: bool
    promise_minutes: int
    next_due_at: dt.datetime | None


@dataclass(frozen=True)
class Reachability:
    shop_name: str
    time_zone: str
    now: dt.datetime  # in the shop's zone
    channels: list[ChannelReach]
    callback: CallbackReach
    leave_message: bool
    invitations: bool  # the shop has invitation rules on: the widget reports page events
    allowed_origins: list[str]  # for the CORS header, not part of the JSON


def shop_by_public_key(session: Session, public_key: str) -> Shop | None:
    if not public_key or len(public_key) > 64 or not public_key.isascii() or not public_key.isprintable():
        return None  # no shop has such a key; the database need not be asked
    return session.scalars(select(Shop).where(Shop.public_key == public_key)).first()


def reachability(session: Session, shop: Shop, now: dt.datetime) -> Reachability:
    widget = widget_settings.get(session, shop.id)
    schedules = hours_service.load_all(session, shop.id, shop=shop, at=now)
    zone = schedules["chat"].zone
    now = now.astimezone(zone)
    offered = _offered(widget)
    online = len(agent_service.online_agents(session, shop.id, now)) if "chat" in offered else 0
    queue = _chat_queue(session, shop.id) if "chat" in offered else 0
    typical = _typical_reply_seconds(session, shop.id, [c for c in offered if c in DEFAULT_REPLY_SECONDS], now)
    channels = [
        _channel(channel, contact, schedules[channel], now, online=online, queue=queue, typical=typical.get(channel))
        for channel, contact in offered.items()
    ]
    chat = next((reach for reach in channels if reach.channel == "chat"), None)
    return Reachability(
        shop_name=shop.name, time_zone=shop.time_zone, now=now, channels=channels,
        callback=_callback(widget, schedules["callback"], now),
        leave_message=chat is not None and not chat.available,
        invitations=chat is not None and _has_invitation_rules(session, shop.id),
        allowed_origins=widget_settings.origins_of(widget),
    )


def _has_invitation_rules(session: Session, shop_id: int) -> bool:
    found = session.scalar(select(InvitationRule.id).where(InvitationRule.shop_id == shop_id,
                                                            InvitationRule.enabled.is_(True)).limit(1))
    return found is not None


def _offered(widget: WidgetSettings | None) -> dict[str, str | None]:
    """channel → contact, for the channels the shop offers, in the widget's order."""
    enabled = widget is None or widget.enabled  # no row yet: the defaults (enabled, nothing else)
    contacts: dict[str, str | None] = {
        "chat": None,
        "phone": widget.phone if widget else "",
        "whatsapp": widget.whatsapp if widget else "",
        "email": widget.email if widget else "",
    }
    return {channel: contacts[channel] for channel in LISTED
            if (enabled if channel == "chat" else bool(contacts[channel]))}


def _channel(channel: str, contact: str | None, week: Schedule, now: dt.datetime, *, online: int, queue: int,
             typical: int | None) -> ChannelReach:
    # No hours set for a channel: nothing restricts it (a new shop chats whenever an agent is
    # online); hours, once set, say when.
    open_now = hours_service.is_open(week, now) if week.configured else True
    opens_at = None if open_now else hours_service.next_open(week, now)
    closes_at = hours_service.closes_at(week, now) if open_now and week.configured else None
    seconds: int | None = None
    if channel == "chat":
        available = open_now and online > 0
        if available and typical is not None:
            seconds = max(MIN_CHAT_SECONDS, round(typical * (1 + queue / online)))
    elif channel == "phone":
        available = open_now
    else:  # a message can always be left; it is answered in opening hours
        available = True
        if open_now or not week.configured:
            seconds = typical
    return ChannelReach(
        channel=channel, available=available, open_now=open_now, hours_configured=week.configured,
        opens_at=opens_at, closes_at=closes_at,
        hours=[(i.weekday, hhmm(i.opens), hhmm(i.closes)) for i in week.intervals],
        expected_reply_seconds=seconds,
        expected_reply_text=_reply_text(channel, week, now, available=available, open_now=open_now,
                                        online=online, seconds=seconds, opens_at=opens_at, closes_at=closes_at),
        contact=contact or None,
    )


def _callback(widget: WidgetSettings | None, week: Schedule, now: dt.datetime) -> CallbackReach:
    minutes = widget.callback_minutes if widget else 30
    enabled = widget is None or widget.enabled
    # Without call-back hours the promise runs from now, as the call-back service counts it.
    due = None
    if enabled:
        due = hours_service.promise_due(week, now, minutes) if week.configured else now + dt.timedelta(minutes=minutes)
    return CallbackReach(available=due is not None, promise_minutes=minutes, next_due_at=due)


def _chat_queue(session: Session, shop_id: int) -> int:
    """Chats waiting for their first answer (the inbox's waiting index covers it)."""
    return session.scalar(
        select(func.count()).select_from(Conversation).where(
            Conversation.shop_id == shop_id, Conversation.status == "open", Conversation.waiting_since.is_not(None),
            Conversation.channel == "chat", Conversation.first_response_at.is_(None))
    ) or 0


def _typical_reply_seconds(session: Session, shop_id: int, channels: list[str], now: dt.datetime) -> dict[str, int]:
    """Per channel: the median time to first response over the last 24 hours, or the default."""
    if not channels:
        return {}
    since = now - SAMPLE_WINDOW
    rows = session.execute(
        select(Conversation.channel, Conversation.created_at, Conversation.first_response_at)
        .where(Conversation.shop_id == shop_id, Conversation.channel.in_(channels),
               # Answered since `since` means active since then: lets the recent index narrow the scan.
               Conversation.last_activity_at >= since, Conversation.first_response_at >= since)
        .order_by(Conversation.last_activity_at.desc())
        .limit(MAX_SAMPLES)
    ).all()
    samples: dict[str, list[float]] = {channel: [] for channel in channels}
    for channel, created_at, first_response_at in rows:
        if first_response_at is None:  # excluded by the query; for the type checker
            continue
        samples[channel].append(max(0.0, (first_response_at - created_at).total_seconds()))
    return {
        channel: round(statistics.median(found)) if len(found) >= MIN_SAMPLES else DEFAULT_REPLY_SECONDS[channel]
        for channel, found in samples.items()
    }


# --- the texts the widget shows (both languages: the widget picks the visitor's) -------------

_WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _reply_text(channel: str, week: Schedule, now: dt.datetime, *, available: bool, open_now: bool, online: int,
                seconds: int | None, opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> dict[str, str]:
    if seconds is not None:
        nl, en = _duration(seconds)
        return {"nl": f"Meestal antwoord binnen {nl}", "en": f"We usually answer within {en}"}
    if channel == "phone" and open_now:
        until_nl, until_en = _until(closes_at, now)
        return {"nl": f"Bel ons nu{until_nl}", "en": f"Call us now{until_en}"}
    if opens_at is not None and not open_now:
        nl, en = _moment(opens_at, now)
        if channel == "phone":
            return {"nl": f"We zijn weer bereikbaar {nl}", "en": f"Our lines open {en}"}
        return {"nl": f"We antwoorden {nl}", "en": f"We answer {en}"}
    if channel == "chat" and open_now and online == 0:
        return {"nl": "Er is nu niemand online; laat een bericht achter", "en": "Nobody is online right now; "
                "leave a message"}
    if not week.configured:
        return {"nl": "Geen openingstijden ingesteld", "en": "No opening hours set"}
    return {"nl": "Nu niet bereikbaar", "en": "Not available right now"}


def _until(closes_at: dt.datetime | None, now: dt.datetime) -> tuple[str, str]:
    if closes_at is None:
        return "", ""
    local = closes_at.astimezone(now.tzinfo)
    if local.date() == now.date():
        return f", we zijn open tot {local:%H:%M}", f", we are open until {local:%H:%M}"
    return "", ""


def _moment(at: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """'vandaag vanaf 13:00' / 'today from 13:00', 'morgen', a weekday, or a date."""
    local = at.astimezone(now.tzinfo)
    days = (local.date() - now.date()).days
    time = f"{local:%H:%M}"
    if days == 0:
        return f"vandaag vanaf {time}", f"today from {time}"
    if days == 1:
        return f"morgen vanaf {time}", f"tomorrow from {time}"
    if days < 7:
        weekday = local.weekday()
        return f"{_WEEKDAYS['nl'][weekday]} vanaf {time}", f"on {_WEEKDAYS['en'][weekday]} from {time}"
    return f"op {local.day}-{local.month} vanaf {time}", f"on {local:%d %B} from {time}"


def _duration(seconds: int) -> tuple[str, str]:
    if seconds < 90:
        return "een minuut", "a minute"
    if seconds < 3600:
        minutes = -(-seconds // 60)
        return f"{minutes} minuten", f"{minutes} minutes"
    if seconds < 36 * 3600:
        hours = -(-seconds // 3600)
        return ("een uur", "an hour") if hours == 1 else (f"{hours} uur", f"{hours} hours")
    days = -(-seconds // 86400)
    return f"{days} dagen", f"{days} days"
