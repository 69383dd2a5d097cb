"""The load generator, run as its own process so it never competes for the server's GIL.

    python -m bench.client < config.json > result.json

A tiny HTTP/1.1 keep-alive client on asyncio streams (with uvloop when installed) instead
of httpx: on a 2-core machine every CPU millisecond the client spends is taken from the
server or the database, and this client costs a fraction of what httpx does per request.

Modes:
  ingest: N workers POST /api/v1/messages for warm-up + duration seconds (capped in count).
  get:    GET a list of paths, sequentially (concurrency 1) or with a few workers.
  tracking: N workers POST signed scans to /webhooks/tracking/{key}, one scan per delivery,
          for parcels the benchmark seeded (open loop at `rate`).
Every loop is bounded by a request cap and a deadline, and stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.common import machine_cpu_seconds, postgres_cpu_seconds, process_cpu_seconds, summarise_ms

REQUEST_TIMEOUT = 30.0

SENTENCES = [
    "Hallo, waar blijft mijn bestelling?",
    "Ik heb vorige week een jas besteld maar nog niets ontvangen.",
    "Kunnen jullie de bezorging naar zaterdag verzetten?",
    "De maat valt klein, kan ik hem ruilen voor een L?",
    "Mijn pakket is beschadigd aangekomen, wat nu?",
    "Bedankt voor de snelle hulp gisteren!",
    "Is dit product ook in het blauw verkrijgbaar?",
    "Ik wil graag mijn bestelling annuleren.",
    "Hoe lang duurt het terugstorten van mijn geld?",
    "The tracking link does not work, can you check it?",
    "Kan ik ook achteraf betalen?",
    "Mijn kortingscode wordt niet geaccepteerd bij het afrekenen.",
    "Wanneer is de winkel in Utrecht weer open?",
    "Ik heb twee keer betaald voor dezelfde bestelling.",
    "Graag een factuur op naam van mijn bedrijf.",
]


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[bytes, bytes]


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened after an error or `Connection: close`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: bytes, body: bytes = b"") -> Response:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(body)}\r\n"
        ).encode() + headers + b"\r\n"
        self.writer.write(head + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw[:-4].split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            response_headers: dict[bytes, bytes] = {}
            for line in lines[1:]:
                key, _, value = line.partition(b":")
                response_headers[key.strip().lower()] = value.strip()
            if b"content-length" in response_headers:
                data = await self.reader.readexactly(int(response_headers[b"content-length"]))
            elif response_headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                parts = []
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        while (await self.reader.readline()) not in (b"\r\n", b""):
                            pass
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readexactly(2)
                data = b"".join(parts)
            else:
                data = await self.reader.read()
                self.close()
        except BaseException:
            self.close()
            raise
        if response_headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return Response(status, data, response_headers)


@dataclass
class Sample:
    done: float  # monotonic time the response was complete
    latency: float
    status: int  # 0 = transport error or time-out


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_examples) < 5:
            self.error_examples.append(example[:300])


async def timed(conn: Connection, recorder: Recorder, method: str, path: str, headers: bytes,
                body: bytes = b"") -> Response | None:
    started = time.perf_counter()
    try:
        response = await asyncio.wait_for(conn.request(method, path, headers, body), REQUEST_TIMEOUT)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
        conn.close()
        recorder.samples.append(Sample(time.perf_counter(), time.perf_counter() - started, 0))
        recorder.error(type(error).__name__, repr(error))
        return None
    finished = time.perf_counter()
    recorder.samples.append(Sample(finished, finished - started, response.status))
    return response


class CpuWindow:
    """CPU used by the server process, this client and the whole machine between two marks."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.marks: list[tuple[float, float, float, float, float, float]] = []

    def mark(self) -> None:
        server = 0.0
        if self.server_pid:
            with contextlib.suppress(OSError):
                server = process_cpu_seconds(self.server_pid)
        busy, total = machine_cpu_seconds()
        self.marks.append((time.perf_counter(), server, time.process_time(), busy, total, postgres_cpu_seconds()))

    def result(self) -> dict[str, float]:
        if len(self.marks) < 2:
            return {}
        (t0, s0, c0, b0, a0, p0), (t1, s1, c1, b1, a1, p1) = self.marks[0], self.marks[-1]
        wall = max(t1 - t0, 1e-9)
        return {
            "server_cpu_pct": round(100 * (s1 - s0) / wall, 1),  # 100 = one core
            "client_cpu_pct": round(100 * (c1 - c0) / wall, 1),
            "postgres_cpu_pct": round(100 * (p1 - p0) / wall, 1),
            "machine_cpu_pct": round(100 * (b1 - b0) / max(a1 - a0, 1e-9), 1),  # 100 = all cores
            # Everything else on the machine (other people's tests skew the figures), 100 = one core.
            "other_cpu_pct": round(100 * ((b1 - b0) - (s1 - s0) - (c1 - c0) - (p1 - p0)) / wall, 1),
        }


