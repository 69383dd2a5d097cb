"""Shared pieces of the browser tests: the site under test, shops and logging in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from servers import Server, balie
from webhooks import Receiver

PASSWORD = "correct horse battery"


@dataclass
class Site:
    server: Server
    env: dict[str, str]
    receiver: Receiver
    token: str
    agent_email: str
    shop_id: int

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def make_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BALIE_DATA_DIR": str(tmp_path / "data"), "BALIE_WEBHOOK_ALLOW_PRIVATE": "1",
            "BALIE_DATABASE_URL": f"sqlite:///{tmp_path / 'balie.db'}", **extra}


def add_shop(env: dict[str, str], name: str, email: str) -> tuple[int, str]:
    shop_id = int(balie("shop", "add", name, env=env).split()[0])
    balie("agent", "add", email, "--shop", str(shop_id), "--admin", "--name", "Ada de Vries",
          "--password", PASSWORD, env=env)
    token = balie("token", "create", "--shop", str(shop_id), "--agent", email, env=env).strip()
    return shop_id, token



def log_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(url + "/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("conversation-list")).to_be_attached()
