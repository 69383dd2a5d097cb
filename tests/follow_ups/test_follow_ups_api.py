"""POST, GET and DELETE /api/v1/conversations/{id}/follow-ups: the contract, and what it
does with malformed, oversized, hostile, repeated and foreign requests."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from follow_up_support import notes
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.scheduling.models import DueJob
from factories import Tenant, post_message
from ui_support import active_content, sign_in

NOTE = "Nagaan of de vervoerder het heeft opgelost"


def url(conversation_id: object, follow_up_id: object = None) -> str:
    base = f"/api/v1/conversations/{conversation_id}/follow-ups"
    return base if follow_up_id is None else f"{base}/{follow_up_id}"


def when(frozen_clock: clock.FrozenClock, **delta: float) -> str:
    return (frozen_clock.current + dt.timedelta(**delta)).isoformat()


@pytest.fixture
def conversation_id(client: TestClient, tenant: Tenant) -> int:
    return int(post_message(client, tenant)["conversation_id"])  # type: ignore[call-overload]


def jobs(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(DueJob).where(DueJob.kind == "follow_up")) or 0)


def test_schedule_list_and_cancel(client: TestClient, tenant: Tenant, conversation_id: int,
                                  frozen_clock: clock.FrozenClock) -> None:
    response = client.post(url(conversation_id), headers=tenant.headers,
                           json={"due_at": "2026-12-08T11:00:00+01:00", "note": NOTE})

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["due_at"] == "2026-12-08T10:00:00Z"
    assert created["note"] == NOTE and created["state"] == "pending"
    assert created["conversation_id"] == conversation_id and created["agent_id"] == tenant.agent_id
    assert created["done_at"] is None
    later = client.post(url(conversation_id), headers=tenant.headers,
                        json={"due_at": when(frozen_clock, days=30), "note": "Nog eens"}).json()
    listed = client.get(url(conversation_id), headers=tenant.headers).json()["items"]
    assert [item["id"] for item in listed] == [created["id"], later["id"]]  # earliest due first

    response = client.delete(url(conversation_id, created["id"]), headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    assert client.delete(url(conversation_id, created["id"]), headers=tenant.headers).status_code == 204
    states = {item["id"]: item["state"] for item in client.get(url(conversation_id), headers=tenant.headers)
              .json()["items"]}
    assert states == {created["id"]: "cancelled", later["id"]: "pending"}
    texts = [note["text"] for note in notes(client, tenant, conversation_id)]
    assert texts[0] == f"Follow-up gepland voor dinsdag 8 december 2026 om 11:00: {NOTE}"
    assert texts[-1] == "Follow-up voor dinsdag 8 december 2026 om 11:00 geannuleerd."
    assert len(texts) == 3  # the second cancel changed nothing


def test_a_follow_up_that_came_due_cannot_be_cancelled(app: FastAPI, client: TestClient, tenant: Tenant,
                                                       conversation_id: int,
                                                       frozen_clock: clock.FrozenClock) -> None:
    created = client.post(url(conversation_id), headers=tenant.headers,
                          json={"due_at": when(frozen_clock, minutes=5), "note": NOTE}).json()
    frozen_clock.advance(minutes=5)
    app.state.worker.run_once()

    response = client.delete(url(conversation_id, created["id"]), headers=tenant.headers)

    assert response.status_code == 409
    assert response.json()["error"] == "already_done"
    [done] = client.get(url(conversation_id), headers=tenant.headers).json()["items"]
    assert done["state"] == "done" and done["done_at"] == frozen_clock.current.isoformat().replace("+00:00", "Z")


def test_the_same_request_twice_is_one_follow_up(client: TestClient, factory: sessionmaker[Session],
                                                 tenant: Tenant, conversation_id: int,
                                                 frozen_clock: clock.FrozenClock) -> None:
    body = {"due_at": when(frozen_clock, days=14), "note": NOTE}
    first = client.post(url(conversation_id), headers=tenant.headers, json=body)
    again = client.post(url(conversation_id), headers=tenant.headers, json=body)
    # The same moment written another way, with the same note around spaces, is the same request.
    local = (frozen_clock.current + dt.timedelta(days=14)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    same = client.post(url(conversation_id), headers=tenant.headers,
                       json={"due_at": local.isoformat(), "note": f"  {NOTE} "})

    assert first.status_code == 201 and again.status_code == 200 and same.status_code == 200
    assert first.json() == again.json() == same.json()
    assert jobs(factory) == 1
    assert len(notes(client, tenant, conversation_id)) == 1

    other_note = client.post(url(conversation_id), headers=tenant.headers,
                             json={"due_at": body["due_at"], "note": "Iets anders"})
    assert other_note.status_code == 409 and other_note.json()["error"] == "follow_up_exists"
    cancelled = client.delete(url(conversation_id, first.json()["id"]), headers=tenant.headers)
    assert cancelled.status_code == 204
    revived = client.post(url(conversation_id), headers=tenant.headers,
                          json={"due_at": body["due_at"], "note": "Iets anders"})
    assert revived.status_code == 201
    assert revived.json()["id"] == first.json()["id"] and revived.json()["note"] == "Iets anders"
    assert jobs(factory) == 1


@pytest.mark.parametrize(("body", "status", "error"), [
    ({}, 422, "validation_error"),
    ({"note": NOTE}, 422, "validation_error"),
    ({"due_at": "2026-12-08T11:00:00+01:00"}, 422, "validation_error"),
    ({"due_at": "over twee weken", "note": NOTE}, 422, "validation_error"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": 42}, 422, "validation_error"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": None}, 422, "validation_error"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": NOTE, "agent_id": 1}, 422, "validation_error"),
    ([], 422, "validation_error"),
    ({"due_at": "2026-12-08T11:00:00", "note": NOTE}, 400, "invalid_follow_up"),  # no timezone
    ({"due_at": "2026-11-24T10:00:00Z", "note": NOTE}, 400, "invalid_follow_up"),  # now
    ({"due_at": "2020-01-01T00:00:00Z", "note": NOTE}, 400, "invalid_follow_up"),
    ({"due_at": "2028-11-25T10:00:01Z", "note": NOTE}, 400, "invalid_follow_up"),  # past two years
    ({"due_at": "9999-12-31T23:59:59Z", "note": NOTE}, 400, "invalid_follow_up"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": ""}, 400, "invalid_note"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": " \n\t "}, 400, "invalid_note"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": "x" * 2001}, 400, "invalid_note"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": "x" * 1_000_000}, 400, "invalid_note"),
    ({"due_at": "2026-12-08T11:00:00+01:00", "note": "nul \u0000 byte"}, 400, "invalid_text"),
])
def test_bad_requests_say_what_is_wrong_and_store_nothing(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, conversation_id: int,
    frozen_clock: clock.FrozenClock, body: object, status: int, error: str
) -> None:
    response = client.post(url(conversation_id), headers=tenant.headers, json=body)

    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]
    assert jobs(factory) == 0
    assert notes(client, tenant, conversation_id) == []


def test_bodies_that_are_not_json_or_too_large(client: TestClient, factory: sessionmaker[Session],
                                               tenant: Tenant, conversation_id: int) -> None:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    not_json = client.post(url(conversation_id), headers=headers, content=b'{"due_at": "2026-12-08T11:00:00Z",')
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_json"
    huge = client.post(url(conversation_id), headers=headers,
                       content=b'{"due_at": "2026-12-08T11:00:00Z", "note": "' + b"x" * (3 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413 and huge.json()["error"] == "request_too_large"
    surrogate = client.post(url(conversation_id), headers=headers,  # JSON allows it; no database stores it
                            content=b'{"due_at": "2026-12-08T11:00:00Z", "note": "half \\ud800 a pair"}')
    assert surrogate.status_code == 400 and surrogate.json()["error"] == "invalid_text"
    assert jobs(factory) == 0


def test_html_in_a_note_stays_text(app: FastAPI, client: TestClient, tenant: Tenant, conversation_id: int,
                                   frozen_clock: clock.FrozenClock) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b>vet</b>'
    created = client.post(url(conversation_id), headers=tenant.headers,
                          json={"due_at": when(frozen_clock, hours=1), "note": hostile}).json()
    assert created["note"] == hostile
    frozen_clock.advance(hours=1)
    app.state.worker.run_once()

    scheduled, due = notes(client, tenant, conversation_id)
    for note in (scheduled, due):
        assert hostile in str(note["text"])
        assert "<script>" not in str(note["html"]) and "<img" not in str(note["html"])
        assert "&lt;script&gt;" in str(note["html"])
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert "&lt;script&gt;alert" in page
    assert active_content(page) == []


def test_another_shops_conversation_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                                 conversation_id: int, frozen_clock: clock.FrozenClock) -> None:
    theirs = int(post_message(client, other_tenant)["conversation_id"])  # type: ignore[call-overload]
    their_follow_up = client.post(url(theirs), headers=other_tenant.headers,
                                  json={"due_at": when(frozen_clock, days=1), "note": NOTE}).json()
    body = {"due_at": when(frozen_clock, days=2), "note": NOTE}

    answers = [
        client.post(url(theirs), headers=tenant.headers, json=body),
        client.get(url(theirs), headers=tenant.headers),
        client.delete(url(theirs, their_follow_up["id"]), headers=tenant.headers),
        client.delete(url(conversation_id, their_follow_up["id"]), headers=tenant.headers),
        client.delete(url(conversation_id, 99999999), headers=tenant.headers),
        client.post(url(2**63), headers=tenant.headers, json=body),
        client.delete(url(conversation_id, 2**64), headers=tenant.headers),
        client.delete(url(conversation_id, -1), headers=tenant.headers),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert {answer.json()["error"] for answer in answers} == {"not_found"}
    [still] = client.get(url(theirs), headers=other_tenant.headers).json()["items"]
    assert still["state"] == "pending"


def test_without_a_token_nothing_is_answered(client: TestClient, conversation_id: int) -> None:
    assert client.get(url(conversation_id)).status_code == 401
    assert client.post(url(conversation_id), json={"due_at": "2026-12-08T11:00:00Z", "note": NOTE}).status_code == 401