def _window_stats(recorder: Recorder, start: float, end: float) -> dict[str, Any]:
    inside = [s for s in recorder.samples if start <= s.done <= end]
    ok = [s for s in inside if 200 <= s.status < 300]
    statuses: dict[str, int] = {}
    for sample in inside:
        statuses[str(sample.status)] = statuses.get(str(sample.status), 0) + 1
    return {
        "window_s": round(end - start, 3),
        "completed": len(inside),
        "ok": len(ok),
        "errors": len(inside) - len(ok),
        "rps": round(len(ok) / (end - start), 1) if end > start else 0.0,
        "statuses": statuses,
        "latency": summarise_ms([s.latency for s in ok]),
    }


async def _in_window(cpu: CpuWindow, warm_end: float, end: float, workers: list[Coroutine[Any, Any, None]]) -> None:
    """Runs the workers; the CPU window opens after the warm-up and closes at `end`, or when
    the workers stop sooner (the request cap was hit)."""

    async def marks() -> None:
        await asyncio.sleep(max(0.0, warm_end - time.perf_counter()))
        cpu.mark()
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        cpu.mark()

    marking = asyncio.create_task(marks())
    await asyncio.gather(*workers)
    if not marking.done():
        marking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await marking
        cpu.mark()


# --- ingest -----------------------------------------------------------------------------------


async def run_ingest(config: dict[str, Any]) -> dict[str, Any]:
    host, port = config["host"], config["port"]
    workers = int(config.get("concurrency", 8))
    warmup = float(config.get("warmup", 3))
    duration = float(config.get("duration", 15))
    cap = int(config.get("max_requests", 50_000))
    new_share = float(config.get("new_customer_share", 0.25))
    rate = float(config.get("rate", 0))  # messages/s in all; 0 = as fast as the workers go
    run_id = config.get("run_id", "r")
    rng = random.Random(config.get("seed", 1))
    headers = (
        f"Authorization: Bearer {config['token']}\r\nContent-Type: application/json\r\n"
    ).encode()

    recorder = Recorder()
    customers: list[dict[str, str]] = []
    counter = {"sent": 0, "new": 0, "existing": 0, "created": 0, "threaded": 0}
    cpu = CpuWindow(config.get("server_pid"))
    started = time.perf_counter()
    warm_end = started + warmup
    end = warm_end + duration

    async def worker(number: int) -> None:
        conn = Connection(host, port)
        seq = 0
        while time.perf_counter() < end and counter["sent"] < cap:
            slot = counter["sent"]
            counter["sent"] += 1
            if rate:  # open loop: request n leaves at started + n / rate, whoever is free
                await asyncio.sleep(max(0.0, started + slot / rate - time.perf_counter()))
                if time.perf_counter() >= end:
                    break
            seq += 1
            is_new = not customers or rng.random() < new_share
            if is_new:
                n = counter["new"]
                counter["new"] += 1
                customer = {"email": f"klant-{run_id}-{n}@bench.example", "name": f"Klant {n}"}
                if n % 10 == 0:
                    customer["external_id"] = f"shop-{run_id}-{n}"
            else:
                counter["existing"] += 1
                customer = rng.choice(customers)
            payload: dict[str, Any] = {
                "customer": customer,
                "text": " ".join(rng.sample(SENTENCES, rng.randint(1, 4))),
                "external_id": f"bench-{run_id}-{number}-{seq}",
            }
            if is_new:
                payload["subject"] = rng.choice(SENTENCES)[:60]
            response = await timed(conn, recorder, "POST", "/api/v1/messages", headers,
                                   json.dumps(payload).encode())
            if response is None:
                await asyncio.sleep(0.05)
                continue
            if response.status == 201:
                if is_new:
                    counter["created"] += 1
                    customers.append(customer)
                else:
                    counter["threaded"] += 1
            else:
                recorder.error(f"http_{response.status}", response.body.decode(errors="replace"))
        conn.close()

    await _in_window(cpu, warm_end, end, [worker(i) for i in range(workers)])
    result = _window_stats(recorder, warm_end, min(end, time.perf_counter()))
    result.update(
        mode="ingest", concurrency=workers, warmup_s=warmup, duration_s=duration,
        requests_sent=counter["sent"], new_customers=counter["new"],
        messages_to_existing_customers=counter["existing"],
        cap_reached=counter["sent"] >= cap, cpu=cpu.result(),
        error_kinds=recorder.errors, error_examples=recorder.error_examples,
        all_requests=len(recorder.samples),
    )
    return result


# --- tracking -----------------------------------------------------------------------------------

TRACKING_STEPS = ("in_transit", "out_for_delivery", "delivered")


