"""E-mail in: SMTP → committed conversation, end to end, with 10 concurrent SMTP clients.

Target (PostgreSQL, this machine): at least 200 messages/s.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any

from bench import seed
from bench.common import ROOT
from bench.profile import sample
from bench.server import Database, Server, free_port, private_redis

TARGET_RPS = 200
ADDRESS = "support@bench.example"


def run_one(kind: str, *, clients: int = 10, warmup: float = 2, duration: float = 15,
            profile: bool = False, workers: int = 1, redis_url: str | None = None) -> dict[str, Any]:
    label = kind + ("+redis" if redis_url else "") + (f" x{workers}" if workers > 1 else "")
    print(f"[mail] {label}: migrating and starting balie serve with its SMTP receiver ...", flush=True)
    smtp_port = free_port()
    with Database(kind, redis_url=redis_url) as db:
        db.migrate()
        tenant = db.tenant()
        if kind == "postgresql":
            seed.history(db, tenant.shop_id)
        db.balie("mailbox", "add", ADDRESS, "--shop", str(tenant.shop_id))
        os.environ["BALIE_BENCH_SMTP_LISTEN"] = f"127.0.0.1:{smtp_port}"
        try:
            with Server(db, workers=workers) as server:
                server.start()
                profiler = sample(profile, server.pid, warmup + duration, f"mail-{label}")
                print(f"[mail] {label}: {clients} SMTP clients, {warmup:g} s warm-up + {duration:g} s ...", flush=True)
                args = {"host": "127.0.0.1", "port": smtp_port, "to": ADDRESS, "clients": clients, "warmup": warmup,
                        "duration": duration, "max_per_client": 20_000, "run": secrets.token_hex(3)}
                done = subprocess.run([sys.executable, "-m", "bench.mail_client", json.dumps(args)], cwd=ROOT,
                                      capture_output=True, text=True, timeout=warmup + duration + 180, check=True)
                client = json.loads(done.stdout)
                hotspots = profiler.finish() if profiler else None
        finally:
            os.environ.pop("BALIE_BENCH_SMTP_LISTEN", None)
        stored = db.scalar("select count(*) from message where channel = 'email' and external_id not like '<seed-%'")
    result = {"scenario": "mail", "database": label, "clients": clients, "msgs_per_s": client["rps"],
              "p50_ms": client["p50_ms"], "p95_ms": client["p95_ms"], "p99_ms": client["p99_ms"],
              "errors": client["errors"], "accepted_in_window": client["ok"], "stored_total": stored,
              "profile": hotspots}
    if kind == "postgresql":
        result["target"] = f">= {TARGET_RPS} msgs/s"
        result["target_met"] = client["rps"] >= TARGET_RPS and not client["errors"]
    return result


def run(*, quick: bool = False, profile: bool = False) -> list[dict[str, Any]]:
    """SQLite and PostgreSQL in one process; PostgreSQL with `--workers 2` (every process
    receives on the shared port; live updates then need Redis, so a private one is started)."""
    duration = 6.0 if quick else 15.0
    results = []
    for name in ("sqlite", "postgresql", "postgresql+redis x2"):
        try:
            if not name.endswith("x2"):
                results.append(run_one(name, duration=duration, profile=profile))
                continue
            with private_redis("mail") as url:
                if url is not None:
                    results.append(run_one("postgresql", duration=duration, profile=profile, workers=2,
                                           redis_url=url))
        except Exception as error:  # one database failing must not lose the other's figures
            print(f"[mail] {name} FAILED: {error}", flush=True)
            results.append({"scenario": "mail", "database": name, "error": str(error)[-2000:]})
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"Mail in: SMTP -> stored conversation, 10 clients (target on PostgreSQL: >= {TARGET_RPS} msgs/s)",
             f"{'database':12} {'msgs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>8}  target met",
             "-" * 72]
    for r in results:
        if "error" in r:
            lines.append(f"{r['database']:12} FAILED: {r['error'][:100]}")
            continue
        met = "" if "target_met" not in r else ("yes" if r["target_met"] else "NO")
        lines.append(f"{r['database']:12} {r['msgs_per_s']:>8} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
                     f"{r['p99_ms']!s:>8} {sum(r['errors'].values()):>8}  {met}")
    return "\n".join(lines)
