"""GET /api/v1/public/shops/{public_key}/reachability: the shape, open and closed, live reply
estimates, CORS by origin, caching, rate limit and hostile keys."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.channels.chat import settings as widget_settings
from balie.conversations.models import Conversation
from balie.hours import service as hours_service
from balie.proactive.models import InvitationRule
from balie.shops.models import Shop
from factories import Tenant, post_message
from statements import counting

# The frozen clock starts on Tuesday 2026-11-24 10:00 UTC: 11:00 in Amsterdam.
TUESDAY = 1


def url(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session:
        shop = session.get(Shop, tenant.shop_id)
        assert shop is not None
        return f"/api/v1/public/shops/{shop.public_key}/reachability"


def configure(factory: sessionmaker[Session], tenant: Tenant, *, origins: str = "", hours: str = "09:00-17:00",
              online: bool = True) -> None:
    with factory() as session, session.begin():
        widget_settings.update(session, tenant.shop_id, widget_settings.WidgetChanges(
            enabled=True, allowed_origins=origins, phone="020 123 4567", whatsapp="+31 6 12345678",
            email="help@winkel.example", callback_minutes="30", callback_attempts="3"))
        for channel in ("chat", "phone", "email", "whatsapp", "callback"):
            hours_service.replace(session, tenant.shop_id, channel,
                                  [i for day in range(7) for i in hours_service.parse_day(day, hours)])
        if online:
            agent_service.touch_presence(session, tenant.agent_id)


def chats(client: TestClient, factory: sessionmaker[Session], tenant: Tenant, count: int,
          answered_after: dt.timedelta | None = None) -> None:
    ids = [post_message(client, tenant, customer={"email": f"c{i}@example.nl"})["conversation_id"]
           for i in range(count)]
    with factory() as session, session.begin():
        values: dict[str, object] = {"channel": "chat"}
        if answered_after is not None:
            values |= {"first_response_at": clock.now() + answered_after, "waiting_since": None}
        session.execute(update(Conversation).where(Conversation.id.in_(ids)).values(**values))


def by_channel(body: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {item["channel"]: item for item in body["channels"]}


def test_a_new_shop_offers_chat_without_hours(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    response = client.get(url(factory, tenant))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age=15" in response.headers["cache-control"]
    body = response.json()
    assert body["shop"] == {"name": "Winkel", "time_zone": "Europe/Amsterdam"}
    assert body["now"] == "2026-11-24T11:00:00+01:00"
    assert [item["channel"] for item in body["channels"]] == ["chat"]
    chat = body["channels"][0]
    # No hours set: nothing restricts chat, but nobody is online yet.
    assert chat["available"] is False and chat["open_now"] is True and chat["hours_configured"] is False
    assert chat["opens_at"] is None and chat["hours"] == [] and chat["expected_reply_seconds"] is None
    assert chat["expected_reply_text"]["nl"] == "Er is nu niemand online; laat een bericht achter"
    assert body["callback"] == {"available": True, "promise_minutes": 30,
                                "next_due_at": "2026-11-24T11:30:00+01:00"}
    assert body["leave_message"] is True
    assert body["invitations"] is False  # no rules: the widget reports no page events


def test_without_hours_chat_is_there_whenever_an_agent_is_online(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        agent_service.touch_presence(session, tenant.agent_id)
    chat = client.get(url(factory, tenant)).json()["channels"][0]
    assert chat["available"] is True and chat["hours_configured"] is False and chat["closes_at"] is None
    assert chat["expected_reply_seconds"] == 120


def test_the_widget_is_told_whether_to_report_page_events(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        rule = InvitationRule(shop_id=tenant.shop_id, name="Grote mand", trigger="cart_value", threshold=150,
                              action="chat", message_nl="Hulp nodig?", message_en="Need help?", enabled=False,
                              position=0)
        session.add(rule)
    assert client.get(url(factory, tenant)).json()["invitations"] is False  # only a rule that is on counts
    with factory() as session, session.begin():
        session.get_one(InvitationRule, rule.id).enabled = True
    frozen_clock.advance(seconds=11)  # past the answer cache
    assert client.get(url(factory, tenant)).json()["invitations"] is True


def test_open_with_an_agent_online_and_a_queue(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)
    chats(client, factory, tenant, 2)  # two chats waiting for a first answer

    body = client.get(url(factory, tenant)).json()

    channels = by_channel(body)
    assert list(channels) == ["chat", "phone", "whatsapp", "email"]
    chat = channels["chat"]
    assert chat["available"] and chat["open_now"] and chat["hours_configured"]
    assert chat["closes_at"] == "2026-11-24T17:00:00+01:00" and chat["opens_at"] is None
    assert chat["hours"][TUESDAY] == {"weekday": TUESDAY, "opens": "09:00", "closes": "17:00"}
    # Too few answers to measure: the 2-minute default, times (1 + 2 waiting / 1 online).
    assert chat["expected_reply_seconds"] == 360
    assert chat["expected_reply_text"] == {"nl": "Meestal antwoord binnen 6 minuten",
                                           "en": "We usually answer within 6 minutes"}
    assert chat["contact"] is None
    assert channels["phone"]["contact"] == "+31201234567" and channels["phone"]["available"]
    assert channels["phone"]["expected_reply_text"]["en"] == "Call us now, we are open until 17:00"
    assert channels["whatsapp"]["contact"] == "+31612345678"
    assert channels["email"]["contact"] == "help@winkel.example"
    assert channels["email"]["expected_reply_seconds"] == 8 * 3600
    assert body["callback"] == {"available": True, "promise_minutes": 30, "next_due_at": "2026-11-24T11:30:00+01:00"}
    assert body["leave_message"] is False


def test_the_estimate_follows_recent_first_responses(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)
    chats(client, factory, tenant, 5, answered_after=dt.timedelta(seconds=50))
    chat = by_channel(client.get(url(factory, tenant)).json())["chat"]
    assert chat["expected_reply_seconds"] == 50
    assert chat["expected_reply_text"]["nl"] == "Meestal antwoord binnen een minuut"


def test_nobody_online_means_no_live_chat(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant, online=False)
    body = client.get(url(factory, tenant)).json()
    chat = by_channel(body)["chat"]
    assert chat["open_now"] is True and chat["available"] is False and chat["expected_reply_seconds"] is None
    assert chat["expected_reply_text"]["en"] == "Nobody is online right now; leave a message"
    assert body["leave_message"] is True


def test_closed_says_when_it_opens(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)
    frozen_clock.advance(hours=9)  # 20:00 in Amsterdam

    body = client.get(url(factory, tenant)).json()

    channels = by_channel(body)
    chat = channels["chat"]
    assert not chat["available"] and not chat["open_now"]
    assert chat["opens_at"] == "2026-11-25T09:00:00+01:00" and chat["closes_at"] is None
    assert chat["expected_reply_seconds"] is None
    assert chat["expected_reply_text"] == {"nl": "We antwoorden morgen vanaf 09:00",
                                           "en": "We answer tomorrow from 09:00"}
    assert channels["phone"]["expected_reply_text"]["nl"] == "We zijn weer bereikbaar morgen vanaf 09:00"
    assert channels["email"]["available"] is True and channels["email"]["expected_reply_seconds"] is None
    assert body["callback"]["next_due_at"] == "2026-11-25T09:30:00+01:00"
    assert body["leave_message"] is True


def test_on_a_public_holiday_chat_is_closed_until_the_next_working_day(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)  # every day 09:00-17:00, an agent online; Dutch holidays by default
    frozen_clock.current = dt.datetime(2026, 12, 25, 10, 0, tzinfo=dt.UTC)  # Eerste Kerstdag, 11:00

    body = client.get(url(factory, tenant)).json()

    chat = by_channel(body)["chat"]
    assert not chat["available"] and not chat["open_now"] and chat["hours_configured"]
    # Tweede Kerstdag is closed too: the next opening is Sunday morning.
    assert chat["opens_at"] == "2026-12-27T09:00:00+01:00"
    assert chat["expected_reply_text"]["nl"] == "We antwoorden zondag vanaf 09:00"
    assert body["callback"]["next_due_at"] == "2026-12-27T09:30:00+01:00"
    assert body["leave_message"] is True


def test_a_closure_of_the_shop_closes_chat_and_an_extra_opening_opens_it(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)
    today = dt.date(2026, 11, 24)
    with factory() as session, session.begin():
        hours_service.add_day(session, tenant.shop_id, day=today, channel=None, note="Inventaris", today=today)
        hours_service.add_day(session, tenant.shop_id, day=today, channel="phone", opens=10 * 60, closes=12 * 60,
                              today=today)

    channels = by_channel(client.get(url(factory, tenant)).json())

    assert not channels["chat"]["open_now"] and channels["chat"]["opens_at"] == "2026-11-25T09:00:00+01:00"
    assert channels["phone"]["open_now"] and channels["phone"]["closes_at"] == "2026-11-24T12:00:00+01:00"


def test_unlisted_channels_and_a_disabled_widget(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        widget_settings.update(session, tenant.shop_id, widget_settings.WidgetChanges(
            enabled=False, allowed_origins="", phone="", whatsapp="", email="help@winkel.example",
            callback_minutes="30", callback_attempts="3"))
    body = client.get(url(factory, tenant)).json()
    assert [item["channel"] for item in body["channels"]] == ["email"]
    assert body["leave_message"] is False and body["callback"]["available"] is False


def test_cors_follows_the_allowed_sites(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant, origins="https://winkel.example\nhttps://www.winkel.example")
    address = url(factory, tenant)
    allowed = client.get(address, headers={"Origin": "https://www.winkel.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://www.winkel.example"
    assert allowed.headers["vary"] == "Origin"
    other = client.get(address, headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in client.get(address).headers


def test_answers_are_kept_a_few_seconds(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    address = url(factory, tenant)
    assert by_channel(client.get(address).json())["chat"]["hours_configured"] is False
    configure(factory, tenant)
    assert by_channel(client.get(address).json())["chat"]["hours_configured"] is False  # cached
    frozen_clock.advance(seconds=11)
    assert by_channel(client.get(address).json())["chat"]["hours_configured"] is True


@pytest.mark.parametrize("key", ["pk_unknown", "x" * 5000, "pk_ünïcode", "%00", "pk_%E2%80%AE", "..%2F..%2Fetc"])
def test_unknown_or_hostile_keys_are_404(client: TestClient, key: str) -> None:
    response = client.get(f"/api/v1/public/shops/{key}/reachability")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    if "/" not in key.replace("%2F", "/"):  # a key with a slash is another path, unknown to the router
        assert response.headers["access-control-allow-origin"] == "*"


def test_rate_limited_per_address(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    address = url(factory, tenant)
    statuses = [client.get(address).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    limited = client.get(address)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert limited.headers["retry-after"] == "60"


def test_queries_are_few_and_a_cached_answer_needs_none(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    configure(factory, tenant)
    chats(client, factory, tenant, 3)
    address = url(factory, tenant)
    with counting(factory) as statements:
        client.get(address)
        first = len(statements)
        client.get(address)
        second = len(statements) - first
    # shop, widget settings, opening hours, agents online, chat queue, recent first replies, rules
    assert first <= 7, statements
    assert second == 0, statements[first:]
