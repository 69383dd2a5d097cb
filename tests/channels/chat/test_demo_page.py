"""The demo shop page: the widget embedded for the shop asked for, or the demo shop."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.shops import service as shop_service
from balie.shops.models import Shop
from factories import Tenant


def test_without_a_demo_shop_or_a_key_there_is_no_page(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/demo/shop").status_code == 404
    assert client.get("/demo/shop?shop=pk_nobody").status_code == 404


def test_the_page_embeds_the_widget_for_the_shop_asked_for(client: TestClient, factory: sessionmaker[Session],
                                                           tenant: Tenant) -> None:
    with factory() as session:
        key = session.get_one(Shop, tenant.shop_id).public_key
    page = client.get(f"/demo/shop?shop={key}")
    assert page.status_code == 200
    assert f'<script src="/widget.js" data-shop="{key}" async></script>' in page.text
    assert f'href="/demo/shop/checkout?shop={key}"' in page.text  # the next page keeps the shop
    checkout = client.get(f"/demo/shop/checkout?shop={key}")
    assert checkout.status_code == 200 and f'data-shop="{key}"' in checkout.text
    # The checkout page says it is one, so a checkout invitation rule can apply there.
    assert 'data-page="checkout" data-checkout-step="betalen" data-cart-value="89.95"' in checkout.text


def test_the_demo_shop_is_the_default(client: TestClient, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        demo = shop_service.create(session, name="Demo Webwinkel")
        key = demo.public_key
        session.commit()
    page = client.get("/demo/shop")
    assert page.status_code == 200 and f'data-shop="{key}"' in page.text
    assert "Demo Webwinkel" in page.text and page.headers["content-type"].startswith("text/html")
