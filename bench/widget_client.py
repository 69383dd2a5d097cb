"""Chat widget visitors and one agent, as a separate process (see bench/widget.py).

    python -m bench.widget_client < config.json > result.json

Opens N widget sockets (`/widget/ws`, hello → welcome) in batches, each from one of several
loopback source addresses (127.0.0.x: Linux routes all of 127/8 to lo), so the widget's
per-address limits (60 connections and 120 messages a minute) are not what is measured.
One agent listens on `GET /api/v1/events` (SSE). Then, for a fixed window, a subset of the
visitors send messages on an open-loop schedule (a steady rate that does not wait for the
server); latency is the time from a visitor's send to the agent's `message.created` for that
message (matched by the message id in the visitor's `ack`), and to the `ack` itself.

The server's RSS is read from /proc before the sockets open (after a warm-up), with all of
them open, and after the message phase. Every wait has a time-out and the whole run a cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.client import SENTENCES, CpuWindow
from bench.common import rss_kib, summarise_ms

OPEN_TIMEOUT = 15.0
CLOSE_TIMEOUT = 2.0


def raise_fd_limit() -> tuple[int, int]:
    """Raises the soft limit on open files to the hard limit; returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass
class Tally:
    """What happened, for the report: counts by kind and a few examples."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, example: str = "") -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if example and len(self.examples) < 8:
            self.examples.append(f"{kind}: {example[:240]}")


@dataclass
class Visitor:
    number: int
    address: str
    ws: ClientConnection
    reader: asyncio.Task[None] | None = None


class Run:
    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["host"]
        self.port: int = int(config["port"])
        self.uri = f"ws://{self.host}:{self.port}/widget/ws?shop={config['shop_key']}"
        self.token: str = config["token"]
        self.server_pid: int = int(config["server_pid"])
        self.acks: dict[str, tuple[float, int]] = {}  # client_id -> (time, message id)
        self.sent: dict[str, float] = {}  # client_id -> send time
        self.events: dict[int, float] = {}  # message id -> time the agent got message.created
        self.frames = Tally()  # frames the visitors got besides ack (errors by code)
        self.problems = Tally()  # connection and protocol problems
        self.closed_early = 0
        self.agent_events = Tally()  # what the agent's stream carried, by event type
        self.debug_path: str | None = config.get("debug_dump")

    # --- visitors ---------------------------------------------------------------------------

    async def open_visitor(self, number: int, address: str) -> tuple[Visitor, float]:
        started = time.perf_counter()
        ws = await connect(self.uri, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, ping_interval=None,
                           proxy=None, local_addr=(address, 0), user_agent_header="balie-bench")
        try:
            await ws.send(json.dumps({"type": "hello", "token": None, "customer": None, "language": "nl"}))
            welcome = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT))
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT)
            raise
        if welcome.get("type") != "welcome":
            await ws.close()
            raise RuntimeError(f"expected welcome, got {str(welcome)[:200]}")
        visitor = Visitor(number, address, ws)
        visitor.reader = asyncio.create_task(self.read(visitor))
        return visitor, time.perf_counter() - started

    async def read(self, visitor: Visitor) -> None:
        try:
            async for raw in visitor.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    self.acks[frame["client_id"]] = (now, int(frame["message"]["id"]))
                elif kind == "error":
                    self.frames.add(f"error:{frame.get('error')}", str(frame.get("detail")))
                else:
                    self.frames.add(str(kind))
        except ConnectionClosed as closed:
            self.closed_early += 1
            self.problems.add("closed_by_server", f"visitor {visitor.number}: {closed!r}")
        except Exception as error:  # a malformed frame: report, stop reading this socket
            self.problems.add(type(error).__name__, repr(error))

    async def close_visitor(self, visitor: Visitor) -> None:
        if visitor.reader is not None:
            visitor.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await visitor.reader
        with contextlib.suppress(Exception):
            await asyncio.wait_for(visitor.ws.close(), CLOSE_TIMEOUT + 1)

    # --- the agent ----------------------------------------------------------------------------

    async def agent(self, ready: asyncio.Event) -> None:
        """GET /api/v1/events, chunked: records when each message.created arrives."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write((f"GET /api/v1/events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                          f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n").encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), OPEN_TIMEOUT)
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"GET /api/v1/events answered {status}")
            chunked = b"transfer-encoding: chunked" in head.lower()
            buffer = b""
            while True:
                if chunked:
                    size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size + 2)
                    data = data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                now = time.perf_counter()
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self.agent_frame(block, now, ready)
        finally:
            writer.close()

    def agent_frame(self, block: bytes, now: float, ready: asyncio.Event) -> None:
        kind, data = "", ""
        for line in block.decode(errors="replace").split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        self.agent_events.add(kind or "comment")
        if kind == "ready":
            ready.set()
        elif kind == "message.created":
            message_id = json.loads(data).get("message_id")
            if isinstance(message_id, int):
                self.events.setdefault(message_id, now)

    # --- phases -------------------------------------------------------------------------------

    async def open_many(self, numbers: list[int], addresses: list[str], batch: int,
                        deadline: float) -> tuple[list[Visitor], list[float]]:
        visitors: list[Visitor] = []
        timings: list[float] = []
        for start in range(0, len(numbers), batch):
            if time.perf_counter() > deadline:
                self.problems.add("ramp_deadline", f"stopped opening at {start} of {len(numbers)}")
                break
            chunk = numbers[start:start + batch]
            opened = await asyncio.gather(
                *(self.open_visitor(n, addresses[n % len(addresses)]) for n in chunk), return_exceptions=True)
            for item in opened:
                if isinstance(item, BaseException):
                    self.problems.add(f"connect:{type(item).__name__}", repr(item))
                else:
                    visitors.append(item[0])
                    timings.append(item[1])
        return visitors, timings

    async def send(self, visitor: Visitor, client_id: str, text: str) -> None:
        self.sent[client_id] = time.perf_counter()
        try:
            await visitor.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        except ConnectionClosed as closed:
            self.problems.add("send_on_closed_socket", repr(closed))

    async def wait_for(self, done: Any, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if done():
                return True
            await asyncio.sleep(0.05)
        return bool(done())


async def run(config: dict[str, Any]) -> dict[str, Any]:
    connections = int(config.get("connections", 2000))
    batch = int(config.get("batch", 100))
    per_address = int(config.get("connections_per_address", 20))
    senders_wanted = int(config.get("senders", max(1, connections // 4)))
    rate = float(config.get("rate", 100))
    duration = float(config.get("duration", 20))
    settle = float(config.get("settle", 2))
    warmup_visitors = int(config.get("warmup_visitors", 20))
    started = time.perf_counter()
    deadline = started + float(config.get("max_seconds", 150))
    fd_limit = raise_fd_limit()
    run = Run(config)
    result: dict[str, Any] = {"mode": "widget", "connections_wanted": connections, "fd_limit": list(fd_limit)}

    ready = asyncio.Event()
    agent = asyncio.create_task(run.agent(ready))
    await asyncio.wait({agent, asyncio.create_task(ready.wait())}, timeout=OPEN_TIMEOUT,
                       return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        agent.cancel()
        raise RuntimeError(f"the agent's event stream did not become ready: {agent!r}")

    # Warm-up, from addresses of their own: a few visitors say hello, send a message, leave.
    warm_addresses = [f"127.0.200.{i}" for i in range(1, 11)]
    # The first socket of a shop makes its widget settings: alone, so that later ones only read them.
    warm, _ = await run.open_many([0], warm_addresses, 1, deadline)
    more, _ = await run.open_many(list(range(1, warmup_visitors)), warm_addresses, batch, deadline)
    warm += more
    result["warmup_problems"] = dict(run.problems.counts)
    run.problems = Tally()
    for visitor in warm:
        await run.send(visitor, f"warm-{visitor.number}", "Hallo, is er iemand?")
    await run.wait_for(lambda: all(f"warm-{v.number}" in run.acks for v in warm), 15)
    await asyncio.gather(*(run.close_visitor(v) for v in warm))
    await asyncio.sleep(settle)
    result["rss_kib_idle"] = rss_kib(run.server_pid)

    # All the visitors, in batches of `batch` at once.
    count = max(1, -(-connections // per_address))
    addresses = [f"127.0.{1 + i // 250}.{2 + i % 250}" for i in range(count)]
    cpu_ramp = CpuWindow(run.server_pid)
    cpu_ramp.mark()
    ramp_started = time.perf_counter()
    visitors, hello_times = await run.open_many(list(range(connections)), addresses, batch, deadline - duration - 20)
    ramp_s = time.perf_counter() - ramp_started
    cpu_ramp.mark()
    await asyncio.sleep(settle)
    result["rss_kib_connected"] = rss_kib(run.server_pid)
    result.update(connections_open=len(visitors), source_addresses=len(addresses), ramp_s=round(ramp_s, 2),
                  hello=summarise_ms(hello_times), cpu_ramp=cpu_ramp.result())

    # The message phase: an open-loop schedule, round-robin over the senders.
    step = max(1, len(visitors) // max(1, senders_wanted))
    senders = visitors[::step][:senders_wanted]
    total = int(rate * duration)
    cpu_messages = CpuWindow(run.server_pid)
    cpu_messages.mark()
    phase_started = time.perf_counter()
    lag_max = 0.0
    client_ids: list[str] = []
    if senders:
        for i in range(total):
            due = phase_started + i / rate
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            lag_max = max(lag_max, time.perf_counter() - due)
            if time.perf_counter() > deadline - 15:
                run.problems.add("message_deadline", f"stopped sending at {i} of {total}")
                break
            visitor = senders[i % len(senders)]
            client_id = f"m-{visitor.number}-{i}"
            client_ids.append(client_id)
            text = SENTENCES[i % len(SENTENCES)]
            await run.send(visitor, client_id, text)
    send_s = time.perf_counter() - phase_started
    # Drain: wait (bounded) for the acks and the agent's events of what was sent.
    def complete() -> bool:
        return all(c in run.acks and run.acks[c][1] in run.events for c in client_ids)

    drained = await run.wait_for(complete, min(10.0, max(1.0, deadline - time.perf_counter() - 5)))
    cpu_messages.mark()
    result["rss_kib_after_messages"] = rss_kib(run.server_pid)

    ack_latency: list[float] = []
    agent_latency: list[float] = []
    acked = received = 0
    for client_id in client_ids:
        sent = run.sent[client_id]
        ack = run.acks.get(client_id)
        if ack is None:
            continue
        acked += 1
        ack_latency.append(ack[0] - sent)
        seen = run.events.get(ack[1])
        if seen is not None:
            received += 1
            agent_latency.append(seen - sent)
    # How the latencies move during the window (a queue that builds up shows here).
    slices: list[dict[str, Any]] = []
    slice_s = max(1.0, duration / 10)
    for start in range(int(duration / slice_s) + 1):
        low, high = phase_started + start * slice_s, phase_started + (start + 1) * slice_s
        inside = [c for c in client_ids if low <= run.sent[c] < high]
        if not inside:
            continue
        slice_acks = [run.acks[c][0] - run.sent[c] for c in inside if c in run.acks]
        slice_seen = [run.events[run.acks[c][1]] - run.sent[c] for c in inside
                      if c in run.acks and run.acks[c][1] in run.events]
        ack_ms, agent_ms = summarise_ms(slice_acks), summarise_ms(slice_seen)
        slices.append({"from_s": round(start * slice_s, 1), "sent": len(inside),
                       "ack_p50_ms": ack_ms.get("p50_ms"), "ack_max_ms": ack_ms.get("max_ms"),
                       "agent_p50_ms": agent_ms.get("p50_ms"), "agent_max_ms": agent_ms.get("max_ms")})
    if run.debug_path:
        with open(run.debug_path, "w") as out:
            json.dump({"phase_started": phase_started, "sent": run.sent, "acks": run.acks,
                       "events": {str(k): v for k, v in run.events.items()}}, out)
    result.update(
        agent_events=run.agent_events.counts,
        slices=slices,
        senders=len(senders), rate_wanted=rate, duration_s=duration, messages_sent=len(client_ids),
        send_window_s=round(send_s, 2), rate_sent=round(len(client_ids) / send_s, 1) if send_s else 0.0,
        schedule_lag_max_ms=round(1000 * lag_max, 1), messages_acked=acked, messages_to_agent=received,
        messages_lost=len(client_ids) - received, drained=drained,
        ack_latency=summarise_ms(ack_latency), agent_latency=summarise_ms(agent_latency),
        cpu_messages=cpu_messages.result(),
    )

    # Everyone leaves; the server's memory after they have gone.
    alive_before_close = sum(1 for v in visitors if v.reader is not None and not v.reader.done())
    closing = time.perf_counter()
    for start in range(0, len(visitors), 500):
        await asyncio.gather(*(run.close_visitor(v) for v in visitors[start:start + 500]))
    agent.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await agent
    await asyncio.sleep(settle)
    result.update(
        rss_kib_after_close=rss_kib(run.server_pid), close_s=round(time.perf_counter() - closing, 2),
        connections_alive_at_end=alive_before_close, closed_by_server=run.closed_early,
        frames=run.frames.counts, problems=run.problems.counts,
        examples=run.frames.examples + run.problems.examples,
        connect_errors=sum(n for k, n in run.problems.counts.items() if k.startswith("connect:")),
        total_s=round(time.perf_counter() - started, 1),
    )
    return result


def main() -> int:
    config = json.load(sys.stdin)
    cap = float(config.get("max_seconds", 150)) + 30
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(asyncio.wait_for(run(config), cap))
    else:
        result = uvloop.run(asyncio.wait_for(run(config), cap))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
