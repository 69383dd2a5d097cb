"""The WooCommerce reconciliation pull against a local shop speaking the wc/v3 orders API:
every page taken with the shop's keys, a second pull changes nothing, a failing shop is
retried later without stopping the others, and an older copy never overwrites a newer one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from woocommerce_server import KEY, SECRET, Shop, woocommerce_shop
from woocommerce_support import connect, deliver, wc_order

from balie import cli, clock
from balie.commerce.models import Connection, Order
from balie.commerce.woocommerce import pull
from balie.shops.models import Shop as BalieShop
from factories import Tenant

pytestmark = pytest.mark.usefixtures("frozen_clock")  # 2026-11-24 10:00 UTC


def orders_modified(count: int, *, first_id: int = 1000) -> list[dict[str, Any]]:
    """`count` orders, modified a minute apart on the evening of 23 November (GMT)."""
    start = dt.datetime(2026, 11, 23, 18, 0)
    return [wc_order(id=first_id + index, number=str(first_id + index),
                     date_modified_gmt=(start + dt.timedelta(minutes=index)).isoformat())
            for index in range(count)]


def connected(client: TestClient, tenant: Tenant, factory: sessionmaker[Session], shop: Shop, **extra: Any) -> None:
    connect(client, tenant, factory, **{"api_url": shop.url, "api_key": KEY, "api_secret": SECRET, **extra})


def count_orders(factory: sessionmaker[Session], tenant: Tenant) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == tenant.shop_id)) or 0


def connection(factory: sessionmaker[Session], tenant: Tenant) -> Connection:
    with factory() as session:
        return session.get_one(Connection, (tenant.shop_id, "woocommerce"))


def test_two_pages_are_pulled_with_the_shops_keys_and_a_second_pull_changes_nothing(
        client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        shop.orders = orders_modified(150)
        connected(client, tenant, factory, shop)

        first = pull.reconcile(factory, tenant.shop_id, allow_private=True)
        held = {order.number: order.updated_at for order in _orders(factory, tenant)}
        asked_first = list(shop.requests)
        shop.requests.clear()
        second = pull.reconcile(factory, tenant.shop_id, allow_private=True)
        again_from_start = pull.reconcile(factory, tenant.shop_id, since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                                          allow_private=True)

    assert (first.pages, first.orders, first.created, first.refused) == (2, 150, 150, [])
    assert [(query["page"], query["per_page"], query["orderby"], query["order"], query["modified_after"])
            for query in asked_first] == [("1", "100", "modified", "desc", "2026-11-22T10:00:00"),
                                          ("2", "100", "modified", "desc", "2026-11-22T10:00:00")]
    assert count_orders(factory, tenant) == 150
    # Newest seen 20:29 GMT; the next pull asks from ten minutes before it.
    assert connection(factory, tenant).last_pulled_at == dt.datetime(2026, 11, 23, 20, 19, tzinfo=dt.UTC)
    assert shop.requests[0]["modified_after"] == "2026-11-23T20:19:00"
    assert (second.orders, second.created, second.updated, second.unchanged) == (10, 0, 0, 10)
    assert (again_from_start.orders, again_from_start.created, again_from_start.updated) == (150, 0, 0)
    assert {order.number: order.updated_at for order in _orders(factory, tenant)} == held


def _orders(factory: sessionmaker[Session], tenant: Tenant) -> list[Order]:
    with factory() as session:
        return list(session.scalars(select(Order).where(Order.shop_id == tenant.shop_id)))


def test_a_pulled_copy_older_than_the_webhooks_changes_nothing(client: TestClient, tenant: Tenant,
                                                               factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        connected(client, tenant, factory, shop)
        url = _webhook_url(factory, tenant)
        deliver(client, url, wc_order(status="completed", date_modified_gmt="2026-11-24T09:00:00"))
        shop.orders = [wc_order(status="processing", date_modified_gmt="2026-11-23T20:41:00")]

        report = pull.reconcile(factory, tenant.shop_id, allow_private=True)

    assert (report.orders, report.unchanged) == (1, 1)
    order = client.get("/api/v1/orders?number=727", headers=tenant.headers).json()["items"][0]
    assert order["status"] == "completed"


def _webhook_url(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session:
        return f"/webhooks/woocommerce/{session.get_one(BalieShop, tenant.shop_id).public_key}"


def test_wrong_keys_and_server_errors_are_reported_and_what_came_stays(client: TestClient, tenant: Tenant,
                                                                       factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        shop.orders = orders_modified(150)
        connected(client, tenant, factory, shop, api_key="ck_wrong", api_secret="cs_wrong")
        with pytest.raises(pull.PullError, match="refused the API key"):
            pull.reconcile(factory, tenant.shop_id, allow_private=True)
        assert count_orders(factory, tenant) == 0
        assert connection(factory, tenant).pull_error.startswith("WooCommerce refused the API key (401)")

        connected(client, tenant, factory, shop)
        shop.failures[2] = 500
        with pytest.raises(pull.PullError, match="answered 500 for page 2"):
            pull.reconcile(factory, tenant.shop_id, allow_private=True)
        assert count_orders(factory, tenant) == 100  # page 1 is kept; the watermark did not move
        assert connection(factory, tenant).last_pulled_at is None

        report = pull.reconcile(factory, tenant.shop_id, allow_private=True)

    assert (report.created, report.unchanged) == (50, 100)
    assert count_orders(factory, tenant) == 150 and connection(factory, tenant).pull_error == ""


def test_hostile_pages_and_orders(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        bad = wc_order(id=2000, number="2000", currency="EUX", date_modified_gmt="2026-11-23T19:00:00")
        injected = {"id": 2001, "date_modified_gmt": "2026-11-23T19:30:00", "number": {"$ne": 1}}
        shop.orders = [*orders_modified(2), bad, injected]
        connected(client, tenant, factory, shop)
        shop.raw_pages[1] = b"<html>WordPress database error</html>"
        with pytest.raises(pull.PullError, match="page 1 is not JSON"):
            pull.reconcile(factory, tenant.shop_id, allow_private=True)
        shop.raw_pages[1] = b'{"orders": []}'
        with pytest.raises(pull.PullError, match="not a list of orders"):
            pull.reconcile(factory, tenant.shop_id, allow_private=True)

        shop.raw_pages[1] = b'[42, "not an order"]'
        odd = pull.reconcile(factory, tenant.shop_id, allow_private=True)
        report = pull.reconcile(factory, tenant.shop_id, allow_private=True)

    assert odd.refused == ["order #1: body: expected a JSON object (a WooCommerce order)",
                           "order #2: body: expected a JSON object (a WooCommerce order)"]
    assert (report.orders, report.created) == (4, 2)
    assert sorted(report.refused) == ["order 2000: currency: 'EUX' is not an ISO 4217 currency code (such as EUR)",
                                      "order 2001: number: unexpected type dict"]


def test_the_api_url_must_be_https_and_outside_balies_network(client: TestClient, tenant: Tenant,
                                                             factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        connected(client, tenant, factory, shop)
        with pytest.raises(pull.PullError, match="must start with https"):
            pull.reconcile(factory, tenant.shop_id, allow_private=False)
        client.put("/api/v1/commerce/connections/woocommerce", headers=tenant.headers,
                   json={"secret": "wc-webhook-secret-0123456789", "api_url": "https://127.0.0.1:9/shop",
                         "api_key": KEY, "api_secret": SECRET})
        with pytest.raises(pull.PullError, match="internal address"):
            pull.reconcile(factory, tenant.shop_id, allow_private=False)
        assert shop.requests == []


def test_the_worker_pulls_every_shop_on_its_interval_and_a_failing_one_stops_no_other(
        client: TestClient, tenant: Tenant, other_tenant: Tenant, factory: sessionmaker[Session],
        frozen_clock: clock.FrozenClock) -> None:
    with woocommerce_shop() as failing, woocommerce_shop() as good:
        failing.failures[1] = 503
        good.orders = orders_modified(3)
        connected(client, tenant, factory, failing)
        connected(client, other_tenant, factory, good)

        assert pull.pull_due(factory, interval=900, allow_private=True) == 2
        assert pull.pull_due(factory, interval=900, allow_private=True) == 0  # neither is due yet
        frozen_clock.advance(seconds=60)
        assert pull.pull_due(factory, interval=900, allow_private=True) == 1  # the failing one, after 1 min
        frozen_clock.advance(seconds=900)
        good.orders.append(wc_order(id=1003, number="1003", date_modified_gmt="2026-11-24T09:59:00"))
        assert pull.pull_due(factory, interval=900, allow_private=True) == 2
        assert pull.pull_due(factory, interval=0, allow_private=True) == 0  # switched off

    assert count_orders(factory, other_tenant) == 4 and count_orders(factory, tenant) == 0
    bad, fine = connection(factory, tenant), connection(factory, other_tenant)
    assert bad.pull_failures == 0 and bad.pull_error == ""  # the second try found an empty shop
    assert fine.pull_due_at == frozen_clock() + dt.timedelta(seconds=900) and fine.pull_locked_until is None
    assert len(failing.requests) == 3  # at 0 (503), after a minute, after the interval


def test_a_failure_is_retried_with_backoff(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                           frozen_clock: clock.FrozenClock) -> None:
    with woocommerce_shop() as shop:
        connected(client, tenant, factory, shop)
        shop.failures[1] = 500
        pull.pull_due(factory, interval=900, allow_private=True)
        shop.failures[1] = 500
        frozen_clock.advance(seconds=60)
        pull.pull_due(factory, interval=900, allow_private=True)

    held = connection(factory, tenant)
    assert held.pull_failures == 2 and held.pull_error == "WooCommerce answered 500 for page 1"
    assert held.pull_due_at == frozen_clock() + dt.timedelta(seconds=120)


def test_balie_commerce_reconcile(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                  database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BALIE_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("BALIE_WEBHOOK_ALLOW_PRIVATE", "1")
    with factory() as session:
        public_key = session.get_one(BalieShop, tenant.shop_id).public_key
    with woocommerce_shop() as shop:
        shop.orders = orders_modified(3)
        connected(client, tenant, factory, shop)

        code = cli.main(["commerce", "reconcile", "--shop", public_key, "--since", "2026-11-23T00:00:00+01:00"])
        out = capsys.readouterr().out
        shop.failures[1] = 500
        failed = cli.main(["commerce", "reconcile", "--shop", str(tenant.shop_id)])
        err = capsys.readouterr().err
        with pytest.raises(SystemExit, match="give a time zone"):
            cli.main(["commerce", "reconcile", "--shop", str(tenant.shop_id), "--since", "2026-11-23T00:00:00"])

    assert code == 0
    assert out.startswith(f"shop {tenant.shop_id}: 3 orders modified since 2026-11-22T23:00:00+00:00 in 1 pages "
                          "(3 new, 0 updated, 0 unchanged, 0 refused)")
    assert shop.requests[0]["modified_after"] == "2026-11-22T23:00:00"
    assert failed == 2 and "answered 500 for page 1" in err
    assert cli.main(["commerce", "reconcile", "--shop", "pk_nobody"]) == 2


def test_changing_the_keys_makes_the_pull_due_at_once(client: TestClient, tenant: Tenant,
                                                      factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        shop.failures[1] = 500
        connected(client, tenant, factory, shop)
        pull.pull_due(factory, interval=900, allow_private=True)
        assert connection(factory, tenant).pull_failures == 1

        connected(client, tenant, factory, shop, api_key=KEY + "x")

    held = connection(factory, tenant)
    assert (held.pull_failures, held.pull_due_at, held.pull_error) == (0, None, "")


def test_the_running_worker_pulls(app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    with woocommerce_shop() as shop:
        shop.orders = orders_modified(2)
        connected(client, tenant, factory, shop)

        app.state.worker.run_once()

    assert count_orders(factory, tenant) == 2
    assert connection(factory, tenant).pull_due_at == clock.now() + dt.timedelta(seconds=900)
