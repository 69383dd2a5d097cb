"""The widget's ways to reach a shop beyond a live chat, in a real browser on the demo shop: a
call-back asked for outside opening hours lands in the agents' queue, due when the shop's
rules say; a shopper hesitating at the checkout is invited to chat exactly once.

Each test gets a new server: the opening hours and the invitation rules are shop-wide, and the
widget's reachability is cached for seconds by the server (docs/widget.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, WebSocket, WebSocketRoute, expect
from widget_support import DemoShop, agent_logs_in, agent_opens, demo_shop, visitor

# The widget asks Balie every 15 s whether a quiet checkout page should invite: a rule on the
# smallest idle time (5 s) invites at the first ask, 15 s after the page was reported.
IDLE_ASK = 30_000  # ms
SMALLEST_IDLE = 5  # seconds: the lowest threshold the settings page accepts for checkout_idle

DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoShop]:
    with demo_shop(tmp_path) as shop:
        yield shop


def saved(page: Page, notice: str) -> None:
    expect(page.get_by_role("status").filter(has_text=notice)).to_be_visible()


def dutch(moment: dt.datetime) -> tuple[str, str]:
    """`moment` as the widget's promise writes it ("donderdag 26 november om 10:20"), and the
    date as the call-back queue's tooltip starts it ("donderdag 26 november 2026")."""
    day = f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]}"
    return f"{day} om {moment:%H:%M}", f"{day} {moment.year}"


def test_a_call_back_asked_for_outside_opening_hours_is_queued_for_after_the_next_opening(
        browser: Browser, demo: DemoShop) -> None:
    # Open on one weekday only, two days from now: closed now, and still closed should the test
    # run past midnight. The chat keeps the same hours, so nobody can chat, online or not.
    zone = ZoneInfo("Europe/Amsterdam")
    opening_day = dt.datetime.now(zone).date() + dt.timedelta(days=2)
    promise_minutes = 20
    due = dt.datetime.combine(opening_day, dt.time(10, 0), zone) + dt.timedelta(minutes=promise_minutes)

    owner = agent_logs_in(browser, demo)
    owner.goto(demo.url + "/settings/hours")
    owner.get_by_test_id("time-zone").fill("Europe/Amsterdam")
    for channel in ("chat", "callback"):
        for weekday in range(7):
            owner.get_by_test_id(f"{channel}-{weekday}").fill("10:00-12:00" if weekday == opening_day.weekday() else "")
    owner.get_by_test_id("hours-submit").click()
    saved(owner, "Wijzigingen opgeslagen.")
    expect(owner.get_by_test_id(f"callback-{opening_day.weekday()}")).to_have_value("10:00–12:00")
    owner.goto(demo.url + "/settings/widget")
    owner.get_by_test_id("callback-minutes").fill(str(promise_minutes))
    owner.get_by_test_id("widget-submit").click()
    saved(owner, "Wijzigingen opgeslagen.")

    shopper = visitor(browser, demo)
    shopper.open_chat()
    panel = shopper.page.get_by_role("dialog", name="Chat")
    expect(panel.get_by_text("Er is nu niemand om te chatten.")).to_be_visible()
    expect(panel.get_by_test_id("widget-expected")).to_contain_text("vanaf 10:00")
    panel.get_by_role("button", name="Bel me terug").click()
    form = panel.get_by_test_id("widget-callback-form")
    expect(form.get_by_label("Je telefoonnummer")).to_be_focused()
    topic = f"Retour van de regenjas {uuid.uuid4().hex[:8]}"
    form.get_by_label("Je telefoonnummer").fill("020 765 4321")
    form.get_by_label("Je naam").fill("Anouk de Boer")
    form.get_by_label("Waarover?").fill(topic)
    form.get_by_role("button", name="Versturen").click()

    promised, date = dutch(due)
    confirmation = panel.get_by_test_id("widget-confirmation")
    expect(confirmation).to_have_text(f"Dank je! We bellen je uiterlijk {promised} terug.")
    expect(form).to_be_hidden()

    owner.goto(demo.url + "/callbacks")
    listed = owner.locator("[data-callback-id]").filter(has_text=topic)
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("heading")).to_have_text("Anouk de Boer")
    expect(listed.get_by_test_id("tel")).to_have_attribute("href", "tel:+31207654321")
    expect(listed).to_contain_text("via de chatwidget")
    when = listed.locator("time").first
    expect(when).to_have_attribute("title", f"{date} {due:%H:%M}")
    expect(when).to_contain_text(f"{due:%H:%M}")
    datetime_attribute = when.get_attribute("datetime")
    assert datetime_attribute is not None and dt.datetime.fromisoformat(datetime_attribute) == due
    expect(listed.get_by_test_id("overdue")).to_have_count(0)
    owner.context.close()
    shopper.page.context.close()


@dataclass
class Carried:
    """The frames one page's widget socket carried, each way, as JSON."""

    socket: WebSocket
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.received if frame.get("type") == kind]


