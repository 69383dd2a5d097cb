"""The promise monitor on 1,000,000 orders and 3,000,000 tracking events in PostgreSQL.

    python -m bench.promises                 # 1,000,000 orders (about 5 minutes with seeding)
    python -m bench.promises --orders 100000 # smaller

Seeds one shop with orders that are all `open` (the worst case for "a pass over all open
orders": nothing is filtered out by status), each with a next-day promise and one parcel of
three scans: 70 % delivered, 20 % in transit, 5 % with only the label (no scan), 3 % with a
carrier exception or failed delivery, 2 % cancelled; placed over the last 20 days. Then:

1. a cold pass: the shop has watched its promises for two days and this is the first pass
   since (a worker down for two days): it finds two days of broken promises at once;
2. a steady pass: the next one, which finds nothing new (what every pass after that costs);
3. acting: the notices for a batch of breaches (new e-mail conversations, outbox entries).

Issue 6's target: one pass over all open orders under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from typing import Any

from bench.seed import Copier, _row, _ts
from bench.server import Database, plain_pg_url

TARGET_S = 30.0
CARRIERS = ("PostNL", "DHL", "DPD", "GLS")


def _pg(db: Database) -> Any:
    import psycopg

    return psycopg.connect(plain_pg_url(), options=f"-csearch_path={db.schema}")


def seed(db: Database, shop_id: int, orders: int, customers: int) -> dict[str, Any]:
    rng = random.Random(6)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with _pg(db) as conn:
        copier = Copier(conn)
        copier.copy("customer", ["shop_id", "name", "language", "block_state", "block_reason", "created_at"],
                    (_row(shop_id, f"Klant {index}", "", "", "", _ts(now)) for index in range(customers)))
        first_customer = int(conn.execute("select min(id) from customer where shop_id = %s", (shop_id,))
                             .fetchone()[0])
        copier.copy("identity", ["shop_id", "customer_id", "kind", "value", "created_at"],
                    (_row(shop_id, first_customer + index, "email", f"klant{index}@bench.example", _ts(now))
                     for index in range(customers)))

        kinds: list[str] = []

        def order_rows() -> Iterator[str]:
            for index in range(orders):
                placed = now - dt.timedelta(days=rng.uniform(0, 20))
                roll = rng.random()
                kind = ("delivered" if roll < 0.70 else "in_transit" if roll < 0.90 else "no_scan" if roll < 0.95
                        else "trouble" if roll < 0.98 else "cancelled")
                kinds.append(kind)
                promised = (placed + dt.timedelta(days=1)).date()
                delivered = placed + dt.timedelta(hours=20) if kind == "delivered" else None
                status = {"delivered": "delivered", "in_transit": "in_transit", "no_scan": "info_received",
                          "trouble": rng.choice(("exception", "delivery_failed")),
                          "cancelled": "info_received"}[kind]
                yield _row(shop_id, f"B{index}", "api", first_customer + index % customers,
                           "cancelled" if kind == "cancelled" else "open", "paid", "49.95", "EUR", _ts(placed),
                           promised.isoformat(), status, _ts(delivered) if delivered else None, _ts(placed),
                           _ts(placed))

        copier.copy("commerce_order", ["shop_id", "number", "source", "customer_id", "status", "payment_status",
                                       "total", "currency", "placed_at", "promised_delivery_date",
                                       "delivery_status", "delivered_at", "updated_at", "created_at"], order_rows())
        first_order = int(conn.execute("select min(id) from commerce_order where shop_id = %s", (shop_id,))
                          .fetchone()[0])
        placed_at = {int(row[0]): row[1] for row in conn.execute(
            "select id, placed_at from commerce_order where shop_id = %s", (shop_id,))}

        def moments(order_id: int) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
            placed = placed_at[order_id]
            return placed + dt.timedelta(hours=2), placed + dt.timedelta(hours=6), placed + dt.timedelta(hours=20)

        def last_status(index: int) -> tuple[str, str]:
            kind = kinds[index]
            if kind == "delivered":
                return "delivered", "in_transit"
            if kind == "trouble":
                return rng.choice(("exception", "delivery_failed")), "in_transit"
            if kind == "in_transit":
                return "in_transit", "info_received"
            return "info_received", "info_received"

        finals = [last_status(index) for index in range(orders)]

        def shipment_rows() -> Iterator[str]:
            for index in range(orders):
                order_id = first_order + index
                label, scanned, last = moments(order_id)
                status = finals[index][0]
                at = last if status not in ("info_received", "in_transit") else scanned if status == "in_transit" \
                    else label
                yield _row(shop_id, order_id, f"B{index}", CARRIERS[index % 4], f"3S{index:012d}", "api", status,
                           _ts(at), _ts(last) if status == "delivered" else None, _ts(at), _ts(label))

        copier.copy("commerce_shipment", ["shop_id", "order_id", "order_number", "carrier", "tracking_code", "source",
                                          "status", "status_at", "delivered_at", "updated_at", "created_at"],
                    shipment_rows())
        first_shipment = int(conn.execute("select min(id) from commerce_shipment where shop_id = %s", (shop_id,))
                             .fetchone()[0])

        def event_rows() -> Iterator[str]:
            for index in range(orders):
                label, scanned, last = moments(first_order + index)
                final, middle = finals[index]
                for status, at in (("info_received", label), (middle if middle != "info_received" else "in_transit",
                                                              scanned), (final, last)):
                    yield _row(shop_id, first_shipment + index, status, _ts(at), "", status, "api", _ts(at))

        copier.copy("commerce_tracking_event", ["shop_id", "shipment_id", "status", "occurred_at", "description",
                                                "raw_status", "source", "created_at"], event_rows())
        conn.commit()
        conn.execute("analyze")
        conn.commit()
        counts = {table: int(conn.execute(f"select count(*) from {table}").fetchone()[0])
                  for table in ("commerce_order", "commerce_shipment", "commerce_tracking_event")}
    return {"seed_s": round(time.perf_counter() - started, 1), **counts,
            "open_undelivered": sum(kind not in ("delivered", "cancelled") for kind in kinds)}


def measure(orders: int, act_batch: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    import balie.models  # noqa: F401  (every table, for the foreign keys)
    from balie.app import register_channels
    from balie.channels.email import service as mailbox_service
    from balie.commerce.promises import monitor, notice
    from balie.commerce.promises import settings as promise_settings
    from balie.commerce.promises.models import Breach
    from balie.config import Settings
    from balie.db import make_engine, make_sessionmaker, transaction
    from balie.shops import service as shop_service

    result: dict[str, Any] = {"orders": orders, "target_s": TARGET_S}
    with Database("postgresql") as db:
        db.migrate()
        engine = make_engine(db.url, pool_size=4)
        factory = make_sessionmaker(engine)
        register_channels(Settings(data_dir=db.data_dir, database_url=db.url), factory)  # as `balie worker` does
        with transaction(factory) as session:
            shop = shop_service.create(session, name="Bench Winkel")
            mailbox_service.create(session, shop_id=shop.id, address="support@bench.example", display_name="Bench")
            promise_settings.save(session, shop.id, promise_settings.Settings(enabled=True), actor_agent_id=None)
            shop_id = shop.id
        result["dataset"] = seed(db, shop_id, orders, customers=max(1, orders // 10))
        # Watching since two days ago, and this worker's first pass since: two days of broken
        # promises to find at once (the cold pass); promises broken before are not looked for.
        with _pg(db) as conn:
            conn.execute("update promise_settings set enabled_at = now() - interval '2 days'")
            conn.commit()
        print(f"seeded {result['dataset']}", flush=True)
        for name in ("cold_pass", "steady_pass"):
            started = time.perf_counter()
            found = monitor.scan(factory)
            seconds = time.perf_counter() - started
            result[name] = {"seconds": round(seconds, 2), "looked_at": found.looked_at, "found": found.found,
                            "target_met": seconds < TARGET_S}
            print(f"{name}: {result[name]}", flush=True)
        started = time.perf_counter()
        handled = 0
        while handled < act_batch:
            done = notice.act(factory, limit=min(50, act_batch - handled))
            if not done:
                break
            handled += done
        seconds = time.perf_counter() - started
        result["act"] = {"breaches": handled, "seconds": round(seconds, 2),
                         "per_second": round(handled / seconds, 1) if seconds else None}
        with factory() as session:
            result["act"]["states"] = dict(session.execute(
                select(Breach.state, func.count()).group_by(Breach.state)).all())  # type: ignore[arg-type]
        print(f"act: {result['act']}", flush=True)
        with _pg(db) as conn:
            plan = conn.execute(
                "explain (analyze, buffers) select id from commerce_order where shop_id = %s and status = 'open' "
                "and delivered_at is null and promised_delivery_date is not null and promised_delivery_date <= "
                "current_date + 1 and promised_delivery_date >= current_date - 3 and not exists (select 1 from "
                "promise_breach b where b.order_id = commerce_order.id)", (shop_id,)).fetchall()
            result["plan_cutoff_and_passed"] = [row[0] for row in plan]
        engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.promises", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--act", type=int, default=2_000, help="how many breaches to act on (notices)")
    args = parser.parse_args(argv)
    result = measure(args.orders, args.act)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
