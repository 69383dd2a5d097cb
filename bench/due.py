"""Due work: 100,000 open conversations with a follow-up each in PostgreSQL; two `balie worker`
processes (the issue's deployment for due work; one could not keep up, docs/benchmarks.md).

Two phases on one database:
1. Idle: nothing is due yet (the follow-ups fall due days from now); the workers' CPU over
   the phase is what the idle scheduler costs (the sum over the workers).
2. Under load: `balie serve --no-worker` ingests 200 messages/s (open loop, bench/client.py)
   while a batch of the follow-ups falls due, spread over the window. Each one's lateness is
   `done_at - due_at` as the worker wrote it; afterwards every conversation of the batch must
   have exactly one follow-up note (fired once, none lost).
Issue 5's targets: due work processed within 5 s of its due time while ingesting 200 msgs/s;
the idle scheduler under 5 % of one core.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import time
from typing import Any

from bench import seed
from bench.common import process_cpu_seconds, summarise_ms
from bench.server import BALIE, Database, Server, plain_pg_url, run_client

TARGET_LATE_S = 5.0
TARGET_IDLE_PCT = 5.0
CONVERSATIONS = 100_000
NOTE = "Bench: even nakijken of de vervoerder het heeft opgelost."


def _pg(db: Database) -> Any:
    import psycopg

    return psycopg.connect(plain_pg_url(), options=f"-csearch_path={db.schema}", autocommit=True)


def seed_jobs(db: Database, shop_id: int, conversations: int) -> dict[str, Any]:
    """Every conversation open, with one pending follow-up due days from now."""
    started = time.perf_counter()
    with _pg(db) as conn:
        seed.seed(conn, shop_id=shop_id, conversations=conversations, messages=conversations * 3,
                  customers=conversations * 6 // 10)
        conn.execute("update conversation set status = 'open', snoozed_until = null where shop_id = %s", (shop_id,))
        agent = conn.execute("select agent_id from membership where shop_id = %s order by agent_id limit 1",
                             (shop_id,)).fetchone()[0]
        ids = [row[0] for row in conn.execute("select id from conversation where shop_id = %s order by id",
                                              (shop_id,))]
        payload = json.dumps({"note": NOTE, "agent_id": agent, "agent_name": "Bench"})
        now = dt.datetime.now(dt.UTC)
        with conn.cursor().copy("copy due_job (shop_id, kind, ref_id, due_at, next_attempt_at, payload, state, "
                                "attempts, created_at) from stdin") as copy:
            for index, conversation_id in enumerate(ids):
                due = now + dt.timedelta(days=1 + index % 30, seconds=index)
                copy.write_row((shop_id, "follow_up", conversation_id, due, due, payload, "pending", 0, now))
        conn.execute("analyze")
    return {"conversations": len(ids), "seed_s": round(time.perf_counter() - started, 1), "ids": ids}


def bring_forward(db: Database, ids: list[int], start: dt.datetime, window_s: float) -> None:
    """These conversations' follow-ups fall due from `start`, evenly over the window."""
    moments = [start + dt.timedelta(seconds=window_s * index / len(ids)) for index in range(len(ids))]
    with _pg(db) as conn:
        conn.execute("update due_job set due_at = b.due, next_attempt_at = b.due "
                     "from unnest(%s::bigint[], %s::timestamptz[]) as b(ref, due) where due_job.ref_id = b.ref",
                     (ids, moments))


def cpu_pct(pids: list[int], seconds: float) -> float:
    before, t0 = sum(process_cpu_seconds(pid) for pid in pids), time.perf_counter()
    time.sleep(seconds)  # a measuring window, not a wait for something to happen
    return round(100 * (sum(process_cpu_seconds(pid) for pid in pids) - before) / (time.perf_counter() - t0), 2)


