"""Inbox listing on a big PostgreSQL shop: 100,000 conversations, 1,000,000 messages.

Measures GET /api/v1/conversations (the first page of open conversations, and a few
variations), sequentially and with a few concurrent agents, and the HTML inbox (/inbox)
once the agent UI has it (it needs a logged-in browser session: /login with a CSRF token).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from bench import seed
from bench.common import rss_kib
from bench.server import Database, Server, Tenant, plain_pg_url, private_redis, run_client

TARGET_P99_MS = 50


def _get(server: Server, headers: dict[str, str], paths: list[str], *, requests: int, concurrency: int = 1,
         warmup: int = 20, max_seconds: float = 90) -> dict[str, Any]:
    return run_client(
        {"mode": "get", "host": server.host, "port": server.port, "paths": paths, "headers": headers,
         "requests": requests, "concurrency": concurrency, "warmup_requests": warmup,
         "max_seconds": max_seconds, "server_pid": server.pid},
        timeout=max_seconds + 60,
    )


def _row(name: str, client: dict[str, Any], *, target: bool = False, note: str = "") -> dict[str, Any]:
    latency = client["latency"]
    row: dict[str, Any] = {
        "scenario": "inbox",
        "case": name,
        "requests": client["ok"],
        "concurrency": client["concurrency"],
        "rps": client["rps"],
        "p50_ms": latency.get("p50_ms"),
        "p95_ms": latency.get("p95_ms"),
        "p99_ms": latency.get("p99_ms"),
        "max_ms": latency.get("max_ms"),
        "errors": client["errors"],
        "error_examples": client["error_examples"],
        "response_bytes": client["response_bytes"],
        "cpu": client["cpu"],
        "note": note,
    }
    if target:
        row["target"] = f"p99 < {TARGET_P99_MS} ms"
        row["target_met"] = bool(client["errors"] == 0 and (latency.get("p99_ms") or 1e9) < TARGET_P99_MS)
    return row


def login_cookie(server: Server, tenant: Tenant) -> str | None:
    """A logged-in session cookie for the agent UI, or None while the UI has no /login yet."""
    import httpx

    with httpx.Client(base_url=f"http://{server.host}:{server.port}", timeout=10, follow_redirects=False) as http:
        page = http.get("/login")
        if page.status_code == 404:
            return None
        if page.status_code != 200:
            raise RuntimeError(f"GET /login answered {page.status_code}")
        csrf = http.cookies.get("csrf_token") or http.cookies.get("balie_csrf")
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
        if found:
            csrf = found.group(1)
        form = {"email": tenant.email, "password": tenant.password, "csrf_token": csrf or ""}
        answer = http.post("/login", data=form)
        if answer.status_code not in (200, 302, 303):
            raise RuntimeError(f"POST /login answered {answer.status_code}: {answer.text[:300]}")
        check = http.get("/inbox")
        if check.status_code != 200:
            raise RuntimeError(f"GET /inbox after login answered {check.status_code}: {check.text[:300]}")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    conversations, messages = (20_000, 200_000) if quick else (100_000, 1_000_000)
    sequential = 100 if quick else 300
    rows: list[dict[str, Any]] = []
    print(f"[inbox] seeding PostgreSQL: {conversations:,} conversations, {messages:,} messages ...", flush=True)
    with Database("postgresql") as db:
        db.migrate()
        tenant = db.tenant()
        import psycopg

        with psycopg.connect(plain_pg_url(), options=f"-csearch_path={db.schema}") as conn:
            seeded = seed.seed(conn, shop_id=tenant.shop_id, conversations=conversations, messages=messages,
                               customers=max(1000, conversations * 6 // 10))
        print(f"[inbox] seeded in {seeded['total_s']} s (COPY {seeded['copy_s']} s): {seeded['rows']}", flush=True)
        with Server(db) as server:
            server.start()
            auth = {"Authorization": f"Bearer {tenant.token}"}
            first = "/api/v1/conversations?status=open"
            page = server.get_json(first, tenant.token)
            assert len(page["items"]) == 25, page
            # A deeper page: follow the cursor a few pages down.
            deeper = first
            for _ in range(4):
                cursor = server.get_json(deeper, tenant.token)["next_cursor"]
                deeper = f"{first}&cursor={urllib.parse.quote(cursor)}"

            print(f"[inbox] API first page, {sequential} sequential requests ...", flush=True)
            rows.append(_row("API open, first page (sequential)", _get(server, auth, [first], requests=sequential),
                             target=True))
            print("[inbox] API first page, 4 concurrent agents ...", flush=True)
            rows.append(_row("API open, first page (4 concurrent)",
                             _get(server, auth, [first], requests=sequential * 2, concurrency=4), target=True))
            print("[inbox] API variations ...", flush=True)
            rows.append(_row("API open, 5th page via cursor", _get(server, auth, [deeper], requests=100)))
            rows.append(_row("API open, sort=waiting", _get(server, auth, [first + "&sort=waiting"], requests=100),
                             note="orders by coalesce(waiting_since, ...): no index serves it"))
            rows.append(_row("API all statuses, first page", _get(server, auth, ["/api/v1/conversations?status=all"],
                                                                  requests=100)))
            rows.append(_row("API assignee=me, first page",
                             _get(server, auth, [first + "&assignee=me"], requests=100)))
            rows.append(_row("API tag=retour, first page", _get(server, auth, [first + "&tag=retour"], requests=100)))
            rows.append(_row("API search q=factuur (all statuses)",
                             _get(server, auth, ["/api/v1/conversations?status=all&q=factuur"], requests=10,
                                  warmup=1, max_seconds=60),
                             note="ILIKE over subjects, names, identities and message text"))

            try:
                cookie = login_cookie(server, tenant)
                problem = None if cookie else "TODO: /login and /inbox do not exist yet (agent UI not landed)"
            except Exception as error:  # the UI is young: report, keep the API figures
                cookie, problem = None, f"TODO: could not log in to the agent UI: {error!r}"[:300]
            if cookie is None:
                rows.append({"scenario": "inbox", "case": "HTML /inbox (sequential)", "todo": True,
                             "note": problem, "target": f"p99 < {TARGET_P99_MS} ms"})
            else:
                print(f"[inbox] HTML /inbox, {sequential} sequential requests ...", flush=True)
                html = {"Cookie": cookie}
                rows.append(_row("HTML /inbox (sequential)", _get(server, html, ["/inbox"], requests=sequential),
                                 target=True, note="default view: all open, longest waiting first"))
                rows.append(_row("HTML /inbox (4 concurrent)",
                                 _get(server, html, ["/inbox"], requests=sequential * 2, concurrency=4), target=True))
                rows.append(_row("HTML /inbox?sort=recent (sequential)",
                                 _get(server, html, ["/inbox?sort=recent"], requests=100)))
            rss = rss_kib(server.pid)
        if cookie is not None:
            rows.extend(_with_two_workers(db, tenant, sequential))
    for row in rows:
        row["dataset"] = {"conversations": conversations, "messages": messages, "seed": seeded}
        row["rss_kib_after"] = rss.get("VmRSS")
    return rows


def _with_two_workers(db: Database, tenant: Tenant, sequential: int) -> list[dict[str, Any]]:
    """The 4-agent cases again on `balie serve --workers 2` (which needs Redis for live
    updates: a private redis-server is started). Skipped without redis-server."""
    rows: list[dict[str, Any]] = []
    with private_redis("inbox") as url:
        if url is None:
            return rows
        db.redis_url = url
        try:
            with Server(db, workers=2) as server:
                server.start()
                print("[inbox] 4 concurrent agents on --workers 2 ...", flush=True)
                # Each worker process logs in on its own connection; the session is in the database.
                cookie = login_cookie(server, tenant)
                auth = {"Authorization": f"Bearer {tenant.token}"}
                rows.append(_row("API open, first page (4 concurrent, --workers 2)",
                                 _get(server, auth, ["/api/v1/conversations?status=open"], requests=sequential * 2,
                                      concurrency=4), target=True))
                rows.append(_row("HTML /inbox (4 concurrent, --workers 2)",
                                 _get(server, {"Cookie": cookie or ""}, ["/inbox"], requests=sequential * 2,
                                      concurrency=4), target=True))
        finally:
            db.redis_url = None
    return rows
