"""Tracking webhooks in, on 1,000,000 orders and 3,000,000 tracking events in PostgreSQL.

    python -m bench.tracking                  # 1,000,000 orders (about 5 minutes with seeding)
    python -m bench.tracking --orders 100000  # smaller

The shop is seeded as the promise monitor's benchmark seeds it (bench/promises.py). Then
`balie serve --no-worker` takes signed deliveries on `POST /webhooks/tracking/{key}` (one
scan each, for parcels of the seeded orders, a new scan per delivery) from an open-loop
client at 500 deliveries/s for 20 s. Issue 6's target: ingesting tracking webhooks
sustains 500 events/s. Reported: the rate reached, latencies, errors, and how many scans
the database holds afterwards (every answered delivery must have added one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import time
import urllib.request
from typing import Any

from bench import promises
from bench.server import Database, Server, private_redis, run_client

TARGET_PER_S = 500.0


def connect(server: Server, token: str) -> str:
    """The shop's tracking connection, made through the API as an admin would: its secret."""
    request = urllib.request.Request(
        f"http://{server.host}:{server.port}/api/v1/commerce/connections/tracking", data=b"{}", method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        secret: str = json.loads(response.read())["secret"]
    return secret


def measure(orders: int, rate: float = TARGET_PER_S, duration: float = 20.0, workers: int = 1) -> dict[str, Any]:
    result: dict[str, Any] = {"orders": orders, "rate": rate, "duration_s": duration, "server_processes": workers}
    # Several server processes share live updates through Redis (balie serve insists): a private one.
    with private_redis("tracking") if workers > 1 else contextlib.nullcontext(None) as redis_url, \
            Database("postgresql", redis_url=redis_url) as db:
        db.migrate()
        tenant = db.tenant()
        result["dataset"] = promises.seed(db, tenant.shop_id, orders, customers=max(1, orders // 10))
        print(f"seeded {result['dataset']}", flush=True)
        with promises._pg(db) as conn:
            codes = [list(row) for row in conn.execute(
                "select s.carrier, s.tracking_code, o.number from commerce_shipment s "
                "join commerce_order o on o.id = s.order_id where s.shop_id = %s order by s.id desc limit %s",
                (tenant.shop_id, int(rate * (duration + 10))))]
            before = conn.execute("select count(*) from commerce_tracking_event").fetchone()[0]
        with Server(db, workers=workers) as server:
            server.start()
            secret = connect(server, tenant.token)
            client = run_client(
                {"mode": "tracking", "host": server.host, "port": server.port,
                 "path": f"/webhooks/tracking/{tenant_key(db, tenant.shop_id)}", "secret": secret, "codes": codes,
                 "concurrency": 16, "warmup": 5, "duration": duration, "rate": rate,
                 "max_requests": int(rate * (duration + 10)), "run_id": secrets.token_hex(3),
                 "server_pid": server.pid},
                timeout=duration + 120,
            )
        with promises._pg(db) as conn:
            after = conn.execute("select count(*) from commerce_tracking_event").fetchone()[0]
    result.update(
        events_per_s=client["rps"], p50_ms=client["latency"].get("p50_ms"), p99_ms=client["latency"].get("p99_ms"),
        errors=client["errors"], error_kinds=client.get("error_kinds"), deliveries=client["all_requests"],
        scans_added=client["scans_added"], scans_known=client["scans_known"], events_before=before,
        events_after=after, cpu=client.get("cpu"),
    )
    result["target_met"] = bool(client["rps"] >= 0.98 * rate and not client["errors"]
                                and after - before == client["scans_added"])
    return result


def tenant_key(db: Database, shop_id: int) -> str:
    with promises._pg(db) as conn:
        key: str = conn.execute("select public_key from shop where id = %s", (shop_id,)).fetchone()[0]
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracking", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=TARGET_PER_S)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="balie serve --workers (processes)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(args.orders, args.rate, args.duration, args.workers)
    result["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
