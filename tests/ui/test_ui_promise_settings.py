"""The delivery promises settings page: admins only, the defaults, saving, a wrong field named
(in the page's language, Dutch or English) and nothing stored, hostile template text shown as
text, the figures; in Dutch and English."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.commerce.promises import settings as promise_settings
from balie.shops.models import Shop
from balie.ui import settings_promises
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


def error_of(page: str) -> str:
    found = re.search(r'data-testid="form-error">.*?<li>(.*?)</li>', page, re.DOTALL)
    assert found is not None, page
    return html.unescape(found.group(1))


# A wrong field, and what the page says about it in Dutch and in English.
WRONG = [
    ({"cutoff": "25:00"}, "Verzend-cut-off: Vul een tijd in, zoals 22:00 (uren en minuten).",
     "Dispatch cut-off: Enter a time such as 22:00 (hours and minutes)."),
    ({"rule0_amount": "-5"}, "Regel 1, tegoedbon: Vul een bedrag in, zoals 12.50 (niet negatief, hoogstens twee "
     "decimalen).", "Rule 1, voucher: Enter an amount such as 12.50 (not negative, at most two decimals)."),
    # The first two rows left empty: the wrong rule is the form's third.
    ({"rule0_days": "", "rule0_total": "", "rule0_amount": "", "rule1_days": "", "rule1_total": "", "rule1_amount": "",
      "rule2_days": "2", "rule2_amount": "0"},
     "Regel 3, tegoedbon: Vul een bedrag van meer dan 0 in.", "Rule 3, voucher: Enter an amount of more than 0."),
    ({"rule0_days": "0"}, "Regel 1, vanaf dagen te laat: Vul een heel getal van 1 tot en met 365 in.",
     "Rule 1, from days late: Enter a whole number from 1 to 365."),
    ({"rule0_total": "twintig"}, "Regel 1, bestelling minstens: Vul een bedrag in, zoals 12.50 (niet negatief, "
     "hoogstens twee decimalen).", "Rule 1, order total at least: Enter an amount such as 12.50 (not negative, at "
     "most two decimals)."),
    ({"nl_body": "{{ customer.password }}"},
     "Tekst van het bericht in het Nederlands: Balie kent de variabele {{customer.password}} niet. Je kunt de "
     "variabelen gebruiken die onder de berichten staan.",
     "Text of the message in Dutch: Balie does not know the variable {{customer.password}}. You can use the "
     "variables listed below the messages."),
    ({"en_subject": "  "}, "Onderwerp van het bericht in het Engels: Vul 1 tot 300 tekens in.",
     "Subject of the message in English: Enter 1 to 300 characters."),
    ({"en_subject": "Order\x01late"},
     "Onderwerp van het bericht in het Engels: Hier staat een teken in dat hier niet kan (zoals een regeleinde in "
     "een onderwerp).", "Subject of the message in English: This contains a character that cannot be used here "
     "(such as a line break in a subject)."),
    ({"transit_days": "veel"}, "Dagen onderweg voordat een pakket vastzit: Vul een heel getal van 1 tot en met 60 in.",
     "Days in transit before a parcel is stuck: Enter a whole number from 1 to 60."),
    ({"carriers": "DHL: 0"}, "Per vervoerder, dhl: Vul een heel getal van 1 tot en met 60 in.",
     "Per carrier, dhl: Enter a whole number from 1 to 60."),
    ({"carriers": ": 3"}, "Per vervoerder: De naam van een vervoerder heeft 1 tot 64 tekens.",
     "Per carrier: A carrier's name has 1 to 64 characters."),
    ({"channel": "fax"}, "Bericht de klant via: Kies een van de mogelijkheden.",
     "Tell the customer by: Choose one of the options."),
]


@pytest.mark.parametrize(("fields", "dutch", "english"), WRONG)
def test_a_wrong_field_is_named_in_the_pages_language_and_nothing_is_stored(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, fields: dict[str, str], dutch: str,
        english: str) -> None:
    csrf = sign_in(client, tenant)
    response = client.post("/settings/promises", data=form(csrf, **fields))
    assert response.status_code == 400 and 'id="form-error"' in response.text
    assert error_of(response.text) == dutch
    client.get("/ui/lang/en")
    response = client.post("/settings/promises", data=form(csrf, **fields))
    assert response.status_code == 400 and error_of(response.text) == english
    assert stored(factory, tenant.shop_id).saved is False


def test_a_long_message_is_kept_whole_and_a_too_long_one_refused(client: TestClient, factory: sessionmaker[Session],
                                                                tenant: Tenant) -> None:
    """A message may have 5000 characters: the page must neither cut a long one short nor
    cut a too long one down to a length it then accepts."""
    csrf = sign_in(client, tenant)
    long = "Het spijt ons. " * 300 + "{{voucher}}"  # 4511 characters
    assert client.post("/settings/promises", data=form(csrf, nl_body=long), follow_redirects=False).status_code == 303
    assert stored(factory, tenant.shop_id).templates["nl"].body == long

    too_long = client.post("/settings/promises", data=form(csrf, nl_body="x" * 5001))
    assert too_long.status_code == 400
    assert error_of(too_long.text) == "Tekst van het bericht in het Nederlands: Vul 1 tot 5000 tekens in."
    assert stored(factory, tenant.shop_id).templates["nl"].body == long


def test_every_problem_the_service_names_has_a_message() -> None:
    assert set(settings_promises.MESSAGES) == set(promise_settings.PROBLEMS)


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
