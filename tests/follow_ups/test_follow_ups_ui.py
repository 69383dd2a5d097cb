"""Scheduling and cancelling a follow-up from the conversation page, with and without the
page script; times typed in Amsterdam time."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from follow_up_support import notes

from balie import clock
from factories import Tenant, post_message
from ui_support import ASYNC, sign_in


def follow_ups(client: TestClient, tenant: Tenant, conversation_id: object) -> list[dict[str, object]]:
    return client.get(f"/api/v1/conversations/{conversation_id}/follow-ups",  # type: ignore[no-any-return]
                      headers=tenant.headers).json()["items"]


def test_schedule_from_the_page_and_cancel_it(app: FastAPI, client: TestClient, tenant: Tenant,
                                              frozen_clock: clock.FrozenClock) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert 'id="follow-up-form"' in page and 'data-testid="follow-up-at"' in page

    response = client.post(f"/inbox/c/{conversation_id}/follow-ups?view=mine",
                           data={"csrf_token": csrf, "due_at": "2026-12-08T11:00",
                                 "note": "Bellen met <PostNL>"}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/c/{conversation_id}?view=mine&notice=scheduled"
    [scheduled] = follow_ups(client, tenant, conversation_id)
    assert dt.datetime.fromisoformat(str(scheduled["due_at"])) == dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)
    page = client.get(response.headers["location"]).text
    assert 'role="status">Follow-up gepland.' in page
    item = re.search(r'<li class="follow-ups__item" data-follow-up-id="(\d+)">(.*?)</li>', page, re.S)
    assert item and int(item.group(1)) == scheduled["id"]
    assert "dinsdag 8 december 2026 11:00" in item.group(2) and "Bellen met &lt;PostNL&gt;" in item.group(2)

    cancel = client.post(f"/inbox/c/{conversation_id}/follow-ups/{scheduled['id']}/cancel",
                         data={"csrf_token": csrf}, headers=ASYNC)

    assert cancel.status_code == 200 and cancel.json()["notice"] == "cancelled"
    assert follow_ups(client, tenant, conversation_id)[0]["state"] == "cancelled"
    assert 'id="follow-ups"' not in client.get(f"/inbox/c/{conversation_id}").text
    assert [note["text"] for note in notes(client, tenant, conversation_id)][-1] == (
        "Follow-up voor dinsdag 8 december 2026 om 11:00 geannuleerd.")


def test_the_page_script_schedules_and_the_live_partial_shows_it(client: TestClient, tenant: Tenant,
                                                                 frozen_clock: clock.FrozenClock) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)

    response = client.post(f"/inbox/c/{conversation_id}/follow-ups", headers=ASYNC,
                           data={"csrf_token": csrf, "due_at": "2027-07-01T09:00", "note": "Zomertijd"})

    assert response.status_code == 200 and response.json() == {"ok": True, "notice": "scheduled"}
    [scheduled] = follow_ups(client, tenant, conversation_id)
    assert dt.datetime.fromisoformat(str(scheduled["due_at"])) == dt.datetime(2027, 7, 1, 7, 0, tzinfo=dt.UTC)
    partial = client.get(f"/ui/partials/conversation/{conversation_id}").text
    assert "Zomertijd" in partial and 'data-testid="cancel-follow-up"' in partial


def test_mistakes_are_explained(client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)
    url = f"/inbox/c/{conversation_id}/follow-ups"

    past = client.post(url, data={"csrf_token": csrf, "due_at": "2026-11-01T09:00", "note": "Te laat"},
                       headers=ASYNC)
    garbled = client.post(url, data={"csrf_token": csrf, "due_at": "morgen", "note": "Wanneer?"}, headers=ASYNC)
    empty = client.post(url, data={"csrf_token": csrf, "due_at": "2026-12-01T09:00", "note": " "})
    no_token = client.post(url, data={"due_at": "2026-12-01T09:00", "note": "Zonder token"}, headers=ASYNC)
    foreign = client.post("/inbox/c/999999/follow-ups", headers=ASYNC,
                          data={"csrf_token": csrf, "due_at": "2026-12-01T09:00", "note": "Niet van ons"})

    expected = "Kies een moment in de toekomst, hoogstens twee jaar vooruit, voor de follow-up."
    assert past.status_code == 400 and past.json() == {"error": "invalid_follow_up", "detail": expected}
    assert garbled.status_code == 400 and garbled.json()["detail"] == expected
    assert empty.status_code == 400 and "Schrijf op wat je wilt nagaan" in empty.text  # the page, with the reason
    assert no_token.status_code == 403
    assert foreign.status_code == 404
    assert follow_ups(client, tenant, conversation_id) == []


def test_english_agents_read_english(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    sign_in(client, tenant)
    client.cookies.set("balie_lang", "en")
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert "Follow up on" in page and "Schedule" in page
