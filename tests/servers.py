"""Real `balie` processes for tests: started on a free loopback port, ready when uvicorn says so;
and a small HTTP server of a test's own (a webhook receiver, a platform's API) on loopback."""

from __future__ import annotations

import http.server
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie.scheduling.models import DueJob

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def balie(*args: str, env: dict[str, str]) -> str:
    """Run a `balie` command to completion and return what it printed."""
    result = subprocess.run([sys.executable, "-m", "balie.cli", *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"balie {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: list[str]


def _drain(stream: IO[str], log: list[str], keep: int = 2000) -> None:
    for line in stream:
        log.append(line)
        if len(log) > keep:
            del log[: len(log) - keep]


@contextmanager
def serving(env: dict[str, str], *extra: str, timeout: float = 60, port: int | None = None) -> Iterator[Server]:
    """`balie serve` on a free port (or `port`, to start it again where it was); its SMTP
    receiver stays off unless env sets BALIE_SMTP_LISTEN."""
    port = port or free_port()
    env = {"BALIE_SMTP_LISTEN": "", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "balie.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    log: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while not any("Application startup complete" in line for line in log):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None or not selector.select(remaining):
                raise AssertionError("balie serve did not start:\n" + "".join(log))
            log.append(process.stdout.readline())
        selector.close()
        # Keep reading: a pipe nobody empties fills up with access logs and stalls the server.
        threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
        yield Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class WorkerProcess:
    process: subprocess.Popen[str]
    log: list[str]


@contextmanager
def working(env: dict[str, str], timeout: float = 60) -> Iterator[WorkerProcess]:
    """`balie worker`, ready once it says so; stopped (or reaped, when a test killed it) on exit."""
    process = subprocess.Popen([sys.executable, "-m", "balie.cli", "worker"], env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    log: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while not any("Balie worker started." in line for line in log):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None or not selector.select(remaining):
                raise AssertionError("balie worker did not start:\n" + "".join(log))
            log.append(process.stdout.readline())
        selector.close()
        threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
        yield WorkerProcess(process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def job_states(factory: sessionmaker[Session], shop_id: int) -> dict[str, int]:
    """How many of the shop's due jobs are in each state."""
    with factory() as session:
        rows = session.execute(select(DueJob.state, func.count()).where(DueJob.shop_id == shop_id)
                               .group_by(DueJob.state)).all()
        return {state: count for state, count in rows}


def poll(read: Callable[[], T], enough: Callable[[T], bool], deadline: float) -> T:
    """Reads until `enough` says so or the deadline passes: what a test does while real worker
    processes work (a 10 ms pause between reads, never a fixed sleep standing for "long enough")."""
    while True:
        value = read()
        if enough(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean of its access log."""

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_on_loopback(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serves `handler` on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
