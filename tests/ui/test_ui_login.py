"""Logging in and out of the agent UI: cookies, wrong passwords, rate limits, CSRF, shops."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.shops import service as shop_service
from factories import Tenant, make_tenant, post_message
from ui_support import PASSWORD, form_token, log_in, row_ids, session_token, sign_in


def test_home_sends_visitors_to_the_login_and_agents_to_the_inbox(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    sign_in(client, tenant)
    assert client.get("/", follow_redirects=False).headers["location"] == "/inbox"


def test_login_sets_an_http_only_same_site_session_cookie(client: TestClient, tenant: Tenant) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'id="login-form"' in page.text and "Inloggen" in page.text

    response = log_in(client, tenant.email)

    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("balie_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "path=/" in cookie.lower()
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert "Ada Agent" in inbox.text


def test_the_cookie_is_secure_over_https(app: FastAPI, tenant: Tenant) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        response = log_in(client, tenant.email)
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("balie_session="))
    assert "secure" in cookie.lower()


def test_wrong_password_shows_an_error_and_logs_nobody_in(client: TestClient, tenant: Tenant) -> None:
    response = log_in(client, tenant.email, "wrong password")

    assert response.status_code == 401
    assert 'id="login-error"' in response.text
    assert "Onjuist e-mailadres of wachtwoord." in response.text
    assert "balie_session" not in client.cookies
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_unknown_address_gets_the_same_error(client: TestClient, tenant: Tenant) -> None:
    response = log_in(client, "nobody@example.test", PASSWORD)
    assert response.status_code == 401
    assert "Onjuist e-mailadres of wachtwoord." in response.text


def test_sixth_try_is_refused_even_with_the_right_password(client: TestClient, tenant: Tenant) -> None:
    for attempt in range(5):
        response = log_in(client, tenant.email.upper() if attempt % 2 else tenant.email, f"guess {attempt}")
        assert response.status_code == 401

    response = log_in(client, tenant.email, PASSWORD)

    assert response.status_code == 429
    assert "Te veel mislukte pogingen" in response.text
    assert response.headers["retry-after"] == "900"
    assert "balie_session" not in client.cookies


def test_rate_limit_counts_per_client_address_too(client: TestClient, factory: sessionmaker[Session]) -> None:
    target = make_tenant(factory, name="Doelwit")
    for attempt in range(5):
        assert log_in(client, f"guess{attempt}@example.test", "nope").status_code == 401
    client.cookies.set("balie_lang", "en")

    response = log_in(client, target.email)

    assert response.status_code == 429
    assert "Too many failed attempts. Wait 15 minutes and try again." in response.text


def test_a_good_login_forgets_the_wrong_guesses_for_that_address(client: TestClient, tenant: Tenant) -> None:
    limiter = client.app.state.context.limiter  # type: ignore[attr-defined]
    for attempt in range(4):
        assert log_in(client, tenant.email, f"guess {attempt}").status_code == 401
    assert limiter.count(f"login:email:{tenant.email}") == 4

    assert log_in(client, tenant.email).status_code == 303

    assert limiter.count(f"login:email:{tenant.email}") == 0
    # The client address keeps its count: one good account must not reset guessing at others.
    assert limiter.count("login:ip:testclient") == 4


def test_login_form_needs_its_csrf_cookie(client: TestClient, tenant: Tenant) -> None:
    token = form_token(client.get("/login").text)
    client.cookies.delete("balie_login_csrf")
    response = client.post("/login", data={"email": tenant.email, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "balie_session" not in client.cookies


def test_login_returns_to_the_page_asked_for_but_never_elsewhere(client: TestClient, tenant: Tenant) -> None:
    posted = post_message(client, tenant)
    wanted = f"/inbox/c/{posted['conversation_id']}"
    redirect = client.get(wanted, follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"/login?next=%2Finbox%2Fc%2F{posted['conversation_id']}"

    assert log_in(client, tenant.email, next=wanted).headers["location"] == wanted
    client.cookies.clear()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert log_in(client, tenant.email, next=evil).headers["location"] == "/inbox"
        client.cookies.clear()


def test_logout_ends_the_session(client: TestClient, tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    stolen = client.cookies["balie_session"]

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "balie_session" not in client.cookies
    client.cookies.set("balie_session", stolen)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_posts_without_the_csrf_token_are_refused(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    csrf = sign_in(client, tenant)

    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "csrf_forged"}).status_code == 403
    refused = client.post(f"/inbox/c/{conversation_id}/messages", data={"body": "Hallo"})
    assert refused.status_code == 403
    assert "Dit formulier is verlopen" in refused.text
    as_json = client.post(f"/inbox/c/{conversation_id}/update", data={"status": "resolved"},
                          headers={"X-Balie-Async": "1"})
    assert as_json.status_code == 403
    assert as_json.json()["error"] == "csrf"

    # The page script sends the token as a header instead of a field.
    accepted = client.post(f"/inbox/c/{conversation_id}/update", data={"status": "resolved"},
                           headers={"X-CSRF-Token": csrf, "X-Balie-Async": "1"})
    assert accepted.status_code == 200
    assert accepted.json()["ok"] is True
    assert client.post("/logout").status_code == 403  # still logged in
    assert client.get("/inbox").status_code == 200


def test_pages_need_a_login(client: TestClient) -> None:
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/ui/partials/list").status_code == 401
    client.cookies.set("balie_session", "bls_made_up")
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_an_agent_switches_between_their_shops(client: TestClient, factory: sessionmaker[Session],
                                               tenant: Tenant) -> None:
    other = make_tenant(factory, name="Zuidwinkel")
    with factory() as session, session.begin():
        agent = agent_service.by_email(session, tenant.email)
        assert agent is not None
        agent_service.add_to_shop(session, agent=agent, shop=shop_service.get(session, other.shop_id))
    in_second = post_message(client, other, customer={"email": "tweede@example.nl"})["conversation_id"]
    csrf = sign_in(client, tenant)
    inbox = client.get("/inbox")
    assert 'id="shop-switcher"' in inbox.text and "Zuidwinkel" in inbox.text
    assert in_second not in row_ids(inbox.text)

    switched = client.post("/ui/shop", data={"csrf_token": csrf, "shop_id": str(other.shop_id)})

    assert switched.status_code == 200
    assert row_ids(switched.text) == [in_second]
    assert client.get(f"/inbox/c/{in_second}").status_code == 200


def test_an_agent_cannot_switch_to_a_shop_they_do_not_work_in(client: TestClient, tenant: Tenant,
                                                              other_tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    response = client.post("/ui/shop", data={"csrf_token": csrf, "shop_id": str(other_tenant.shop_id)})
    assert response.status_code == 403
    assert "Je werkt niet voor deze winkel." in response.text
    assert session_token(client.get("/inbox").text) == csrf
