"""The chat widget in a real browser, on the demo shop page Balie serves: a visitor chats across
pages and reloads, an agent answers live, a server restart loses and doubles nothing, hostile
text stays text, the keyboard and a phone work."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, WebSocketRoute, expect
from widget_support import DemoShop, agent_opens, demo_shop, visitor

LIVE = 1000  # ms: the visitor sees an answer, or "gelezen", within a second
RECONNECT = 30_000  # ms: the widget's backoff (0.5 s doubling) after a few seconds without server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoShop]:
    with demo_shop(tmp_path_factory.mktemp("widget")) as shop:
        yield shop


class HeldBack:
    """Routes the widget's socket; Balie's frames wait until `release()`, so the page is not
    welcomed yet."""

    def __init__(self) -> None:
        self.frames: list[str | bytes] = []
        self.route: WebSocketRoute | None = None
        self.released = False

    def __call__(self, route: WebSocketRoute) -> None:
        self.route = route
        route.connect_to_server().on_message(self.from_balie)

    def from_balie(self, frame: str | bytes) -> None:
        if self.released and self.route is not None:
            self.route.send(frame)
        else:
            self.frames.append(frame)

    def release(self) -> None:
        assert self.route is not None
        self.released = True
        for frame in self.frames:
            self.route.send(frame)
        self.frames.clear()


def stored(demo: DemoShop, marker: str) -> list[str]:
    """The texts of the messages of the one chat conversation with this marker."""
    found = demo.api("GET", "/api/v1/conversations", params={"channel": "chat", "status": "all", "q": marker})
    assert found.status_code == 200, found.text
    [conversation] = found.json()["items"]
    detail = demo.api("GET", f"/api/v1/conversations/{conversation['id']}")
    return [message["text"] for message in detail.json()["messages"]]


def test_the_conversation_follows_the_visitor_to_the_next_page_and_a_reload(browser: Browser, demo: DemoShop) -> None:
    shopper = visitor(browser, demo)
    shopper.open_chat()
    text = f"Is de regenjas waterdicht? {uuid.uuid4().hex[:8]}"
    shopper.say(text)

    shopper.page.get_by_test_id("demo-link").click()
    expect(shopper.page).to_have_url(demo.url + "/demo/shop/checkout")
    # The panel was open: it opens by itself, with the conversation, and leaves the page its focus.
    expect(shopper.page.get_by_role("dialog", name="Chat")).to_be_visible()
    expect(shopper.message(text)).to_have_attribute("data-status", "verzonden")
    expect(shopper.input).not_to_be_focused()

    shopper.page.reload()
    expect(shopper.message(text)).to_have_count(1)
    expect(shopper.page.get_by_role("dialog", name="Chat")).to_be_visible()
    shopper.page.context.close()


def test_an_agent_answers_and_the_visitor_sees_it_live(browser: Browser, demo: DemoShop) -> None:
    shopper = visitor(browser, demo)
    shopper.open_chat()
    question = f"Hebben jullie maat L? {uuid.uuid4().hex[:8]}"
    asked = shopper.say(question)

    agent = agent_opens(browser, demo, question)
    expect(asked).to_have_attribute("data-status", "gelezen", timeout=LIVE)
    answer = "Ja, maat L is op voorraad!"
    agent.get_by_test_id("composer").fill(answer)
    agent.get_by_test_id("send").click()

    reply = shopper.message(answer)
    expect(reply.locator(".balie-w__text")).to_have_text(answer, timeout=LIVE)
    expect(reply.locator(".balie-w__who")).to_have_text("Sanne")  # the first name only
    agent.context.close()
    shopper.page.context.close()


def test_a_message_typed_while_the_server_restarts_arrives_once(browser: Browser, demo: DemoShop) -> None:
    shopper = visitor(browser, demo)
    shopper.open_chat()
    marker = uuid.uuid4().hex[:8]
    before, during = f"Voor de herstart {marker}", f"Tijdens de herstart {marker}"
    shopper.say(before)

    with demo.stopped():
        expect(shopper.page.get_by_role("status").filter(has_text="Geen verbinding")).to_be_visible()
        shopper.input.fill(during)
        shopper.input.press("Enter")
        expect(shopper.message(during)).to_have_attribute("data-status", "wordt verzonden")

    expect(shopper.message(during)).to_have_attribute("data-status", "verzonden", timeout=RECONNECT)
    expect(shopper.page.get_by_role("status").filter(has_text="Geen verbinding")).to_be_hidden()
    assert stored(demo, marker) == [before, during]

    shopper.page.reload()  # nothing waits in the browser any more: nothing is sent again
    expect(shopper.message(during)).to_have_attribute("data-status", "verzonden")
    expect(shopper.page.get_by_test_id("widget-message")).to_have_count(2)
    assert stored(demo, marker) == [before, during]
    shopper.page.context.close()


def test_html_typed_by_a_visitor_stays_text_in_the_widget_and_the_agent_ui(browser: Browser,
                                                                          demo: DemoShop) -> None:
    payload = "<img src=x onerror=alert(1)>"
    shopper = visitor(browser, demo)
    shopper.open_chat()
    sent = shopper.say(payload)
    expect(sent.locator(".balie-w__text")).to_have_text(payload)
    assert shopper.page.locator("[data-balie-widget] img").count() == 0

    agent = agent_opens(browser, demo, payload)
    agent_dialogs: list[str] = []
    agent.on("dialog", lambda dialog: (agent_dialogs.append(dialog.message), dialog.dismiss()))
    expect(agent.get_by_test_id("message").filter(has_text=payload)).to_have_count(1)
    assert agent.locator("#messages img").count() == 0
    agent.reload()  # the page as served, not only as updated live
    expect(agent.get_by_test_id("message").filter(has_text=payload)).to_have_count(1)
    assert agent.locator("#messages img, .row img[src='x']").count() == 0
    assert shopper.dialogs == [] and agent_dialogs == []
    agent.context.close()
    shopper.page.context.close()


def test_the_widget_works_with_the_keyboard_alone(browser: Browser, demo: DemoShop) -> None:
    shopper = visitor(browser, demo)
    page = shopper.page
    button = page.get_by_role("button", name="Chat met ons")
    page.keyboard.press("Tab")  # the page's own link
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Chat")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("log")).to_have_attribute("data-testid", "widget-log")
    expect(shopper.input).to_be_focused()
    page.keyboard.type("Eerste regel")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("tweede regel")
    page.keyboard.press("Enter")
    sent = shopper.message("Eerste regel")
    expect(sent).to_have_attribute("data-status", "verzonden")
    expect(sent.locator(".balie-w__text")).to_have_text("Eerste regel\ntweede regel")
    expect(shopper.input).to_have_value("")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.context.close()


def test_on_a_phone_the_panel_fills_the_screen(browser: Browser, demo: DemoShop) -> None:
    shopper = visitor(browser, demo, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    shopper.open_chat()
    dialog = shopper.page.get_by_role("dialog", name="Chat")
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
    # The shop's own `header {max-width: ...; margin: auto}` leaves the widget's header alone.
    header = dialog.locator("header").bounding_box()
    assert header is not None and (header["x"], header["width"]) == (0, 375)
    text = f"Vanaf mijn telefoon {uuid.uuid4().hex[:8]}"
    shopper.input.fill(text)
    shopper.page.get_by_test_id("widget-send").click(timeout=5000)  # not covered by the round button
    expect(shopper.message(text)).to_have_attribute("data-status", "verzonden")
    shopper.page.get_by_role("button", name="Chat sluiten").click()
    expect(shopper.page.get_by_role("dialog")).to_be_hidden()
    expect(shopper.page.get_by_role("button", name="Chat met ons")).to_be_visible()
    shopper.page.context.close()





def test_a_first_message_typed_before_the_chat_connected_is_kept(browser: Browser, demo: DemoShop) -> None:
    socket = HeldBack()
    shopper = visitor(browser, demo, socket)
    shopper.open_chat()
    text = f"Snel getypt {uuid.uuid4().hex[:8]}"  # by a new visitor, before Balie's welcome
    shopper.input.fill(text)
    shopper.input.press("Enter")
    expect(shopper.message(text)).to_have_attribute("data-status", "wordt verzonden")
    socket.release()
    expect(shopper.message(text)).to_have_attribute("data-status", "verzonden")
    shopper.page.context.close()
