"""Live updates in the agent UI: an open page hears about new messages and colleagues' changes
(server-sent events with the session cookie) and fetches the parts that changed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from servers import balie, serving
from ui_support import form_token, row_ids, session_token

PASSWORD = "correct horse battery"


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, object]]]:
    kind = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: ") and kind:
            yield kind, json.loads(line[len("data: "):])
            kind = None


def browser(url: str, email: str) -> httpx.Client:
    """An agent's browser: logged in through the form, keeping its cookies."""
    client = httpx.Client(base_url=url, timeout=httpx.Timeout(10.0))
    token = form_token(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def test_events_need_a_login(client: TestClient) -> None:
    response = client.get("/ui/events")
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


def test_an_open_page_hears_new_messages_and_colleagues_changes(tmp_path: Path) -> None:
    env = {"BALIE_DATA_DIR": str(tmp_path / "data"), "BALIE_DATABASE_URL": f"sqlite:///{tmp_path / 'balie.db'}"}
    balie("migrate", env=env)
    balie("shop", "add", "Live Winkel", env=env)
    for email in ("ada@live.example", "bob@live.example"):
        balie("agent", "add", email, "--shop", "1", "--password", PASSWORD, env=env)
    token = balie("token", "create", "--shop", "1", "--agent", "ada@live.example", env=env).strip()

    with (
        serving(env, "--no-worker") as server,
        closing(browser(server.url, "ada@live.example")) as ada,
        closing(browser(server.url, "bob@live.example")) as bob,
        ada.stream("GET", "/ui/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        heard = events(stream)
        assert next(heard)[0] == "ready"

        posted = httpx.post(f"{server.url}/api/v1/messages", headers={"Authorization": f"Bearer {token}"},
                            json={"customer": {"email": "live@example.nl"}, "text": "Is er iemand?"}, timeout=10)
        assert posted.status_code == 201
        conversation_id = posted.json()["conversation_id"]
        kind, data = next(heard)  # a read timeout (10 s) fails the test instead of hanging
        assert kind == "message.created" and data["conversation_id"] == conversation_id
        # What the page script then fetches shows the new conversation.
        assert row_ids(ada.get("/ui/partials/list").text) == [conversation_id]

        csrf = session_token(bob.get("/inbox").text)
        changed = bob.post(f"/inbox/c/{conversation_id}/update", data={"csrf_token": csrf, "assignee": "me"},
                           headers={"X-Balie-Async": "1"})
        assert changed.status_code == 200
        kind, data = next(heard)
        assert kind == "conversation.updated" and data["conversation_id"] == conversation_id
        partial = ada.get(f"/ui/partials/conversation/{conversation_id}").text
        assert re.search(r'<option value="\d+" selected>bob</option>', partial)
        assert 'id="composer"' not in partial  # a refresh never touches what Ada is typing
