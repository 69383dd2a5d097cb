"""Memory and start-up of one `balie serve` process (the embedded default: SQLite, worker on)."""

from __future__ import annotations

import secrets
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, rss_kib
from bench.server import Database, Server, run_client

STARTS = 3


def import_seconds() -> float:
    """How long importing the app takes in a fresh interpreter (part of every start-up)."""
    code = "import time; t = time.perf_counter(); import balie.app; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          check=True)
    return float(done.stdout.strip())


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    load_seconds = 5.0 if quick else 10.0
    print("[memory] start-up and idle memory of balie serve (SQLite, worker on) ...", flush=True)
    with Database("sqlite") as db:
        db.migrate()
        tenant = db.tenant()
        startups = []
        for _ in range(STARTS - 1):
            with Server(db, worker=True) as server:
                startups.append(server.start())
        with Server(db, worker=True) as server:
            startups.append(server.start())
            time.sleep(2.0)
            idle = rss_kib(server.pid)
            print(f"[memory] load: 8 clients ingest for {load_seconds:g} s, then 300 inbox requests ...", flush=True)
            ingest = run_client(
                {"mode": "ingest", "host": server.host, "port": server.port, "token": tenant.token,
                 "concurrency": 8, "warmup": 0.5, "duration": load_seconds, "max_requests": 10_000,
                 "run_id": secrets.token_hex(3), "server_pid": server.pid},
                timeout=load_seconds + 90,
            )
            listing = run_client(
                {"mode": "get", "host": server.host, "port": server.port, "paths": ["/api/v1/conversations"],
                 "headers": {"Authorization": f"Bearer {tenant.token}"}, "requests": 300, "concurrency": 2,
                 "warmup_requests": 5, "max_seconds": 60, "server_pid": server.pid},
                timeout=120,
            )
            after_load = rss_kib(server.pid)
            time.sleep(3.0)
            settled = rss_kib(server.pid)
    return [{
        "scenario": "memory",
        "database": "sqlite",
        "worker": True,
        "startup_s": [round(s, 3) for s in startups],
        "startup_median_s": round(statistics.median(startups), 3),
        "import_balie_app_s": round(import_seconds(), 3),
        "rss_mib_idle": round(idle["VmRSS"] / 1024, 1),
        "rss_mib_after_load": round(after_load["VmRSS"] / 1024, 1),
        "rss_mib_after_load_settled": round(settled["VmRSS"] / 1024, 1),
        "rss_mib_peak": round(settled["VmHWM"] / 1024, 1),
        "load": {"ingest_ok": ingest["ok"], "ingest_errors": ingest["errors"], "list_ok": listing["ok"],
                 "list_errors": listing["errors"]},
    }]
