"""Helpers for the agent UI tests: logging in through the real form and reading pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient

from factories import Tenant

PASSWORD = "correct horse"
ASYNC = {"X-Balie-Async": "1"}


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def session_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "no CSRF meta tag on the page"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    token = form_token(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra},
                       follow_redirects=False)


def sign_in(client: TestClient, tenant: Tenant) -> str:
    """Logs the tenant's agent in; returns the session's CSRF token."""
    response = log_in(client, tenant.email)
    assert response.status_code == 303, response.text
    return session_token(client.get("/inbox").text)


def row_ids(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'class="row[^"]*" data-conversation-id="(\d+)"', html)]


def message_ids(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'data-message-id="(\d+)"', html)]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element as a browser would see it: tag name and attributes."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def active_content(html: str) -> list[str]:
    """What could run in the agent's browser besides our own script: the list should be empty."""
    problems = []
    for tag, attributes in elements(html):
        if tag == "script" and not (attributes.get("src") or "").startswith("/ui/static/"):
            problems.append(f"<script> {attributes}")
        if tag in ("img", "iframe", "object", "embed") and not (attributes.get("src") or "").startswith("/ui/static/"):
            problems.append(f"<{tag}> {attributes}")
        problems += [f"<{tag} {name}=...>" for name in attributes if name.startswith("on") or name == "style"]
    return problems
