"""The SMTP load client, run as its own process: N connections send mail for a fixed time.

    python -m bench.mail_client '{"host": ..., "port": ..., "to": ..., "clients": 10, ...}'
"""

from __future__ import annotations

import json
import smtplib
import sys
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid


def build(run: str, client: int, index: int, to: str) -> bytes:
    message = EmailMessage()
    # A tenth of the mail comes from new customers, the rest from a few regulars who reply.
    sender = f"klant{client}-{index}@bench.example" if index % 10 == 0 else f"vaste{client}@bench.example"
    message["From"] = f"Klant {client} <{sender}>"
    message["To"] = to
    message["Subject"] = f"Bestelling {run}-{client}-{index}"
    message["Message-ID"] = make_msgid(idstring=f"{run}.{client}.{index}", domain="bench.example")
    message.set_content(f"Hallo,\n\nWaar blijft bestelling {index}?\n\nOp 3 nov. 2026 schreef Winkel:\n> Dank!\n")
    return message.as_bytes().replace(b"\n", b"\r\n")


def main() -> None:
    args = json.loads(sys.argv[1])
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start = time.monotonic() + args["warmup"]
    end = start + args["duration"]

    def worker(client: int) -> None:
        index = 0
        with smtplib.SMTP(args["host"], args["port"], timeout=30) as smtp:
            while time.monotonic() < end and index < args["max_per_client"]:
                raw = build(args["run"], client, index, args["to"])
                began = time.monotonic()
                try:
                    smtp.sendmail(f"bounce{client}@bench.example", [args["to"]], raw)
                    ok = True
                except smtplib.SMTPException as error:
                    ok = False
                    with lock:
                        errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                finished = time.monotonic()
                if ok and began >= start and finished <= end:
                    with lock:
                        latencies.append(finished - began)
                index += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args["clients"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args["duration"] + args["warmup"] + 120)
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None

    print(json.dumps({"ok": len(latencies), "rps": round(len(latencies) / args["duration"], 1),
                      "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "errors": errors}))


if __name__ == "__main__":
    main()
