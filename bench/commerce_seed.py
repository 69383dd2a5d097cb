"""Fill a migrated PostgreSQL schema with a year of a big shop's orders, fast: the rows are
made inside PostgreSQL (INSERT … SELECT over generate_series), then ANALYZE.

Shape (issue 6's benchmark: 1,000,000 orders, 3,000,000 tracking events), with `orders = N`:
- N/3 customers, an e-mail identity each; orders spread evenly over the last 365 days.
- One line per order; a next-day promise (the day after it was placed).
- Every order ships (PostNL or DHL), except those of the last day; orders older than ten
  days are delivered (info_received → in_transit → delivered: three scans), younger ones are
  on their way (two scans), so there are about 3N scans.
- A third of the orders stay `open` after delivery (shops that never complete them), so the
  monitor has to skip many open orders that need nothing; the last ten days' are all open.
"""

from __future__ import annotations

import time
from typing import Any

YEAR_S = 365 * 86400
RECENT_DAYS = 10


def seed(conn: Any, *, shop_id: int, orders: int = 1_000_000) -> dict[str, Any]:
    started = time.perf_counter()
    customers = max(1, orders // 3)
    spacing = YEAR_S / orders
    params = {"shop": shop_id, "orders": orders, "customers": customers, "spacing": spacing,
              "recent": RECENT_DAYS}
    first_customer = conn.execute(
        "insert into customer (shop_id, name, language, block_state, block_reason, created_at) "
        "select %(shop)s, 'Klant ' || g, 'nl', '', '', now() - interval '400 days' "
        "from generate_series(1, %(customers)s) g returning id", params).fetchone()[0]
    conn.execute(
        "insert into identity (shop_id, customer_id, kind, value, created_at) "
        "select shop_id, id, 'email', 'klant' || id || '@bench.example', created_at from customer "
        "where shop_id = %(shop)s and id >= %(first)s", {**params, "first": first_customer})
    conn.execute(
        "insert into commerce_order (shop_id, number, source, customer_id, status, payment_status, total, currency, "
        "placed_at, promised_delivery_date, created_at, updated_at) "
        "select %(shop)s, (100000 + g)::text, 'api', %(first)s + (g %% %(customers)s), "
        "case when g %% 3 = 0 or placed > now() - make_interval(days => %(recent)s) then 'open' else 'completed' end, "
        "'paid', 5 + (g %% 20000) / 100.0, 'EUR', placed, (placed at time zone 'Europe/Amsterdam')::date + 1, "
        "placed, placed "
        "from (select g, now() - make_interval(secs => (%(orders)s - g) * %(spacing)s) as placed "
        "from generate_series(1, %(orders)s) g) o", {**params, "first": first_customer})
    conn.execute(
        "insert into commerce_order_line (shop_id, order_id, position, sku, name, quantity, price) "
        "select shop_id, id, 0, 'SKU-' || (id %% 5000), 'Artikel ' || (id %% 5000), 1, total "
        "from commerce_order where shop_id = %(shop)s", params)
    conn.execute(
        "insert into commerce_shipment (shop_id, order_id, order_number, carrier, tracking_code, tracking_url, source, "
        "status, status_at, delivered_at, created_at, updated_at) "
        "select shop_id, id, number, case when id %% 4 = 0 then 'DHL' else 'PostNL' end, '3SBENCH' || id, "
        "'https://track.example/3SBENCH' || id, 'api', "
        "case when placed_at < now() - make_interval(days => %(recent)s) then 'delivered' else 'in_transit' end, "
        "case when placed_at < now() - make_interval(days => %(recent)s) then placed_at + interval '20 hours' "
        "else placed_at + interval '6 hours' end, "
        "case when placed_at < now() - make_interval(days => %(recent)s) then placed_at + interval '20 hours' end, "
        "placed_at + interval '2 hours', placed_at + interval '2 hours' "
        "from commerce_order where shop_id = %(shop)s and placed_at < now() - interval '1 day'", params)
    for status, after, condition in (
        ("info_received", "2 hours", "true"),
        ("in_transit", "6 hours", "true"),
        ("delivered", "20 hours", "s.delivered_at is not null"),
    ):
        conn.execute(
            "insert into commerce_tracking_event (shop_id, shipment_id, status, occurred_at, description, raw_status, "
            "source, created_at) "
            f"select s.shop_id, s.id, %(status)s, o.placed_at + interval '{after}', '', '', 'api', now() "
            "from commerce_shipment s join commerce_order o on o.id = s.order_id "
            f"where s.shop_id = %(shop)s and {condition}", {**params, "status": status})
    conn.execute(
        "update commerce_order o set delivery_status = s.status, delivered_at = s.delivered_at "
        "from commerce_shipment s where s.order_id = o.id and o.shop_id = %(shop)s", params)
    conn.execute("analyze")
    counts = {table: conn.execute(f"select count(*) from {table} where shop_id = %s", (shop_id,)).fetchone()[0]
              for table in ("customer", "commerce_order", "commerce_shipment", "commerce_tracking_event")}
    open_orders = conn.execute("select count(*) from commerce_order where shop_id = %s and status = 'open'",
                               (shop_id,)).fetchone()[0]
    return {"counts": counts, "open_orders": open_orders, "seed_s": round(time.perf_counter() - started, 1)}
