"""Chat widget: one `balie serve` holding N visitor WebSockets while visitors write to an agent.

The visitors and the agent are a separate process (bench/widget_client.py). Measures the
visitor → agent latency (send on the widget socket → `message.created` on the agent's SSE
stream), the visitor's ack latency, and the server's memory per open connection.
Issue 4's target: 2,000 connections, p99 < 100 ms.
"""

from __future__ import annotations

import resource
from typing import Any

from bench.profile import sample
from bench.server import Database, Server, plain_pg_url, run_client

TARGET_CONNECTIONS = 2000
TARGET_P99_MS = 100


def raise_fd_limit(wanted: int) -> tuple[int, int]:
    """Raises this process's soft limit on open files (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = hard if hard != resource.RLIM_INFINITY else max(wanted, soft)
    if soft < min(wanted, ceiling):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, ceiling), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def public_key(db: Database, shop_id: int) -> str:
    """The shop's widget key (what `balie shop add` prints after the id)."""
    sql = f"select public_key from shop where id = {int(shop_id)}"
    if db.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
        try:
            row = conn.execute(sql).fetchone()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(plain_pg_url(), options=f"-csearch_path={db.schema}") as pg:
            row = pg.execute(sql).fetchone()
    if not row:
        raise RuntimeError(f"shop {shop_id} has no public key")
    return str(row[0])