async def run_tracking(config: dict[str, Any]) -> dict[str, Any]:
    """One scan per delivery, signed like Balie's own webhooks (balie.security.sign), each for
    one of the seeded parcels `codes` in turn: the first pass adds a new scan to each."""
    from balie.security import sign

    host, port, path = config["host"], config["port"], config["path"]
    secret, codes = config["secret"], config["codes"]
    workers = int(config.get("concurrency", 8))
    warmup = float(config.get("warmup", 3))
    duration = float(config.get("duration", 15))
    cap = int(config.get("max_requests", 50_000))
    rate = float(config.get("rate", 0))
    recorder = Recorder()
    counter = {"sent": 0, "added": 0, "known": 0}
    cpu = CpuWindow(config.get("server_pid"))
    started = time.perf_counter()
    warm_end = started + warmup
    end = warm_end + duration

    async def worker() -> None:
        conn = Connection(host, port)
        while time.perf_counter() < end and counter["sent"] < cap:
            slot = counter["sent"]
            counter["sent"] += 1
            if rate:
                await asyncio.sleep(max(0.0, started + slot / rate - time.perf_counter()))
                if time.perf_counter() >= end:
                    break
            carrier, code, number = codes[slot % len(codes)]
            step = TRACKING_STEPS[(slot // len(codes)) % len(TRACKING_STEPS)]
            occurred = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60 + slot % 50))
            body = json.dumps({"carrier": carrier, "tracking_code": code, "order_number": number,
                               "events": [{"status": step, "occurred_at": occurred}]}).encode()
            stamp = str(int(time.time()))
            headers = (f"Content-Type: application/json\r\nX-Balie-Timestamp: {stamp}\r\n"
                       f"X-Balie-Signature: {sign(secret, body, stamp)}\r\n").encode()
            response = await timed(conn, recorder, "POST", path, headers, body)
            if response is None:
                await asyncio.sleep(0.05)
                continue
            if response.status == 200:
                added = json.loads(response.body).get("events", {}).get("added", 0)
                counter["added" if added else "known"] += 1
            else:
                recorder.error(f"http_{response.status}", response.body.decode(errors="replace"))
        conn.close()

    await _in_window(cpu, warm_end, end, [worker() for _ in range(workers)])
    result = _window_stats(recorder, warm_end, min(end, time.perf_counter()))
    result.update(mode="tracking", concurrency=workers, warmup_s=warmup, duration_s=duration,
                  requests_sent=counter["sent"], scans_added=counter["added"], scans_known=counter["known"],
                  cap_reached=counter["sent"] >= cap, cpu=cpu.result(), error_kinds=recorder.errors,
                  error_examples=recorder.error_examples, all_requests=len(recorder.samples))
    return result


# --- get ----------------------------------------------------------------------------------------


async def run_get(config: dict[str, Any]) -> dict[str, Any]:
    host, port = config["host"], config["port"]
    paths: list[str] = config["paths"]
    workers = int(config.get("concurrency", 1))
    requests = int(config.get("requests", 300))
    warmup_requests = int(config.get("warmup_requests", 20))
    max_seconds = float(config.get("max_seconds", 120))
    headers = "".join(f"{k}: {v}\r\n" for k, v in config.get("headers", {}).items()).encode()
    deadline = time.perf_counter() + max_seconds

    warm = Recorder()
    conn = Connection(host, port)
    first_body = b""
    for i in range(warmup_requests):
        if time.perf_counter() > deadline:
            break
        response = await timed(conn, warm, "GET", paths[i % len(paths)], headers)
        if response is not None and not first_body:
            first_body = response.body
    conn.close()

    recorder = Recorder()
    cpu = CpuWindow(config.get("server_pid"))
    counter = {"next": 0}

    async def worker() -> None:
        worker_conn = Connection(host, port)
        while counter["next"] < requests and time.perf_counter() < deadline:
            index = counter["next"]
            counter["next"] += 1
            response = await timed(worker_conn, recorder, "GET", paths[index % len(paths)], headers)
            if response is not None and response.status != 200:
                recorder.error(f"http_{response.status}", response.body.decode(errors="replace"))
        worker_conn.close()

    cpu.mark()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    finished = time.perf_counter()
    cpu.mark()
    result = _window_stats(recorder, started, finished)
    result.update(
        mode="get", concurrency=workers, requests=requests, paths=paths[:3],
        response_bytes=len(first_body), warmup_errors=warm.errors, cpu=cpu.result(),
        error_kinds=recorder.errors, error_examples=recorder.error_examples,
        deadline_hit=counter["next"] < requests,
    )
    return result


def main() -> int:
    config = json.load(sys.stdin)
    runner = {"ingest": run_ingest, "tracking": run_tracking}.get(config["mode"], run_get)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(runner(config))
    else:
        result = uvloop.run(runner(config))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
