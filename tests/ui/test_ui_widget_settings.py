"""The widget and opening-hours settings pages: admins only, CSRF, errors beside the field
and nothing stored from a wrong form, in Dutch and English."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.channels.chat.models import WidgetSettings
from balie.hours import service as hours_service
from balie.hours.schedule import Interval
from balie.shops.models import Shop
from factories import Tenant
from ui_support import PASSWORD, log_in, session_token, sign_in


def widget_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "enabled": "on", "allowed_origins": "https://Winkel.example/\nhttp://localhost:8080",
              "phone": "020 123 4567", "whatsapp": "06 12345678", "email": "Help@Winkel.Example",
              "callback_minutes": "45", "callback_attempts": "4"}
    values.update(fields)
    return values


def hours_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "time_zone": "Europe/Amsterdam"}
    for channel in hours_service.HOURS_CHANNELS:
        for weekday in range(7):
            values[f"{channel}_{weekday}"] = ""
    values.update(fields)
    return values


def widget(factory: sessionmaker[Session], shop_id: int) -> WidgetSettings | None:
    with factory() as session:
        return session.get(WidgetSettings, shop_id)


def test_an_admin_sets_up_the_widget(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    page = client.get("/settings/widget")
    assert page.status_code == 200
    with factory() as session:
        shop = session.get(Shop, tenant.shop_id)
        assert shop is not None
        key = shop.public_key
    assert (f'&lt;script src=&#34;http://testserver/widget.js&#34; data-shop=&#34;{key}&#34; async&gt;&lt;/script&gt;'
            in page.text)
    first = widget(factory, tenant.shop_id)
    assert first is not None and first.secret in page.text
    assert 'id="nav-widget"' in page.text and 'id="nav-hours"' in page.text

    saved = client.post("/settings/widget", data=widget_form(csrf), follow_redirects=False)

    assert saved.status_code == 303 and saved.headers["location"] == "/settings/widget?notice=saved"
    stored = widget(factory, tenant.shop_id)
    assert stored is not None
    assert stored.allowed_origins == "https://winkel.example\nhttp://localhost:8080"
    assert (stored.phone, stored.whatsapp, stored.email) == ("+31201234567", "+31612345678", "Help@winkel.example")
    assert (stored.callback_minutes, stored.callback_attempts, stored.enabled) == (45, 4, True)
    assert "Wijzigingen opgeslagen." in client.get("/settings/widget?notice=saved").text

    disabled = client.post("/settings/widget", data={k: v for k, v in widget_form(csrf).items() if k != "enabled"})
    assert disabled.status_code == 200
    stored = widget(factory, tenant.shop_id)
    assert stored is not None and stored.enabled is False


def test_wrong_widget_fields_are_explained_and_nothing_is_stored(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    csrf = sign_in(client, tenant)
    client.post("/settings/widget", data=widget_form(csrf))
    response = client.post("/settings/widget", data=widget_form(
        csrf, allowed_origins="https://ok.example\nhttps://shop.example/path\njavascript:alert(1)",
        phone="12", email="not an address", callback_minutes="0", callback_attempts="ten", whatsapp="<b>x</b>"))
    assert response.status_code == 400
    text = response.text
    assert 'id="form-error"' in text
    assert "Vul één site per regel in" in text and "Vul een telefoonnummer in" in text
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text  # typed input comes back as text
    stored = widget(factory, tenant.shop_id)
    assert stored is not None and stored.phone == "+31201234567" and stored.callback_minutes == 45


def test_rotating_the_secret(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    client.get("/settings/widget")
    before = widget(factory, tenant.shop_id)
    assert before is not None
    assert client.post("/settings/widget/secret", data={}).status_code == 403  # no CSRF token
    rotated = client.post("/settings/widget/secret", data={"csrf_token": csrf}, follow_redirects=False)
    assert rotated.status_code == 303
    after = widget(factory, tenant.shop_id)
    assert after is not None and after.secret != before.secret and after.secret.startswith("wsec_")


def test_an_admin_sets_opening_hours(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    assert client.get("/settings/hours").status_code == 200
    saved = client.post("/settings/hours", data=hours_form(
        csrf, time_zone="Europe/Brussels", chat_0="9-12, 13:00-22:00", chat_4="20:00-24:00", chat_5="00:00-02:00",
        callback_6="10.00-16.00"), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings/hours?notice=saved"
    with factory() as session:
        chat = hours_service.load(session, tenant.shop_id, "chat")
        assert chat.intervals == (Interval(0, 540, 720), Interval(0, 780, 1320), Interval(4, 1200, 1440),
                                  Interval(5, 0, 120))
        assert str(chat.zone) == "Europe/Brussels"
        assert hours_service.load(session, tenant.shop_id, "callback").intervals == (Interval(6, 600, 960),)
    page = client.get("/settings/hours").text
    assert 'value="09:00–12:00, 13:00–22:00"' in page and 'value="Europe/Brussels"' in page


def test_a_wrong_interval_is_explained_and_nothing_is_saved(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    csrf = sign_in(client, tenant)
    client.post("/settings/hours", data=hours_form(csrf, chat_0="09:00-17:00"))
    response = client.post("/settings/hours", data=hours_form(
        csrf, time_zone="Mars/Olympus", chat_0="09:00-12:00, 11:00-13:00", chat_1="17:00-09:00", phone_2="morning",
        email_3="25:00-26:00"))
    assert response.status_code == 400
    text = response.text
    for expected in ("Deze tijden overlappen.", "Een tijdvak moet eindigen na het begin.",
                     "Schrijf tijden als 09:00-12:00", "Vul een tijdzone in", "Chat, maandag"):
        assert expected in text, expected
    assert 'value="09:00-12:00, 11:00-13:00"' in text  # the typed text comes back to be fixed
    with factory() as session:
        assert hours_service.load(session, tenant.shop_id, "chat").intervals == (Interval(0, 540, 1020),)
        shop = session.get(Shop, tenant.shop_id)
        assert shop is not None and shop.time_zone == "Europe/Amsterdam"


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    sign_in(client, tenant)
    without: dict[str, Any] = {k: v for k, v in widget_form("x").items() if k != "csrf_token"}
    assert client.post("/settings/widget", data=without).status_code == 403
    assert client.post("/settings/widget", data=widget_form("wrong")).status_code == 403
    assert client.post("/settings/hours", data=hours_form("wrong", chat_0="09:00-17:00")).status_code == 403
    assert widget(factory, tenant.shop_id) is None
    with factory() as session:
        assert not hours_service.load(session, tenant.shop_id, "chat").configured


def test_non_admins_get_403(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="agent@winkel.example", password=PASSWORD)
        shop = session.get(Shop, tenant.shop_id)
        assert shop is not None
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
    log_in(client, "agent@winkel.example")
    csrf = session_token(client.get("/inbox").text)
    for response in (
        client.get("/settings/widget"), client.get("/settings/hours"),
        client.post("/settings/widget", data=widget_form(csrf)),
        client.post("/settings/widget/secret", data={"csrf_token": csrf}),
        client.post("/settings/hours", data=hours_form(csrf, chat_0="09:00-17:00")),
    ):
        assert response.status_code == 403
    assert widget(factory, tenant.shop_id) is None


def test_the_pages_speak_english_on_request(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    client.get("/ui/lang/en")
    widget_page = client.get("/settings/widget").text
    assert "Sites that may show the widget" in widget_page and "Make a new secret" in widget_page
    hours_page = client.get("/settings/hours").text
    assert "Opening hours" in hours_page and "Monday" in hours_page and "Call-backs" in hours_page
