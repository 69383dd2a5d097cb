"""E-mail out: how fast the outbox delivers queued replies to an SMTP relay on loopback.

Replies are queued first (agents start e-mail conversations through the API while no
worker runs); then one `balie worker` delivers them to a local aiosmtpd sink and the
time until the last one is recorded as sent is measured. The sink also counts
Message-IDs, so a reply sent twice would show.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller

from bench.common import ROOT
from bench.server import BALIE, Database, Server, free_port

ADDRESS = "support@bench.example"


class Sink:
    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        for line in envelope.original_content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.message_ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def _queue(server: Server, token: str, count: int) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    for index in range(count):
        body = json.dumps({"channel": "email", "customer": {"email": f"klant{index}@bench.example"},
                           "subject": f"Uw bestelling {index}", "text": "Uw pakket is onderweg."})
        conn.request("POST", "/api/v1/conversations", body=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"queueing a reply answered {response.status}")
    conn.close()


def run_one(kind: str, *, count: int = 1000, timeout: float = 180) -> dict[str, Any]:
    print(f"[mail-out] {kind}: queueing {count} replies ...", flush=True)
    sink = Sink()
    sink_port = free_port()
    relay = Controller(sink, hostname="127.0.0.1", port=sink_port)
    relay.start()
    try:
        with Database(kind) as db:
            db.migrate()
            tenant = db.tenant()
            db.balie("mailbox", "add", ADDRESS, "--shop", str(tenant.shop_id))
            with Server(db) as server:
                server.start()
                _queue(server, tenant.token, count)
            env = {**db.env(), "BALIE_SMTP_RELAY": f"smtp://127.0.0.1:{sink_port}"}
            print(f"[mail-out] {kind}: one balie worker delivers them ...", flush=True)
            started = time.monotonic()
            worker = subprocess.Popen([*BALIE, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            sent = 0
            try:
                while time.monotonic() - started < timeout:
                    sent = db.scalar("select count(*) from outbox where status = 'sent'")
                    failed = db.scalar("select count(*) from outbox where status = 'failed'")
                    if sent + failed >= count:
                        break
                    time.sleep(0.2)
                elapsed = time.monotonic() - started
            finally:
                worker.terminate()
                worker.wait(timeout=30)
            failed = db.scalar("select count(*) from outbox where status = 'failed'")
    finally:
        relay.stop()
    return {"scenario": "mail_out", "database": kind, "queued": count, "sent": sent, "failed": failed,
            "seconds": round(elapsed, 2), "msgs_per_s": round(sent / elapsed, 1) if elapsed else None,
            "received_by_sink": len(sink.message_ids), "distinct_message_ids": len(set(sink.message_ids)),
            "includes_worker_start_s": True}


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    results = []
    for kind in ("sqlite", "postgresql"):
        try:
            results.append(run_one(kind, count=200 if quick else 1000))
        except Exception as error:
            print(f"[mail-out] {kind} FAILED: {error}", flush=True)
            results.append({"scenario": "mail_out", "database": kind, "error": str(error)[-2000:]})
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = ["Mail out: outbox -> SMTP relay on loopback, one balie worker",
             f"{'database':12} {'replies':>8} {'sent':>6} {'failed':>7} {'seconds':>8} {'msgs/s':>8} {'sink got':>9}"
             f" {'distinct':>9}", "-" * 75]
    for r in results:
        if "error" in r:
            lines.append(f"{r['database']:12} FAILED: {r['error'][:100]}")
            continue
        lines.append(f"{r['database']:12} {r['queued']:>8} {r['sent']:>6} {r['failed']:>7} {r['seconds']:>8} "
                     f"{r['msgs_per_s']!s:>8} {r['received_by_sink']:>9} {r['distinct_message_ids']:>9}")
    return "\n".join(lines)


