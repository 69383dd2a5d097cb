"""Pictures and PDFs from the visitor: up to 10 MB, recognised by content, only for them."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.shops.models import Shop
from factories import Tenant

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


@pytest.fixture
def key(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session:
        return session.get_one(Shop, tenant.shop_id).public_key


def new_visitor(client: TestClient, key: str) -> str:
    with client.websocket_connect(f"/widget/ws?shop={key}") as ws:
        ws.send_json({"type": "hello"})
        token: str = ws.receive_json()["token"]
    return token


def upload(client: TestClient, key: str, token: str, name: str, data: bytes, content_type: str,
           client_id: str = "f1") -> httpx.Response:
    return client.post(f"/widget/files?shop={key}", headers={"X-Balie-Visitor": token},
                       data={"client_id": client_id, "text": "kijk"}, files={"file": (name, data, content_type)})


def test_a_picture_is_stored_once_and_only_its_visitor_can_fetch_it(client: TestClient, tenant: Tenant,
                                                                      key: str) -> None:
    token = new_visitor(client, key)
    sent = upload(client, key, token, "kras.png", PNG, "image/png")
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    again = upload(client, key, token, "kras.png", PNG, "image/png")
    assert again.json()["message"]["id"] == message["id"]
    url = message["files"][0]["url"]
    fetched = client.get(url)
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["x-content-type-options"] == "nosniff"
    # Someone else's link, or a tampered signature, finds nothing.
    other = new_visitor(client, key)
    assert client.get(url.replace("&s=", "&s=0")).status_code == 404
    with client.websocket_connect(f"/widget/ws?shop={key}") as ws:
        ws.send_json({"type": "hello", "token": other})
        other_visitor = ws.receive_json()["visitor"]
    forged = url.split("?")[0] + f"?v={other_visitor}&s=" + url.split("&s=")[1]
    assert client.get(forged).status_code == 404
    detail = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"][0]
    files = client.get(f"/api/v1/conversations/{detail['id']}", headers=tenant.headers).json()["messages"][0]
    assert files["text"] == "kijk"


@pytest.mark.parametrize(("name", "data", "content_type", "status", "error"), [
    ("virus.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png", 400, "unsupported_file"),
    ("script.html", b"<script>alert(1)</script>", "text/html", 400, "unsupported_file"),
    ("big.pdf", b"%PDF-" + b"x" * (10 * 1024 * 1024), "application/pdf", 400, "file_too_large"),
    ("huge.pdf", b"%PDF-" + b"x" * (11 * 1024 * 1024), "application/pdf", 413, "request_too_large"),
])
def test_wrong_or_oversized_files_are_refused(client: TestClient, tenant: Tenant, key: str, name: str,
                                              data: bytes, content_type: str, status: int, error: str) -> None:
    token = new_visitor(client, key)
    refused = upload(client, key, token, name, data, content_type)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"] == error
    assert client.get("/api/v1/conversations?status=all", headers=tenant.headers).json()["items"] == []


def test_a_pdf_is_accepted_and_an_unknown_visitor_is_not(client: TestClient, key: str) -> None:
    token = new_visitor(client, key)
    assert upload(client, key, token, "bon.pdf", PDF, "application/pdf").status_code == 201
    unknown = upload(client, key, "cv_forged", "bon.pdf", PDF, "application/pdf")
    assert unknown.status_code == 401 and unknown.json()["error"] == "unknown_visitor"
