"""Shared pieces of the widget's browser tests: `balie serve` with the demo shop seeded, a
visitor on the demo shop's pages, and the demo admin in a browser of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from e2e_support import log_in, make_env
from playwright.sync_api import Browser, Dialog, Locator, Page, WebSocket, WebSocketRoute, expect

from balie.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_SHOP
from servers import Server, balie, free_port, serving


@dataclass
class DemoShop:
    """`balie serve` with the demo shop seeded, restartable on the same port and database."""

    env: dict[str, str]
    port: int
    token: str
    running: ExitStack = field(default_factory=ExitStack)
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = self.running.enter_context(serving(self.env, port=self.port))

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.running.close()
        self.server = None
        try:
            yield
        finally:
            self.start()

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, headers={"Authorization": f"Bearer {self.token}"},
                             timeout=10, **kwargs)


@contextmanager
def demo_shop(directory: Path) -> Iterator[DemoShop]:
    """A new database in `directory`, migrated and seeded with the demo shop, served until the
    block ends (by whichever server runs last: a test may have restarted it)."""
    env = make_env(directory)
    balie("migrate", env=env)
    balie("demo", env=env)
    token = balie("token", "create", "--shop", DEMO_SHOP, "--agent", DEMO_ADMIN, env=env).strip()
    shop = DemoShop(env=env, port=free_port(), token=token)
    with shop.running:
        shop.start()
        yield shop


@dataclass
class Visitor:
    page: Page
    dialogs: list[str]

    @property
    def input(self) -> Locator:
        return self.page.get_by_test_id("widget-input")

    def message(self, text: str) -> Locator:
        return self.page.get_by_test_id("widget-message").filter(has_text=text)

    def open_chat(self) -> None:
        self.page.get_by_role("button", name="Chat met ons").click()
        expect(self.page.get_by_role("dialog", name="Chat")).to_be_visible()

    def say(self, text: str) -> Locator:
        self.input.fill(text)
        self.input.press("Enter")
        sent = self.message(text)
        expect(sent).to_have_attribute("data-status", "verzonden")
        return sent


def visitor(browser: Browser, demo: DemoShop, socket: Callable[[WebSocketRoute], Any] | None = None, *,
            path: str = "/demo/shop", watch: Callable[[WebSocket], Any] | None = None, **options: Any) -> Visitor:
    """A new browser (so a new visitor) on one of the demo shop's pages, in Dutch. `socket`
    routes the widget's socket (`page.route_web_socket`); `watch` is told of every socket the
    page opens, from the first page on (`page.on("websocket")`)."""
    page = browser.new_context(locale="nl-NL", **options).new_page()
    if socket is not None:
        page.route_web_socket("**/widget/ws*", socket)
    if watch is not None:
        page.on("websocket", watch)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(demo.url + path)
    expect(page.get_by_role("button", name="Chat met ons")).to_be_visible()
    return Visitor(page, dialogs)


def agent_logs_in(browser: Browser, demo: DemoShop) -> Page:
    """The demo admin in their own browser, on the inbox (which also makes them online)."""
    page = browser.new_context(locale="nl-NL").new_page()
    log_in(page, demo.url, DEMO_ADMIN, DEMO_PASSWORD)
    return page


def agent_opens(browser: Browser, demo: DemoShop, text: str) -> Page:
    """The demo admin in their own browser, on the chat conversation with this text."""
    page = agent_logs_in(browser, demo)
    page.locator("[data-conversation-id]").filter(has_text=text).locator("a").first.click()
    expect(page.get_by_test_id("message").filter(has_text=text)).to_be_visible()
    return page
