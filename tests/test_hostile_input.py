"""Values the database would refuse get a clear 4xx, never a 500 (found by review, kept here)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from factories import Tenant, post_message

HUGE = str(2**70)
CURSOR_HUGE_ID = "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgMTE4MDU5MTYyMDcxNzQxMTMwMzQyNF0"


@pytest.fixture
def app_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    # raise_server_exceptions=False: a crash must show up as the 500 a user would get.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client  # type: ignore[misc]


def test_out_of_range_ids_and_odd_digits(app_client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(app_client, tenant)["conversation_id"]
    h = tenant.headers
    requests = [
        ("GET", f"/api/v1/conversations/{HUGE}", None),
        ("GET", "/api/v1/conversations/9223372036854775808", None),
        ("GET", f"/api/v1/customers/{HUGE}", None),
        ("GET", f"/api/v1/attachments/{HUGE}", None),
        ("GET", f"/api/v1/conversations?customer_id={HUGE}", None),
        ("GET", f"/api/v1/conversations?assignee={HUGE}", None),
        ("GET", "/api/v1/conversations?assignee=%C2%B2", None),
        ("GET", "/api/v1/conversations?q=%23%C2%B2", None),
        ("GET", f"/api/v1/conversations?q=%23{HUGE}", None),
        ("GET", f"/api/v1/conversations?cursor={CURSOR_HUGE_ID}", None),
        ("GET", f"/api/v1/conversations?sort=waiting&cursor={CURSOR_HUGE_ID}", None),
        ("GET", "/api/v1/conversations?q=%00", None),
        ("GET", "/api/v1/conversations?tag=%00", None),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"assignee_id": 2**70}),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"tags": ["a\u0000b"]}),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"snooze_until": "9999-12-31T23:59:59-05:00"}),
        ("PATCH", f"/api/v1/conversations/{conversation_id}", {"snooze_until": "9999-12-31T23:30:00Z"}),
        ("POST", "/api/v1/customers/1/merge", {"other_id": 2**70}),
        ("POST", f"/api/v1/customers/{HUGE}/tags", {"tag": "vip"}),
        ("POST", "/api/v1/customers/1/tags", {"tag": "a\u0000b"}),
        ("POST", "/api/v1/customers/1/tags", b'{"tag": "\\ud800"}'),
        ("DELETE", f"/api/v1/customers/{HUGE}/tags/vip", None),
        ("DELETE", "/api/v1/customers/1/tags/a%00b", None),
        ("DELETE", "/api/v1/customers/1/tags/%ED%A0%80", None),
        ("PATCH", "/api/v1/shop", {"name": "a\u0000"}),
        ("POST", "/api/v1/messages", b'{"customer": {"email": "x@y.nl"}, "text": "\\ud800"}'),
        ("POST", "/api/v1/messages", {"customer": {"email": "x@y.nl"}, "text": "hoi", "subject": "a\u0000"}),
        ("POST", "/api/v1/messages", {"customer": {"email": "x@y.nl", "name": "a\u0000"}, "text": "hoi"}),
        ("POST", "/api/v1/messages", {"customer": {"email": "x\u0000@y.nl"}, "text": "hoi"}),
        ("POST", "/api/v1/messages", {"customer": {"email": "x@y.nl"}, "text": "hoi", "external_id": "a\u0000"}),
    ]
    for method, url, body in requests:
        if isinstance(body, bytes):
            response = app_client.request(method, url, content=body, headers={**h, "Content-Type": "application/json"})
        else:
            response = app_client.request(method, url, json=body, headers=h)
        assert response.status_code < 500, (method, url, body, response.status_code, response.text)
        if response.status_code >= 400:
            assert response.json()["detail"], (method, url)
    page = app_client.get(f"/api/v1/conversations/{conversation_id}", headers=h)
    assert page.status_code == 200 and page.json()["status"] == "open"  # nothing half-written
