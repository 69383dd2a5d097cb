"""The invitations settings page: admins only, CSRF, rules added, edited, switched, moved and
deleted with their counts, errors beside the field, the reply-time target, Dutch and English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from invitation_support import add_rule, new_visitor, page, reachable
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.proactive import rules
from balie.proactive import service as proactive_service
from balie.shops.models import Shop
from factories import Tenant
from ui_support import PASSWORD, log_in, session_token, sign_in


def rule_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "name": "Twijfel bij afrekenen", "trigger": "checkout_idle", "threshold": "60",
              "action": "chat", "message_nl": "Kan ik je helpen met je bestelling?",
              "message_en": "Can I help you with your order?", "enabled": "on"}
    values.update(fields)
    return values


def listed(factory: sessionmaker[Session], shop_id: int) -> list[tuple[str, bool, str]]:
    with factory() as session:
        return [(r.name, r.enabled, rules.threshold_text(r.threshold)) for r in rules.list_rules(session, shop_id)]


def test_an_admin_keeps_the_rules(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                  other_tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    empty = client.get("/settings/invitations")
    assert empty.status_code == 200 and 'id="rules-empty"' in empty.text
    assert 'id="nav-invitations"' in empty.text and "Uitnodigingen" in empty.text

    added = client.post("/settings/invitations", data=rule_form(csrf), follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/settings/invitations?notice=added"
    client.post("/settings/invitations", data=rule_form(csrf, name="Grote mand", trigger="cart_value",
                                                       threshold="149,50", action="callback"))
    assert listed(factory, tenant.shop_id) == [("Twijfel bij afrekenen", True, "60"), ("Grote mand", True, "149.50")]
    with factory() as session:
        first, second = (r.id for r in rules.list_rules(session, tenant.shop_id))

    client.post(f"/settings/invitations/{second}/move", data={"csrf_token": csrf, "step": "up"})
    client.post(f"/settings/invitations/{second}/enabled", data={"csrf_token": csrf})  # off
    assert listed(factory, tenant.shop_id) == [("Grote mand", False, "149.50"), ("Twijfel bij afrekenen", True, "60")]

    edit = client.get(f"/settings/invitations/{first}")
    assert edit.status_code == 200 and "Kan ik je helpen met je bestelling?" in edit.text
    saved = client.post(f"/settings/invitations/{first}", data=rule_form(csrf, threshold="90"), follow_redirects=False)
    assert saved.status_code == 303
    assert listed(factory, tenant.shop_id)[1] == ("Twijfel bij afrekenen", True, "90")

    for foreign in ("999999", "abc", str(2**70)):
        assert client.get(f"/settings/invitations/{foreign}").status_code == 404
    other_rule = add_rule(factory, other_tenant, "cart_value", "10")
    assert client.post(f"/settings/invitations/{other_rule}/delete", data={"csrf_token": csrf}).status_code == 404

    deleted = client.post(f"/settings/invitations/{second}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert deleted.status_code == 303 and deleted.headers["location"] == "/settings/invitations?notice=removed"
    assert listed(factory, tenant.shop_id) == [("Twijfel bij afrekenen", True, "90")]
    assert listed(factory, other_tenant.shop_id) == [("cart_value", True, "10")]


def test_the_page_counts_invitations_per_rule(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    reachable(factory, tenant)
    rule = add_rule(factory, tenant, "cart_value", "100", name="Grote mand")
    for accepted in (True, False):
        visitor = new_visitor(factory, tenant)
        offer = page(factory, visitor, "cart", cart_value=300)
        assert offer is not None
        if accepted:
            from balie.channels.chat.models import ChatVisitor

            with factory() as session, session.begin():
                row = session.get_one(ChatVisitor, visitor)
                proactive_service.answer(session, row, offer.invitation_id, accepted=True)
    sign_in(client, tenant)
    html = client.get("/settings/invitations").text
    item = html[html.index(f'data-rule-id="{rule}"'):]
    assert 'data-testid="rule-shown">2<' in item and 'data-testid="rule-accepted">1<' in item
    assert ('data-testid="rule-orders"><span title="Wordt geteld zodra bestellingen uit de winkel binnenkomen.">—'
            in item)


def test_wrong_fields_are_explained_and_nothing_is_stored(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    csrf = sign_in(client, tenant)
    response = client.post("/settings/invitations", data=rule_form(
        csrf, name="", trigger="mood", threshold="<b>veel</b>", action="email"))
    assert response.status_code == 400
    text = response.text
    assert 'id="form-error"' in text and "Geef de regel een naam." in text and "Kies een van de mogelijkheden." in text
    assert "<b>veel</b>" not in text and "&lt;b&gt;veel&lt;/b&gt;" in text
    assert listed(factory, tenant.shop_id) == []

    target = client.post("/settings/invitations/target", data={"csrf_token": csrf, "reply_target_seconds": "5"})
    assert target.status_code == 400 and 'id="reply-target-seconds-error"' in target.text
    saved = client.post("/settings/invitations/target", data={"csrf_token": csrf, "reply_target_seconds": "300"},
                        follow_redirects=False)
    assert saved.status_code == 303
    with factory() as session:
        assert proactive_service.reply_target_seconds(session, tenant.shop_id) == 300


def test_only_admins_with_the_csrf_token(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    rule = add_rule(factory, tenant, "cart_value", "100")
    sign_in(client, tenant)
    assert client.post("/settings/invitations", data=rule_form("wrong")).status_code == 403
    assert client.post(f"/settings/invitations/{rule}/delete", data={}).status_code == 403
    client.post("/logout")
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="agent@winkel.example", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id), role="agent")
    client.cookies.clear()
    log_in(client, "agent@winkel.example")
    csrf = session_token(client.get("/inbox").text)
    for response in (
        client.get("/settings/invitations"), client.get(f"/settings/invitations/{rule}"),
        client.post("/settings/invitations", data=rule_form(csrf)),
        client.post(f"/settings/invitations/{rule}/delete", data={"csrf_token": csrf}),
        client.post("/settings/invitations/target", data={"csrf_token": csrf, "reply_target_seconds": "60"}),
    ):
        assert response.status_code == 403
    assert listed(factory, tenant.shop_id) == [("cart_value", True, "100")]


def test_the_page_speaks_english_on_request(client: TestClient, factory: sessionmaker[Session],
                                            tenant: Tenant) -> None:
    add_rule(factory, tenant, "product_views", "3", action="callback")
    sign_in(client, tenant)
    client.get("/ui/lang/en")
    html = client.get("/settings/invitations").text
    assert "Invitations" in html and "Same product seen on several visits" in html and "Offer a call-back" in html
    assert "Uitnodigingen" not in html
