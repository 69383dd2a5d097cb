"""request_from_widget: what the chat widget's public endpoint calls for "call me back"."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.callbacks import service
from balie.customers import service as customer_service
from balie.customers.service import IdentityRef
from balie.errors import Invalid
from factories import Tenant, post_message


def _visitor(factory: sessionmaker[Session], tenant: Tenant, key: str = "v_abc") -> int:
    with factory() as session, session.begin():
        return customer_service.resolve(session, shop_id=tenant.shop_id, refs=[IdentityRef("visitor", key)]).id


def test_the_visitor_gets_the_callback(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    visitor = _visitor(factory, tenant)
    window = (dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC), dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC))
    with factory() as session, session.begin():
        callback = service.request_from_widget(session, tenant.shop_id, visitor, "06-12 34 56 78", "Klaas",
                                               "Levering", window, "en")
        promise = service.promise(session, callback)
    assert callback.phone == "+31612345678" and callback.source == "widget" and callback.language == "en"
    assert callback.customer_id == visitor and callback.due_at == window[0]
    assert promise["en"] == "We will call you back by Tuesday 24 November at 15:00."
    customer = client.get(f"/api/v1/customers/{visitor}", headers=tenant.headers).json()
    identities = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert {("visitor", "v_abc"), ("phone", "+31612345678")} <= identities
    with factory() as session, session.begin():  # asked again: the same call-back
        again = service.request_from_widget(session, tenant.shop_id, visitor, "+31612345678", "", "", None, "nl")
    assert again.id == callback.id


def test_a_number_typed_into_the_widget_does_not_merge_customers(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    known = post_message(client, tenant, customer={"phone": "+31612345678", "email": "echt@example.nl"})
    visitor = _visitor(factory, tenant)
    with factory() as session, session.begin():
        callback = service.request_from_widget(session, tenant.shop_id, visitor, "0612345678", "", "", None, "nl")
    assert callback.customer_id == visitor != known["customer_id"]
    owner = client.get(f"/api/v1/customers/{known['customer_id']}", headers=tenant.headers).json()
    assert owner["id"] == known["customer_id"]  # not merged away


def test_bad_input_from_the_widget_raises_a_clear_error(tenant: Tenant, factory: sessionmaker[Session]) -> None:
    visitor = _visitor(factory, tenant)
    with factory() as session, pytest.raises(Invalid) as refused:
        service.request_from_widget(session, tenant.shop_id, visitor, "nope", "", "", None, "nl")
    assert refused.value.code == "invalid_phone" and refused.value.status == 400
