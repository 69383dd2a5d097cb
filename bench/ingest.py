"""Ingest: sustained POST /api/v1/messages against a real `balie serve`, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bench import seed
from bench.common import rss_kib
from bench.profile import sample
from bench.server import Database, PrivateRedis, Server, run_client

TARGET_RPS = 500
TARGET_P99_MS = 100

CHECKS = {
    "messages": "select count(*) from message",
    "conversations": "select count(*) from conversation",
    "customers": "select count(*) from customer",
    # message_count is denormalised on the conversation; concurrent writers must not lose an increment.
    "conversations_with_wrong_message_count": (
        "select count(*) from conversation c where c.message_count <> "
        "(select count(*) from message m where m.conversation_id = c.id)"
    ),
    # Threading must keep one active conversation per customer and channel (the customers the
    # run wrote for; the seeded history has its own, random, statuses).
    "customers_with_two_open_conversations": (
        "select count(*) from (select customer_id from conversation where status = 'open' "
        "and customer_id in (select customer_id from identity where value like '%@bench.example') "
        "group by customer_id, channel having count(*) > 1) t"
    ),
}


def consistency(db: Database) -> dict[str, int]:
    return {name: db.scalar(sql) for name, sql in CHECKS.items()}


def _per_message(cpu_pct: float | None, rps: float) -> float | None:
    return round(10 * cpu_pct / rps, 2) if cpu_pct is not None and rps else None


def run_one(kind: str, *, redis_url: str | None = None, concurrency: int = 8, warmup: float = 3,
            duration: float = 15, max_requests: int = 40_000, profile: bool = False,
            workers: int = 1) -> dict[str, Any]:
    label = kind + ("+redis" if redis_url else "") + (f" x{workers}" if workers > 1 else "")
    print(f"[ingest] {label}: migrating and starting balie serve ...", flush=True)
    with Database(kind, redis_url=redis_url) as db:
        db.migrate()
        tenant = db.tenant()
        history = seed.history(db, tenant.shop_id) if kind == "postgresql" else None
        with Server(db, workers=workers) as server:
            startup = server.start()
            time.sleep(1.0)
            rss_before = rss_kib(server.pid)
            profiler = sample(profile, server.pid, warmup + duration, f"ingest-{label}")
            print(f"[ingest] {label}: {concurrency} clients, {warmup:g} s warm-up + {duration:g} s ...", flush=True)
            client = run_client(
                {"mode": "ingest", "host": server.host, "port": server.port, "token": tenant.token,
                 "concurrency": concurrency, "warmup": warmup, "duration": duration,
                 "max_requests": max_requests, "run_id": secrets.token_hex(3), "server_pid": server.pid},
                timeout=warmup + duration + 120,
            )
            rss_after = rss_kib(server.pid)
            hotspots = profiler.finish() if profiler else None
            alive = server.proc is not None and server.proc.poll() is None
        checks = consistency(db)
    latency = client["latency"]
    result = {
        "scenario": "ingest",
        "database": label,
        "concurrency": concurrency,
        "msgs_per_s": client["rps"],
        "p50_ms": latency.get("p50_ms"),
        "p95_ms": latency.get("p95_ms"),
        "p99_ms": latency.get("p99_ms"),
        "max_ms": latency.get("max_ms"),
        "errors": client["errors"],
        "ok": client["ok"],
        "window_s": client["window_s"],
        "statuses": client["statuses"],
        "error_kinds": client["error_kinds"],
        "error_examples": client["error_examples"],
        "requests_sent_total": client["requests_sent"],
        "new_customers": client["new_customers"],
        "messages_to_existing_customers": client["messages_to_existing_customers"],
        "cap_reached": client["cap_reached"],
        "cpu": client["cpu"],
        # CPU milliseconds one stored message costs: in the server process, and in PostgreSQL.
        "server_cpu_ms_per_msg": _per_message(client["cpu"].get("server_cpu_pct"), client["rps"]),
        "postgres_cpu_ms_per_msg": (
            _per_message(client["cpu"].get("postgres_cpu_pct"), client["rps"]) if kind == "postgresql" else None
        ),
        "startup_s": round(startup, 3),
        "rss_kib_after_startup": rss_before.get("VmRSS"),
        "rss_kib_after_load": rss_after.get("VmRSS"),
        "rss_kib_peak": rss_after.get("VmHWM"),
        "server_survived": alive,
        "consistency": checks,
        "history": history,
        "profile": hotspots,
    }
    if workers > 1:
        # The server CPU column covers uvicorn's parent only; its workers count as other%.
        result["workers"] = workers
    if kind == "postgresql" and (not redis_url or workers > 1):
        result["target"] = f">= {TARGET_RPS} msgs/s, p99 < {TARGET_P99_MS} ms"
        result["target_met"] = bool(
            client["rps"] >= TARGET_RPS and (latency.get("p99_ms") or 1e9) < TARGET_P99_MS and client["errors"] == 0
        )
    return result


def run(*, quick: bool = False, profile: bool = False, redis_url: str | None = None,
        databases: tuple[str, ...] = ("sqlite", "postgresql", "postgresql+redis", "postgresql+redis x2"),
        ) -> list[dict[str, Any]]:
    """`postgresql+redis` uses `redis_url` when given, else a private redis-server (skipped without one)."""
    warmup, duration = (2.0, 6.0) if quick else (3.0, 15.0)
    results = []
    for name in databases:
        base, _, count = name.partition(" x")
        workers = int(count) if count else 1
        kind, _, extra = base.partition("+")
        private = None
        try:
            if extra != "redis":
                results.append(run_one(kind, warmup=warmup, duration=duration, profile=profile))
                continue
            private = None if redis_url else PrivateRedis()
            if private is not None and private.binary is None:
                print("[ingest] no redis-server: skipping the run with the Redis event bus", flush=True)
                continue
            url = redis_url or private.start()  # type: ignore[union-attr]
            results.append(run_one(kind, redis_url=url, warmup=warmup, duration=duration, profile=profile,
                                   workers=workers))
        except Exception as error:  # one database failing must not lose the others' figures
            print(f"[ingest] {name} FAILED: {error}", flush=True)
            results.append({"scenario": "ingest", "database": name, "error": str(error)[-2000:]})
        finally:
            if private is not None:
                private.stop()
    return results
