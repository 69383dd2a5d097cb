"""The delivery promises settings page: admins only, the defaults, saving, a wrong field named
and nothing stored, hostile template text shown as text, the figures; in Dutch and English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.commerce.promises import settings as promise_settings
from balie.shops.models import Shop
from factories import Tenant
from ui_support import PASSWORD, log_in, sign_in


def form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "enabled": "on", "cutoff": "21:30", "transit_days": "3", "extra_days": "1",
              "channel": "auto", "carriers": "DHL: 4\nPostNL: 2", "rule0_days": "1", "rule0_total": "25",
              "rule0_amount": "5", "rule1_days": "3", "rule1_total": "25", "rule1_amount": "12.50",
              "nl_subject": "Bestelling {{order.number}} later", "nl_body": "Hoi {{customer.name}}. {{voucher}}",
              "en_subject": "Order {{order.number}} late", "en_body": "Hi {{customer.name}}. {{voucher}}"}
    values.update(fields)
    return values


def stored(factory: sessionmaker[Session], shop_id: int) -> promise_settings.Settings:
    with factory() as session:
        return promise_settings.load(session, shop_id)


def test_an_admin_turns_it_on_and_sets_the_rules(client: TestClient, factory: sessionmaker[Session],
                                                  tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    page = client.get("/settings/promises")
    assert page.status_code == 200 and 'id="nav-promises"' in page.text
    assert "Leverbeloftes" in page.text and 'id="promises-defaults"' in page.text
    assert 'data-testid="figure-broken">0<' in page.text and 'data-testid="figure-told-first">–<' in page.text
    assert 'value="22:00"' in page.text and "Je bestelling {{order.number}} komt later dan beloofd" in page.text

    saved = client.post("/settings/promises", data=form(csrf), follow_redirects=False)

    assert saved.status_code == 303 and saved.headers["location"] == "/settings/promises?notice=saved"
    found = stored(factory, tenant.shop_id)
    assert found.enabled and found.cutoff == "21:30" and found.transit_days == 3
    assert found.carriers == {"dhl": 4, "postnl": 2}
    assert [(rule.min_days_late, str(rule.min_order_total), str(rule.amount)) for rule in found.rules] == [
        (1, "25.00", "5.00"), (3, "25.00", "12.50")]
    assert found.templates["en"].subject == "Order {{order.number}} late"
    again = client.get("/settings/promises?notice=saved")
    assert 'id="notice"' in again.text and 'value="21:30"' in again.text and "dhl: 4" in again.text


def test_a_wrong_field_is_named_and_nothing_is_stored(client: TestClient, factory: sessionmaker[Session],
                                                       tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    for fields, named in ((({"cutoff": "25:00"}), "cutoff"), (({"rule0_amount": "-5"}), "compensation[0].amount"),
                          (({"nl_body": "{{ customer.password }}"}), "templates.nl.body"),
                          (({"transit_days": "veel"}), "transit_days"), (({"carriers": "DHL: 0"}), "carriers.dhl")):
        response = client.post("/settings/promises", data=form(csrf, **fields))
        assert response.status_code == 400, fields
        assert 'id="form-error"' in response.text and named in response.text
        assert stored(factory, tenant.shop_id).saved is False


def test_hostile_template_text_is_shown_as_text(client: TestClient, factory: sessionmaker[Session],
                                                tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    hostile = '</textarea><script>alert(1)</script>'
    assert client.post("/settings/promises", data=form(csrf, nl_body=hostile + " {{voucher}}"),
                       follow_redirects=False).status_code == 303
    page = client.get("/settings/promises")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_agents_may_not_see_it_and_english_reads_english(client: TestClient, factory: sessionmaker[Session],
                                                         tenant: Tenant) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="gewoon@example.test", name="Gewone Agent", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
    log_in(client, "gewoon@example.test")
    assert client.get("/settings/promises", follow_redirects=False).status_code in (303, 403)
    client.cookies.clear()
    sign_in(client, tenant)
    client.get("/ui/lang/en")
    page = client.get("/settings/promises")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "Delivery promises" in page.text and "Watch delivery promises and tell customers" in page.text
    assert "Leverbeloftes" not in page.text