class Watch:
    """The widget's socket as the test sees it. The route passes every frame on unchanged and
    follows each page report with a ping: Balie answers a socket's frames in order, so the pong
    says Balie has answered the report (with an invitation, or with nothing)."""

    def __init__(self) -> None:
        self.sockets: list[Carried] = []

    def route(self, route: WebSocketRoute) -> None:
        balie = route.connect_to_server()  # Balie's frames go to the page unchanged

        def to_balie(frame: str | bytes) -> None:
            balie.send(frame)
            if isinstance(frame, str) and json.loads(frame).get("type") == "page":
                balie.send(json.dumps({"type": "ping"}))

        route.on_message(to_balie)

    def opened(self, socket: WebSocket) -> None:
        carried = Carried(socket)
        socket.on("framesent", lambda payload: carried.sent.append(json.loads(payload)))
        socket.on("framereceived", lambda payload: carried.received.append(json.loads(payload)))
        self.sockets.append(carried)

    def answered(self, page: Page, before: int) -> Carried:
        """The first socket the page opened after the first `before`, once Balie has answered
        the page report it carried."""
        if len(self.sockets) == before:
            page.wait_for_event("websocket")
        carried = self.sockets[before]
        if not carried.of_type("pong"):
            carried.socket.wait_for_event("framereceived", lambda payload: json.loads(payload).get("type") == "pong")
        assert [frame["type"] for frame in carried.sent].count("page") == 1
        return carried


def test_a_shopper_hesitating_at_the_checkout_is_invited_once_and_accepting_opens_the_chat(
        browser: Browser, demo: DemoShop) -> None:
    owner = agent_logs_in(browser, demo)  # signed in: Sanne is online to answer the chat
    owner.goto(demo.url + "/settings/invitations")
    # The shop's estimate of a first chat reply is 2 minutes; accept up to 10.
    owner.get_by_test_id("reply-target-seconds").fill("600")
    owner.get_by_test_id("target-submit").click()
    saved(owner, "Wijzigingen opgeslagen.")
    text = f"Twijfel je nog? We helpen je graag met afrekenen. {uuid.uuid4().hex[:8]}"
    owner.get_by_test_id("rule-name").fill("Twijfel bij de kassa")
    owner.get_by_test_id("rule-trigger").select_option("checkout_idle")
    owner.get_by_test_id("rule-threshold").fill(str(SMALLEST_IDLE))
    owner.get_by_test_id("rule-action").select_option("chat")
    owner.get_by_test_id("rule-message-nl").fill(text)
    owner.get_by_test_id("rule-submit").click()
    saved(owner, "Regel toegevoegd.")
    rule = owner.get_by_test_id("rule").filter(has_text="Twijfel bij de kassa")
    expect(rule.get_by_test_id("rule-shown")).to_have_text("0")

    watch = Watch()
    shopper = visitor(browser, demo, watch.route, watch=watch.opened)
    page = shopper.page
    front = watch.answered(page, 0)
    assert front.of_type("invite") == []
    page.get_by_role("link", name="Naar de kassa").click()
    expect(page).to_have_url(demo.url + "/demo/shop/checkout")
    checkout = watch.answered(page, 1)
    assert {"kind": "checkout", "checkout_step": "betalen", "cart_value": 89.95}.items() \
        <= next(frame for frame in checkout.sent if frame["type"] == "page").items()

    invitation = page.get_by_role("dialog", name="Uitnodiging van de winkel")
    expect(invitation).to_be_visible(timeout=IDLE_ASK)
    expect(invitation).to_contain_text(text)
    expect(page.get_by_test_id("widget-invite")).to_have_count(1)
    assert len(checkout.of_type("invite")) == 1
    expect(page.get_by_role("dialog", name="Chat")).to_be_hidden()

    with checkout.socket.expect_event("framereceived", lambda payload: json.loads(payload)["type"] == "invitation"):
        invitation.get_by_role("button", name="Ja, graag").click()  # Balie confirms the answer
    expect(page.get_by_test_id("widget-invite")).to_have_count(0)
    panel = page.get_by_role("dialog", name="Chat")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("widget-message").filter(has_text=text)).to_have_count(1)

    # The same visit, the same step, still past the threshold: reloading is no progress, and the
    # rule would apply again, but a visit gets one invitation. Nor on another page and back.
    page.reload()
    again = watch.answered(page, 2)
    assert next(frame for frame in again.sent if frame["type"] == "page")["kind"] == "checkout"
    assert again.of_type("invite") == []
    for number, link in enumerate(("Verder winkelen", "Naar de kassa"), start=3):
        page.get_by_role("link", name=link).click()
        assert watch.answered(page, number).of_type("invite") == []
    expect(page.get_by_test_id("widget-invite")).to_have_count(0)
    expect(panel).to_be_visible()  # the chat stays open from page to page

    assert [carried.of_type("error") for carried in watch.sockets] == [[]] * len(watch.sockets)
    owner.reload()
    expect(rule.get_by_test_id("rule-shown")).to_have_text("1")
    expect(rule.get_by_test_id("rule-accepted")).to_have_text("1")

    # The shopper answers in the chat the invitation opened; the agent sees what they were shown.
    question = f"Kan ik ook achteraf betalen? {uuid.uuid4().hex[:8]}"
    shopper.say(question)
    agent = agent_opens(browser, demo, question)
    expect(agent.get_by_text(f"Uitnodiging ‘Twijfel bij de kassa’ aangenomen. De klant zag: {text}")).to_be_visible()
    agent.context.close()
    owner.context.close()
    page.context.close()
