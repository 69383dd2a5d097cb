"""Browser tests: Debian's Chromium driven by Playwright against a real `balie serve`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from e2e_support import Site, add_shop, make_env

from factories import unavailable
from servers import balie, serving
from webhooks import receiving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) and shutil.which("chromium")):
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable(f"Playwright is not installed: {error}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module's tests (starting one costs seconds); tests use their own customers."""
    env = make_env(tmp_path_factory.mktemp("site"))
    balie("migrate", env=env)
    shop_id, token = add_shop(env, "Fietsenwinkel", "ada@fietsen.example")
    with receiving() as receiver, serving(env) as server:
        result = Site(server=server, env=env, receiver=receiver, token=token,
                      agent_email="ada@fietsen.example", shop_id=shop_id)
        response = result.api("PATCH", "/api/v1/shop", json={"webhook_url": receiver.url})
        assert response.status_code == 200, response.text
        yield result