def run_one(*, conversations: int = CONVERSATIONS, batch: int = 2000, idle_s: float = 20.0,
            window_s: float = 20.0, rate: float = 200.0, workers: int = 2) -> dict[str, Any]:
    print(f"[due] seeding {conversations:,} open conversations with a follow-up each ...", flush=True)
    with Database("postgresql") as db:
        db.migrate()
        tenant = db.tenant()
        seeded = seed_jobs(db, tenant.shop_id, conversations)
        batch_ids = seeded["ids"][:batch]
        # The batch falls due after the idle phase and the server's start, spread over the window.
        batch_start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=idle_s + 20)
        bring_forward(db, batch_ids, batch_start, window_s)
        log = (db.tmp / "worker.log").open("wb")
        pool = [subprocess.Popen([*BALIE, "worker"], env=db.env(), stdout=log, stderr=subprocess.STDOUT)
                for _ in range(workers)]
        pids = [worker.pid for worker in pool]
        try:
            time.sleep(3.0)  # start-up (imports, first pass), not part of the idle figure
            print(f"[due] idle scheduler ({workers} workers) for {idle_s:g} s ...", flush=True)
            idle = cpu_pct(pids, idle_s)
            with Server(db) as server:
                server.start()
                wait = (batch_start - dt.datetime.now(dt.UTC)).total_seconds() - 5
                time.sleep(max(0.0, wait))  # until 5 s before the batch falls due
                print(f"[due] {rate:g} msgs/s for {window_s + 10:g} s while {batch} follow-ups fall due ...",
                      flush=True)
                worker_cpu0 = sum(process_cpu_seconds(pid) for pid in pids)
                client = run_client(
                    {"mode": "ingest", "host": server.host, "port": server.port, "token": tenant.token,
                     "concurrency": 8, "warmup": 5, "duration": window_s + 5, "rate": rate,
                     "max_requests": int(rate * (window_s + 15)), "run_id": secrets.token_hex(3),
                     "server_pid": server.pid},
                    timeout=window_s + 120,
                )
                worker_cpu = round(100 * (sum(process_cpu_seconds(pid) for pid in pids) - worker_cpu0)
                                   / (window_s + 10), 1)
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline:  # the drain: bounded
                with _pg(db) as conn:
                    left = conn.execute("select count(*) from due_job where state = 'pending' and due_at <= now()"
                                        ).fetchone()[0]
                if not left:
                    break
                time.sleep(0.5)
        finally:
            for worker in pool:
                worker.terminate()
            for worker in pool:
                worker.wait(timeout=30)
            log.close()
        # What the workers warned about (a job retried, a deadlock): counted, the first few kept.
        warned = [line for line in (db.tmp / "worker.log").read_text(errors="replace").splitlines()
                  if " WARNING " in line or " ERROR " in line or "failed" in line]
        with _pg(db) as conn:
            rows = conn.execute("select extract(epoch from done_at - due_at) from due_job "
                                "where kind = 'follow_up' and state = 'done' and ref_id = any(%s)",
                                (batch_ids,)).fetchall()
            # What follows each ingested message (SLA, acknowledgement, rules) is due work too.
            received = sorted(float(r[0]) for r in conn.execute(
                "select extract(epoch from done_at - due_at) from due_job "
                "where kind = 'message.received' and state = 'done'").fetchall())
            states = {f"{kind} {state}": count for kind, state, count in conn.execute(
                "select kind, state, count(*) from due_job group by kind, state order by kind, state").fetchall()}
            notes = conn.execute(
                "select count(*), count(distinct conversation_id) from message where direction = 'note' "
                "and text like %s and conversation_id = any(%s)", (f"%{NOTE}%", batch_ids)).fetchone()
    late = sorted(float(r[0]) for r in rows)
    summary = summarise_ms(late)
    result = {
        "scenario": "due", "database": "postgresql", "conversations": seeded["conversations"], "workers": workers,
        "batch": batch, "done": len(late), "states": states, "seed_s": seeded["seed_s"],
        "notes": notes[0], "conversations_with_note": notes[1],
        "late_p50_s": round(summary.get("p50_ms", 0) / 1000, 3) if late else None,
        "late_p99_s": round(summary.get("p99_ms", 0) / 1000, 3) if late else None,
        "late_max_s": round(late[-1], 3) if late else None,
        "worker_warnings": len(warned), "worker_warnings_first": warned[:3],
        "received_done": len(received),
        "received_late_p99_s": round(summarise_ms(received).get("p99_ms", 0) / 1000, 3) if received else None,
        "received_late_max_s": round(received[-1], 3) if received else None,
        "idle_worker_cpu_pct": idle, "worker_cpu_pct_under_load": worker_cpu,
        "ingest_msgs_per_s": client["rps"], "ingest_p99_ms": client["latency"].get("p99_ms"),
        "ingest_errors": client["errors"], "client": {k: client[k] for k in ("cpu", "requests_sent") if k in client},
    }
    result["target"] = f"every due item within {TARGET_LATE_S:g} s at {rate:g} msgs/s; idle < {TARGET_IDLE_PCT:g} %"
    result["target_met"] = bool(
        late and len(late) == batch and late[-1] <= TARGET_LATE_S and idle < TARGET_IDLE_PCT
        and (not received or received[-1] <= TARGET_LATE_S)
        and notes[0] == batch == notes[1]
    )
    return result


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    try:
        if quick:
            return [run_one(conversations=5_000, batch=200, idle_s=5, window_s=5, rate=50)]
        return [run_one()]
    except Exception as error:  # the figures of the other scenarios must survive
        print(f"[due] FAILED: {error}", flush=True)
        return [{"scenario": "due", "database": "postgresql", "error": str(error)[-2000:]}]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["Due work: follow-ups falling due while ingesting (target: all within 5 s; idle < 5 % of a core)"]
    for row in rows:
        if "error" in row:
            lines.append(f"  FAILED: {row['error'][:300]}")
            continue
        lines.append(
            f"  {row['conversations']:,} conversations, {row.get('workers', 1)} workers, batch {row['batch']}: "
            f"done {row['done']}, "
            f"notes {row['notes']} on {row['conversations_with_note']} conversations; late p50 {row['late_p50_s']} s, "
            f"p99 {row['late_p99_s']} s, max {row['late_max_s']} s; message.received jobs done "
            f"{row.get('received_done', 0)} (late p99 {row.get('received_late_p99_s')} s, max "
            f"{row.get('received_late_max_s')} s); idle workers {row['idle_worker_cpu_pct']} %, "
            f"under load {row['worker_cpu_pct_under_load']} %; ingest {row['ingest_msgs_per_s']:.0f} msgs/s "
            f"(p99 {row['ingest_p99_ms']} ms, {row['ingest_errors']} errors); states {row['states']}; "
            f"target met: {'yes' if row['target_met'] else 'NO'}")
    return "\n".join(lines)