def run_one(kind: str, *, connections: int, rate: float, duration: float, profile: bool = False) -> dict[str, Any]:
    fd_limit = raise_fd_limit(2 * connections + 1024)
    if fd_limit[0] < connections + 256:
        raise RuntimeError(f"the open-files limit ({fd_limit[0]}) is too low for {connections} sockets")
    print(f"[widget] {kind}: migrating and starting balie serve ...", flush=True)
    with Database(kind) as db:
        db.migrate()
        tenant = db.tenant()
        key = public_key(db, tenant.shop_id)
        with Server(db) as server:
            startup = server.start()
            print(f"[widget] {kind}: {connections:,} sockets, then {rate:g} msgs/s for {duration:g} s ...", flush=True)
            max_seconds = 60 + duration + connections / 40
            # From the start: the ramp (about 140 connections/s), the messages and the drain.
            profiler = sample(profile, server.pid, connections / 100 + duration + 10, f"widget-{kind}")
            client = run_client(
                {"host": server.host, "port": server.port, "shop_key": key, "token": tenant.token,
                 "server_pid": server.pid, "connections": connections, "rate": rate, "duration": duration,
                 "senders": max(1, connections // 4), "max_seconds": max_seconds},
                timeout=max_seconds + 60, module="bench.widget_client",
            )
            alive = server.proc is not None and server.proc.poll() is None
            hotspots = profiler.finish() if profiler else None
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        stored = db.scalar("select count(*) from message where channel = 'chat'")
    idle, connected = client["rss_kib_idle"]["VmRSS"], client["rss_kib_connected"]["VmRSS"]
    opened = client["connections_open"]
    agent = client["agent_latency"]
    row: dict[str, Any] = {
        "scenario": "widget",
        "database": kind,
        "connections": opened,
        "connections_wanted": connections,
        "connect_errors": client["connect_errors"],
        "closed_by_server": client["closed_by_server"],
        "ramp_s": client["ramp_s"],
        "hello_p50_ms": client["hello"].get("p50_ms"),
        "hello_p99_ms": client["hello"].get("p99_ms"),
        "messages_sent": client["messages_sent"],
        "messages_acked": client["messages_acked"],
        "messages_to_agent": client["messages_to_agent"],
        "messages_lost": client["messages_lost"],
        "messages_stored": stored,
        "rate_sent": client["rate_sent"],
        "p50_ms": agent.get("p50_ms"),
        "p95_ms": agent.get("p95_ms"),
        "p99_ms": agent.get("p99_ms"),
        "max_ms": agent.get("max_ms"),
        "ack_p50_ms": client["ack_latency"].get("p50_ms"),
        "ack_p99_ms": client["ack_latency"].get("p99_ms"),
        "rss_kib_idle": idle,
        "rss_kib_connected": connected,
        "rss_kib_after_messages": client["rss_kib_after_messages"]["VmRSS"],
        "rss_kib_after_close": client["rss_kib_after_close"]["VmRSS"],
        "rss_kib_peak": client["rss_kib_after_close"]["VmHWM"],
        "kib_per_connection": round((connected - idle) / opened, 1) if opened else None,
        "startup_s": round(startup, 3),
        "server_survived": alive,
        "server_tracebacks": log.count("Traceback"),
        "server_errors": [line[:300] for line in log.splitlines() if line.startswith(("ERROR", "sqlalchemy.exc"))][:5],
        "client": client,
        "profile": hotspots,
    }
    row["target"] = f"{TARGET_CONNECTIONS:,} connections, p99 < {TARGET_P99_MS} ms"
    if connections >= TARGET_CONNECTIONS:
        row["target_met"] = bool(
            opened >= TARGET_CONNECTIONS and client["messages_lost"] == 0 and client["connect_errors"] == 0
            and (agent.get("p99_ms") or 1e9) < TARGET_P99_MS
        )
    return row


def run(*, quick: bool = False, profile: bool = False,
        databases: tuple[str, ...] = ("postgresql", "sqlite")) -> list[dict[str, Any]]:
    connections, rate, duration = (200, 50.0, 8.0) if quick else (TARGET_CONNECTIONS, 100.0, 20.0)
    rows = []
    for kind in databases:
        try:
            rows.append(run_one(kind, connections=connections, rate=rate, duration=duration, profile=profile))
        except Exception as error:  # one database failing must not lose the other's figures
            print(f"[widget] {kind} FAILED: {error}", flush=True)
            rows.append({"scenario": "widget", "database": kind, "error": str(error)[-2000:]})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"Chat widget: one balie serve, visitor WebSockets, one agent on SSE "
             f"(target: {TARGET_CONNECTIONS:,} connections, visitor -> agent p99 < {TARGET_P99_MS} ms)"]
    header = (f"{'database':<12}{'conns':>7}{'errs':>6}{'msgs':>6}{'lost':>6}{'p50 ms':>8}{'p95 ms':>8}"
              f"{'p99 ms':>8}{'max ms':>8}{'ack p99':>9}{'hello p99':>11}{'KiB/conn':>10}{'RSS0 MiB':>10}"
              f"{'RSSn MiB':>10}{'srv CPU%':>10}  target met")
    lines += [header, "-" * len(header)]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['database']:<12}FAILED: {row['error'][:200]}")
            continue

        def ms(value: Any) -> str:
            return "-" if value is None else f"{value:.1f}"

        met = "" if "target_met" not in row else ("yes" if row["target_met"] else "NO")
        cpu = row["client"]["cpu_messages"].get("server_cpu_pct", 0)
        lines.append(
            f"{row['database']:<12}{row['connections']:>7}{row['connect_errors']:>6}{row['messages_sent']:>6}"
            f"{row['messages_lost']:>6}{ms(row['p50_ms']):>8}{ms(row['p95_ms']):>8}{ms(row['p99_ms']):>8}"
            f"{ms(row['max_ms']):>8}{ms(row['ack_p99_ms']):>9}{ms(row['hello_p99_ms']):>11}"
            f"{row['kib_per_connection'] or 0:>10.1f}{row['rss_kib_idle'] / 1024:>10.0f}"
            f"{row['rss_kib_connected'] / 1024:>10.0f}{cpu:>10.0f}  {met}")
        client = row["client"]
        other = client["cpu_messages"].get("other_cpu_pct", 0)
        lines.append(
            f"  ramp {row['ramp_s']:.1f} s (hello p50 {ms(row['hello_p50_ms'])} ms), {client['senders']} senders "
            f"at {row['rate_sent']:.0f} msgs/s, acked {row['messages_acked']}, stored {row['messages_stored']}, "
            f"closed by server {row['closed_by_server']}, other CPU {other:.0f}%, "
            f"RSS after messages {row['rss_kib_after_messages'] / 1024:.0f} MiB, after close "
            f"{row['rss_kib_after_close'] / 1024:.0f} MiB")
        if client["problems"] or any(k.startswith("error:") for k in client["frames"]):
            lines.append(f"  ! problems {client['problems']}, frames {client['frames']}: {client['examples'][:3]}")
        if not row["server_survived"] or row["server_tracebacks"]:
            lines.append(f"  ! server: survived={row['server_survived']}, {row['server_tracebacks']} tracebacks "
                         f"in its log: {row['server_errors'][:2]}")
    return "\n".join(lines)
